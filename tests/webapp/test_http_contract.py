"""What docs/api.md promises every endpoint: solve-time and body limits, integers
a database can hold, status codes, paging by id, and order bodies as strict as
the routing contract. Driven over HTTP on real databases."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

from ledger import queries
from ledger.access import create_token
from ledger.db import read_only, unit_of_work
from ledger.errors import (
    IdempotencyConflict, InsufficientStock, LedgerError, NotFound, UnknownSku,
)
from ledger.models import Order
from webapp.config import max_solve_seconds
from webapp.errors import ledger_status
from webapp.services.scenarios import store_run
from tests.webapp.test_orders_api import ORDER, client  # noqa: F401  (the fixture)
from tests.webapp.test_purchasing_and_inventory_services import draft

ROOT = Path(__file__).resolve().parents[2]
BIG = "99999999999999999999999"  # beyond a 64-bit integer
LARGE_BUT_FITS = str(2**62)

PROBLEM = {"nodes": [{"id": "N1"}], "inventory": [{"node": "N1", "sku": "A", "available": 3}],
           "lanes": [{"node": "N1", "region": "NE", "service": "standard",
                      "cost_per_shipment": 5, "cost_per_unit": 1, "transit_days": 2}],
           "orders": [{"id": "X", "region": "NE", "lines": [{"sku": "A", "qty": 2}]}]}
REPLENISHMENT = {"periods": 4, "skus": [{"sku": "A", "holding_cost": 0.1, "backlog_cost": 2}],
                 "nodes": [{"id": "N1"}], "positions": [{"sku": "A", "node": "N1", "on_hand": 0}],
                 "demand": [{"sku": "A", "node": "N1", "period": 2, "qty": 10}],
                 "suppliers": [{"id": "S", "lead_time_periods": 1}],
                 "supplier_items": [{"supplier": "S", "sku": "A", "unit_cost": 1.0}]}


@pytest.fixture
def admin(client, sessions):
    with unit_of_work(sessions) as s:
        _, token = create_token(s, "ops", ["admin"])
    return {"Authorization": f"Bearer {token}"}


def error(resp) -> dict:
    assert resp.mimetype == "application/json", resp.get_data(as_text=True)[:200]
    return resp.get_json()["error"]


def orders_stored(sessions) -> int:
    with read_only(sessions) as s:
        return s.query(Order).count()


# ---------------------------------------------------------------- solve time

def test_solves_longer_than_a_request_may_take_are_refused_naming_the_field(client):
    limit = client.application.config["MAX_SOLVE_SECONDS"]
    assert limit == 30.0
    long_plan = {**PROBLEM, "policy": {"time_limit_seconds": 75}}
    r = client.post("/api/v1/routing/plan", json=long_plan, headers=client.writer)
    assert r.status_code == 422
    assert error(r)["field"] == "policy.time_limit_seconds"
    assert "STOCKROUTE_MAX_SOLVE_SECONDS" in error(r)["message"]
    at_limit = {**PROBLEM, "policy": {"time_limit_seconds": limit}}
    assert client.post("/api/v1/routing/plan", json=at_limit,
                       headers=client.writer).status_code == 200
    r = client.post("/api/v1/routing/reoptimize", json={"time_limit_seconds": 120},
                    headers=client.writer)
    assert r.status_code == 422 and error(r)["field"] == "time_limit_seconds"
    r = client.post("/api/v1/replenishment/plan",
                    json={**REPLENISHMENT, "policy": {"time_limit_seconds": 600}},
                    headers=client.writer)
    assert r.status_code == 422 and error(r)["field"] == "policy.time_limit_seconds"


def test_the_solve_limit_is_configurable_but_stays_below_the_worker_timeout(monkeypatch):
    monkeypatch.delenv("STOCKROUTE_MAX_SOLVE_SECONDS", raising=False)
    monkeypatch.setenv("STOCKROUTE_WORKER_TIMEOUT", "120")
    assert max_solve_seconds() == 30.0
    monkeypatch.setenv("STOCKROUTE_MAX_SOLVE_SECONDS", "100")
    assert max_solve_seconds() == 100.0
    monkeypatch.setenv("STOCKROUTE_MAX_SOLVE_SECONDS", "110")  # 120 s - 15 s margin = 105
    with pytest.raises(ValueError, match="STOCKROUTE_MAX_SOLVE_SECONDS"):
        max_solve_seconds()
    monkeypatch.delenv("STOCKROUTE_MAX_SOLVE_SECONDS")
    monkeypatch.setenv("STOCKROUTE_WORKER_TIMEOUT", "30")
    assert max_solve_seconds() == 15.0  # the default shrinks with a short timeout


def test_gunicorn_takes_its_timeout_from_the_same_setting_and_refuses_an_unsafe_pair(
        monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.delenv("STOCKROUTE_MAX_SOLVE_SECONDS", raising=False)
    monkeypatch.delenv("STOCKROUTE_WORKER_TIMEOUT", raising=False)
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert conf["timeout"] == 60 and max_solve_seconds() <= conf["timeout"] - 15
    monkeypatch.setenv("STOCKROUTE_WORKER_TIMEOUT", "300")
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["timeout"] == 300
    monkeypatch.setenv("STOCKROUTE_WORKER_TIMEOUT", "60")
    monkeypatch.setenv("STOCKROUTE_MAX_SOLVE_SECONDS", "75")
    with pytest.raises(ValueError):
        runpy.run_path(str(ROOT / "gunicorn.conf.py"))


# ---------------------------------------------------------------- body size

def test_a_4000_order_routing_problem_fits_the_default_body_limit(client):
    orders = [{"id": f"SO-{i}", "region": "NE", "service": "standard", "channel": "web",
               "ship_complete": False, "max_shipments": None, "max_transit_days": None,
               "backorder_penalty_per_unit": None,
               "lines": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}] * 3}
              for i in range(4000)]
    problem = {**PROBLEM, "orders": orders, "policy": {"strategy": "greedy"}}
    body = json.dumps(problem)
    assert len(body) > 1 << 20  # over the old, undocumented 1 MiB
    r = client.post("/api/v1/routing/plan", data=body, content_type="application/json",
                    headers=client.writer)
    assert r.status_code == 200, r.get_json()
    assert client.application.config["MAX_CONTENT_LENGTH"] == 16 * 1024 * 1024


# ---------------------------------------------------------------- integers

def test_numbers_beyond_a_database_integer_are_refused_naming_the_field(client, admin):
    cases = [
        ("get", f"/api/v1/inventory/A/N1/movements?before_id={BIG}", None, 422, "before_id"),
        ("get", f"/api/v1/exceptions?before_id={BIG}", None, 422, "before_id"),
        ("get", f"/api/v1/purchase-orders?offset={BIG}", None, 422, "offset"),
        ("get", f"/api/v1/purchase-orders?before_id={BIG}", None, 422, "before_id"),
        ("get", f"/api/v1/scenarios/runs?before_id={BIG}", None, 422, "before_id"),
        ("post", f"/api/v1/exceptions/{BIG}/resolve", {"note": "x"}, 404, "exception_id"),
        ("post", f"/api/v1/exceptions/{BIG}/acknowledge", None, 404, "exception_id"),
        ("get", f"/api/v1/scenarios/runs/{BIG}", None, 404, "run_id"),
        ("get", f"/api/v1/scenarios/compare?ids={BIG},1", None, 404, "ids"),
        ("post", "/api/v1/returns", {"order": "SO-1", "line": int(BIG), "qty": 1,
                                     "reason": "x"}, 422, "line"),
    ]
    for method, url, body, status, field in cases:
        r = getattr(client, method)(url, json=body, headers=admin)
        assert r.status_code == status, (url, r.get_data(as_text=True)[:300])
        assert error(r)["field"] == field, url


def test_large_ids_that_fit_are_simply_not_found(client, admin):
    for url in (f"/api/v1/inventory/A/N1/movements?before_id={LARGE_BUT_FITS}",
                f"/api/v1/exceptions?before_id={LARGE_BUT_FITS}",
                f"/api/v1/purchase-orders?before_id={LARGE_BUT_FITS}&offset={LARGE_BUT_FITS}",
                f"/api/v1/scenarios/runs?before_id={LARGE_BUT_FITS}"):
        r = client.get(url, headers=admin)
        assert r.status_code == 200, (url, r.get_json())
    r = client.get(f"/api/v1/scenarios/runs/{LARGE_BUT_FITS}", headers=admin)
    assert r.status_code == 404 and error(r)["code"] == "not_found"
    r = client.post(f"/api/v1/exceptions/{LARGE_BUT_FITS}/resolve", json={"note": "x"},
                    headers=admin)
    assert r.status_code == 404


# ---------------------------------------------------------------- status codes

def test_domain_errors_map_to_the_documented_statuses():
    assert ledger_status(LedgerError("bad", field="to_node")) == (422, "invalid_request")
    assert ledger_status(IdempotencyConflict("k")) == (409, "idempotency_conflict")
    assert ledger_status(NotFound("x")) == (404, "not_found")
    assert ledger_status(UnknownSku("x")) == (422, "unknown_sku")
    assert ledger_status(InsufficientStock([]))[0] == 409


def test_invalid_values_found_by_the_services_are_422_naming_the_field(client, sessions, admin):
    r = client.get("/api/v1/exceptions?status=bogus", headers=admin)
    assert r.status_code == 422 and error(r)["field"] == "status"
    assert error(r)["code"] == "invalid_request"
    r = client.post("/api/v1/inventory/transfers", headers=admin,
                    json={"sku": "A", "from_node": "N1", "to_node": "N1", "qty": 1})
    assert r.status_code == 422 and error(r)["field"] == "to_node"
    # a snooze without a UTC offset
    client.post("/api/v1/orders", json={"id": "SO-9", "region": "NE",
                                        "lines": [{"sku": "B", "qty": 4}]}, headers=admin)
    (item,) = client.get("/api/v1/exceptions", headers=admin).get_json()["items"]
    r = client.post(f"/api/v1/exceptions/{item['id']}/snooze",
                    json={"until": "2026-12-01T10:00:00"}, headers=admin)
    assert r.status_code == 422 and error(r)["field"] == "until"
    # a return of more than was shipped
    order = client.post("/api/v1/orders", json=ORDER, headers=admin).get_json()
    client.post("/api/v1/orders/SO-1/release", headers=admin)
    for shipment in order["shipments"]:
        client.post(f"/api/v1/orders/SO-1/shipments/{shipment['id']}/ship", json={},
                    headers=admin)
    r = client.post("/api/v1/returns", json={"order": "SO-1", "line": 0, "qty": 99,
                                             "reason": "x"}, headers=admin)
    assert r.status_code == 422 and error(r)["field"] == "qty"
    r = client.post("/api/v1/returns", json={"order": "SO-1", "line": 7, "qty": 1,
                                             "reason": "x"}, headers=admin)
    assert r.status_code == 422 and error(r)["field"] == "line"
    # a receipt of a SKU the purchase order does not have
    draft(sessions, "PO-1", lines=(("A", 10),))
    assert client.post("/api/v1/purchase-orders/approve", json={"codes": ["PO-1"]},
                       headers=admin).status_code == 200
    r = client.post("/api/v1/purchase-orders/PO-1/receipts",
                    json={"lines": [{"sku": "B", "qty": 1}]}, headers=admin)
    assert r.status_code == 422 and error(r)["field"] == "lines[0].sku"
    with read_only(sessions) as s:
        assert queries.balances(s, sku="B", node="N1") == []  # nothing received
        assert queries.balances(s, sku="A", node="N1")[0].inbound == 10


# ---------------------------------------------------------------- paging

def test_purchase_orders_page_by_before_id_and_offset_still_works(client, sessions, admin):
    for code in ("PO-1", "PO-2", "PO-3"):
        draft(sessions, code, lines=(("A", 1),))
    first = client.get("/api/v1/purchase-orders?limit=2", headers=admin).get_json()
    assert [p["code"] for p in first["items"]] == ["PO-3", "PO-2"]  # newest first
    assert first["next_before_id"] == first["items"][-1]["id"]
    last = client.get(f"/api/v1/purchase-orders?limit=2&before_id={first['next_before_id']}",
                      headers=admin).get_json()
    assert [p["code"] for p in last["items"]] == ["PO-1"] and last["next_before_id"] is None
    old = client.get("/api/v1/purchase-orders?limit=1&offset=1", headers=admin).get_json()
    assert [p["code"] for p in old["items"]] == ["PO-2"]
    default = client.get("/api/v1/purchase-orders", headers=admin).get_json()
    assert len(default["items"]) == 3 and default["next_before_id"] is None


def test_scenario_runs_page_by_before_id(client, sessions, admin):
    with unit_of_work(sessions) as s:
        for name in ("r1", "r2", "r3"):
            store_run(s, name=name, scenario={}, summary={}, runs=1, seconds=1.0,
                      report_dir=None)
    first = client.get("/api/v1/scenarios/runs?limit=2", headers=admin).get_json()
    assert [r["name"] for r in first["items"]] == ["r3", "r2"]
    nxt = client.get(f"/api/v1/scenarios/runs?limit=2&before_id={first['next_before_id']}",
                     headers=admin).get_json()
    assert [r["name"] for r in nxt["items"]] == ["r1"] and nxt["next_before_id"] is None
    r = client.get("/api/v1/scenarios/runs?limit=501", headers=admin)
    assert r.status_code == 422 and error(r)["field"] == "limit"


# ---------------------------------------------------------------- orders

def test_orders_are_as_strict_about_types_as_the_routing_contract(client, sessions):
    line = ORDER["lines"][0]
    cases = [
        ({"lines": [{**line, "qty": "2"}]}, "lines[0].qty"),
        ({"lines": [{**line, "qty": True}]}, "lines[0].qty"),
        ({"lines": [{**line, "qty": 2.0}]}, "lines[0].qty"),
        ({"priority": "5"}, "priority"),
        ({"ship_complete": "yes"}, "ship_complete"),
        ({"backorder_penalty_per_unit": "NaN"}, "backorder_penalty_per_unit"),
        ({"backorder_penalty_per_unit": 1e308}, "backorder_penalty_per_unit"),
        ({"backorder_penalty_per_unit": True}, "backorder_penalty_per_unit"),
        ({"lines": [line] * 51}, "lines"),  # the router's limit per order
    ]
    for extra, field in cases:
        r = client.post("/api/v1/orders", json={**ORDER, **extra}, headers=client.writer)
        assert r.status_code == 422, (extra, r.get_json())
        assert error(r)["field"] == field, extra
    for raw in ("1e400", "Infinity", "NaN", "-Infinity"):  # JSON extensions Python reads
        body = json.dumps(ORDER)[:-1] + f', "backorder_penalty_per_unit": {raw}}}'
        r = client.post("/api/v1/orders", data=body, content_type="application/json",
                        headers=client.writer)
        assert r.status_code == 422, (raw, r.get_json())
        assert error(r)["field"] == "backorder_penalty_per_unit"
    assert orders_stored(sessions) == 0
    ok = client.post("/api/v1/orders", json={**ORDER, "backorder_penalty_per_unit": 5,
                                             "promised_date": "2026-12-01"},
                     headers=client.writer)
    assert ok.status_code == 201 and ok.get_json()["promised_date"] == "2026-12-01"


def test_a_region_or_service_no_lane_serves_is_refused_not_backordered(client, sessions):
    r = client.post("/api/v1/orders", json={**ORDER, "region": "ZZ"}, headers=client.writer)
    assert r.status_code == 422
    assert (error(r)["field"], error(r)["code"]) == ("region", "unknown_region")
    r = client.post("/api/v1/orders", json={**ORDER, "service": "warp"}, headers=client.writer)
    assert r.status_code == 422
    assert (error(r)["field"], error(r)["code"]) == ("service", "unknown_service")
    assert "standard" in error(r)["message"]  # says what is served
    assert orders_stored(sessions) == 0
    with read_only(sessions) as s:
        assert queries.balances(s, sku="A", node="N1")[0].reserved == 0


# ---------------------------------------------------------------- error shape

def test_errors_are_json_unless_a_browser_asks_for_a_page(client):
    for accept in ("*/*", "application/json", None):
        headers = {"Accept": accept} if accept else {}
        r = client.get("/no-such-page", headers=headers)
        assert r.status_code == 404 and error(r)["code"] == "not_found", accept
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    page = client.get("/no-such-page", headers={"Accept": browser})
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_a_routing_problem_with_many_errors_lists_at_most_20_details(client):
    # docs/api.md: details lists validation errors, at most 20. A 16 MiB problem whose
    # inventory names an unknown node answered with one entry per row (300,000 of them).
    bad = {**PROBLEM, "inventory": [{"node": "NOWHERE", "sku": f"S{i}", "available": 1}
                                    for i in range(50)]}
    r = client.post("/api/v1/routing/plan", json=bad, headers=client.writer)
    assert r.status_code == 422
    body = error(r)
    assert body["code"] == "invalid_problem" and body["field"] == "inventory[0].node"
    assert [d["field"] for d in body["details"]] == [f"inventory[{i}].node" for i in range(20)]


def test_a_replenishment_problem_with_many_errors_lists_at_most_20_details(client):
    # docs/api.md: details lists validation errors, at most 20; this endpoint listed all.
    bad = {**REPLENISHMENT, "demand": [{"sku": "A", "node": "NOWHERE", "period": 0, "qty": 1}
                                       for _ in range(50)]}
    r = client.post("/api/v1/replenishment/plan", json=bad, headers=client.writer)
    assert r.status_code == 422
    body = error(r)
    assert body["code"] == "invalid_problem" and body["field"] == "demand[0].node"
    assert [d["field"] for d in body["details"]] == [f"demand[{i}].node" for i in range(20)]


def test_api_md_lists_every_route_of_the_openapi_document(client):
    text = (ROOT / "docs" / "api.md").read_text()
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for path, ops in paths.items():
        for method in ops:
            row = f"| `{method.upper()} {path.removeprefix('/api/v1')}` |"
            assert row in text, row
