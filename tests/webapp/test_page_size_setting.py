"""README: ``STOCKROUTE_MAX_PAGE_SIZE`` is the most items one page of a listing returns.
It was read into the config and then never used: setting it changed nothing. It may lower
the API's page-size cap of 500 (a larger ``limit`` is a 422 naming it, never a silently
short page), not raise it."""

from __future__ import annotations

import pytest

from ledger.access import create_token
from ledger.db import unit_of_work
from ledger.movements import Movement
from ledger.posting import post
from tests.ledger.helpers import make_world
from webapp import create_app
from webapp.config import TestConfig, max_page_size


@pytest.fixture
def client(database_url, sessions, monkeypatch):
    monkeypatch.setenv("STOCKROUTE_MAX_PAGE_SIZE", "3")
    app = create_app(TestConfig(DATABASE_URL=database_url))
    make_world(sessions)
    with unit_of_work(sessions) as s:
        post(s, [Movement("count_gain", "A", 1, "N1") for _ in range(5)])
        _, plaintext = create_token(s, "ops", ["admin"])
    c = app.test_client()
    c.h = {"Authorization": f"Bearer {plaintext}"}
    yield c
    app.extensions["stockroute.db"]["engine"].dispose()


@pytest.mark.parametrize("path", ["/api/v1/inventory/A/N1/movements", "/api/v1/exceptions",
                                  "/api/v1/purchase-orders", "/api/v1/scenarios/runs"])
def test_a_limit_above_the_setting_is_refused_naming_it(client, path):
    resp = client.get(f"{path}?limit=4", headers=client.h)
    assert resp.status_code == 422, resp.get_json()
    error = resp.get_json()["error"]
    assert error["field"] == "limit" and "STOCKROUTE_MAX_PAGE_SIZE" in error["message"]
    assert "3" in error["message"]
    assert client.get(f"{path}?limit=3", headers=client.h).status_code == 200


def test_the_default_page_is_cut_to_the_setting_with_a_next_page(client):
    resp = client.get("/api/v1/inventory/A/N1/movements", headers=client.h)
    assert resp.status_code == 200
    page = resp.get_json()
    assert len(page["items"]) == 3 and page["next_before_id"] is not None


def test_the_setting_is_checked_at_start(monkeypatch):
    monkeypatch.delenv("STOCKROUTE_MAX_PAGE_SIZE", raising=False)
    assert max_page_size() == 500
    monkeypatch.setenv("STOCKROUTE_MAX_PAGE_SIZE", "100")
    assert max_page_size() == 100
    for bad in ("0", "501", "ten"):
        monkeypatch.setenv("STOCKROUTE_MAX_PAGE_SIZE", bad)
        with pytest.raises(ValueError, match="STOCKROUTE_MAX_PAGE_SIZE"):
            max_page_size()
