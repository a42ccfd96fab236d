"""A NUL character in any text of a request is bad input: a 422 naming the field that
changes nothing, on SQLite and PostgreSQL alike (PostgreSQL cannot store NUL in text, and
answered such a request with a 500)."""

from __future__ import annotations

import pytest

from ledger import queries
from ledger.db import read_only
from ledger.models import Order
from sqlalchemy import func, select


def refused(resp, field):
    assert resp.status_code == 422, (resp.status_code, resp.get_json())
    error = resp.get_json()["error"]
    assert error["code"] == "invalid_request" and error["field"] == field, error
    assert "NUL" in error["message"]


ORDER = {"id": "SO-1", "region": "NE", "lines": [{"sku": "A", "qty": 1}]}


@pytest.mark.parametrize("body, field", [
    ({**ORDER, "id": "SO-\u00001"}, "id"),
    ({**ORDER, "customer_ref": "a\u0000b"}, "customer_ref"),
    ({**ORDER, "lines": [{"sku": "A", "qty": 1}, {"sku": "B\u0000", "qty": 1}]}, "lines[1].sku"),
])
def test_an_order_with_a_nul_is_refused_and_nothing_is_stored(client, admin, sessions,
                                                               body, field):
    refused(client.post("/api/v1/orders", json=body, headers=admin), field)
    with read_only(sessions) as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 0


def test_a_hold_reason_with_a_nul_posts_nothing(client, admin, sessions):
    resp = client.post("/api/v1/inventory/holds", headers=admin,
                       json={"sku": "A", "node": "N1", "qty": 1, "reason": "wet\u0000"})
    refused(resp, "reason")
    with read_only(sessions) as s:
        assert [b.hold for b in queries.balances(s, sku="A", node="N1")] == [0]


def test_a_nul_in_the_path_or_the_query_string(client, admin):
    refused(client.get("/api/v1/inventory/A%00", headers=admin), "sku")
    refused(client.get("/api/v1/orders/SO%001", headers=admin), "order_id")
    refused(client.get("/api/v1/exceptions?sku=A%00", headers=admin), "sku")


def test_a_nul_in_a_key_of_the_body(client, admin):
    resp = client.post("/api/v1/inventory/counts", headers=admin,
                       json={"sku": "A", "node": "N1", "counted": 1, "x\u0000": 1})
    refused(resp, "x\u0000")
