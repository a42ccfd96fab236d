"""The order-operations API, driven over HTTP with real tokens on real databases."""

from __future__ import annotations

import pytest

from ledger.access import create_token
from ledger.db import read_only, unit_of_work
from ledger import queries
from webapp import create_app
from webapp.config import TestConfig
from tests.webapp.test_orders_service import world


@pytest.fixture
def client(database_url, sessions):
    app = create_app(TestConfig(DATABASE_URL=database_url))
    world(sessions, {("A", "N1"): 5, ("B", "N2"): 2})
    with unit_of_work(sessions) as s:
        _, writer = create_token(s, "storefront", ["orders:write", "orders:read",
                                                   "inventory:write", "inventory:read",
                                                   "purchasing:write", "purchasing:read",
                                                   "exceptions:read", "exceptions:write"])
        _, reader = create_token(s, "reporting", ["inventory:read"])
    c = app.test_client()
    c.writer = {"Authorization": f"Bearer {writer}"}
    c.reader = {"Authorization": f"Bearer {reader}"}
    return c


ORDER = {"id": "SO-1", "region": "NE", "lines": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}]}


def test_posting_an_order_routes_and_reserves_it(client, sessions):
    r = client.post("/api/v1/orders", json=ORDER, headers={**client.writer, "Idempotency-Key": "k1"})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["status"] == "routed"
    assert sorted((s["node"], s["lines"][0]["sku"]) for s in body["shipments"]) == [
        ("N1", "A"), ("N2", "B")]
    assert all(s["explanation"] for s in body["shipments"])
    with read_only(sessions) as s:
        assert queries.balances(s, sku="A", node="N1")[0].reserved == 2
    got = client.get("/api/v1/orders/SO-1", headers=client.writer).get_json()
    assert got["id"] == "SO-1" and [h["to"] for h in got["history"]] == ["received", "routed"]
    # the same instants, with their UTC offset, whether answered at intake or read back
    assert got["created_at"] == body["created_at"] and got["created_at"].endswith("+00:00")
    assert [h["at"] for h in got["history"]] == [h["at"] for h in body["history"]]


def test_a_retry_returns_the_first_answer_and_another_body_with_the_key_is_refused(client, sessions):
    h = {**client.writer, "Idempotency-Key": "k1"}
    first = client.post("/api/v1/orders", json=ORDER, headers=h)
    again = client.post("/api/v1/orders", json=ORDER, headers=h)
    assert again.status_code == 201 and again.get_json() == first.get_json()
    with read_only(sessions) as s:
        assert queries.balances(s, sku="A", node="N1")[0].reserved == 2  # applied once
    other = client.post("/api/v1/orders", json={**ORDER, "id": "SO-2"}, headers=h)
    assert other.status_code == 409  # a conflict with the first request, as docs/api.md says
    assert other.get_json()["error"]["code"] == "idempotency_conflict"
    assert other.get_json()["error"]["field"] == "idempotency_key"


def test_bad_orders_get_a_4xx_naming_the_field_and_change_nothing(client, sessions):
    cases = [
        ({**ORDER, "lines": [{"sku": "A", "qty": 0}]}, 422, "lines[0].qty"),
        ({**ORDER, "lines": [{"sku": "NOPE", "qty": 1}]}, 422, "lines[0].sku"),
        ({**ORDER, "channel": "fax"}, 422, "channel"),
        ({**ORDER, "colour": "red"}, 422, "colour"),
        ({k: v for k, v in ORDER.items() if k != "region"}, 422, "region"),
    ]
    for body, status, field in cases:
        r = client.post("/api/v1/orders", json=body, headers=client.writer)
        assert r.status_code == status, (body, r.get_json())
        assert r.get_json()["error"]["field"] == field
    with read_only(sessions) as s:
        assert queries.balances(s, sku="A", node="N1")[0].reserved == 0
    assert client.post("/api/v1/orders", data="{", headers={**client.writer,
                       "Content-Type": "application/json"}).status_code == 400


def test_tokens_without_the_scope_or_without_a_token_are_refused(client):
    assert client.post("/api/v1/orders", json=ORDER).status_code == 401
    r = client.post("/api/v1/orders", json=ORDER, headers=client.reader)
    assert r.status_code == 403 and r.get_json()["error"]["code"]


def test_the_lifecycle_over_http(client, sessions):
    order = client.post("/api/v1/orders", json=ORDER, headers=client.writer).get_json()
    assert client.post("/api/v1/orders/SO-1/release", headers=client.writer).status_code == 200
    sid = order["shipments"][0]["id"]
    shipped = client.post(f"/api/v1/orders/SO-1/shipments/{sid}/ship",
                          json={"carrier": "UPS", "tracking": "1Z9"}, headers=client.writer)
    assert shipped.status_code == 200
    cancel = client.post("/api/v1/orders/SO-1/cancel", json={}, headers=client.writer)
    if len(order["shipments"]) > 1:  # partly shipped: the rest is cancelled, shipped units stay
        assert cancel.status_code == 200 and cancel.get_json()["status"] == "shipped"
        cancel = client.post("/api/v1/orders/SO-1/cancel", json={}, headers=client.writer)
    assert cancel.status_code == 409 and cancel.get_json()["error"]["code"] == "invalid_transition"
    assert client.get("/api/v1/orders/NOPE", headers=client.writer).status_code == 404


def test_a_backorder_is_filled_when_a_count_finds_stock(client, sessions):
    r = client.post("/api/v1/orders", json={"id": "SO-9", "region": "NE",
                                            "lines": [{"sku": "B", "qty": 4}]},
                    headers=client.writer).get_json()
    assert r["status"] == "backordered" and r["backorders"][0]["reason"] == "no_stock"
    queue = client.get("/api/v1/exceptions?kind=backorder", headers=client.writer).get_json()
    assert [e["order"] for e in queue["items"]] == ["SO-9"]
    counted = client.post("/api/v1/inventory/counts",
                          json={"sku": "B", "node": "N1", "counted": 10}, headers=client.writer)
    waiting = r["backorders"][0]["qty"]
    assert counted.status_code == 200 and counted.get_json()["rerouted"]["units_filled"] == waiting
    order = client.get("/api/v1/orders/SO-9", headers=client.writer).get_json()
    assert order["status"] == "routed" and order["backorders"] == []


def test_routing_plan_endpoint_plans_without_reserving_and_names_bad_fields(client, sessions):
    problem = {"nodes": [{"id": "N1"}], "inventory": [{"node": "N1", "sku": "A", "available": 3}],
               "lanes": [{"node": "N1", "region": "NE", "service": "standard",
                          "cost_per_shipment": 5, "cost_per_unit": 1, "transit_days": 2}],
               "orders": [{"id": "X", "region": "NE", "lines": [{"sku": "A", "qty": 2}]}],
               "policy": {}}
    r = client.post("/api/v1/routing/plan", json=problem, headers=client.writer)
    assert r.status_code == 200 and r.get_json()["objective"] == pytest.approx(7.0)
    bad = {**problem, "inventory": [{"node": "NOWHERE", "sku": "A", "available": 3}]}
    r = client.post("/api/v1/routing/plan", json=bad, headers=client.writer)
    assert r.status_code == 422 and r.get_json()["error"]["field"].startswith("inventory[0]")
    with read_only(sessions) as s:
        assert queries.balances(s, sku="A", node="N1")[0].reserved == 0


def test_reoptimize_dry_run_changes_nothing(client, sessions):
    client.post("/api/v1/orders", json=ORDER, headers=client.writer)
    r = client.post("/api/v1/routing/reoptimize", json={"dry_run": True}, headers=client.writer)
    assert r.status_code == 200 and r.get_json()["orders"] == 1
    with read_only(sessions) as s:
        assert queries.balances(s, sku="A", node="N1")[0].reserved == 2


def test_every_api_route_is_in_the_openapi_document(client):
    doc = client.get("/api/openapi.json").get_json()
    for path in ("/api/v1/orders", "/api/v1/orders/{order_id}", "/api/v1/routing/plan",
                 "/api/v1/purchase-orders/approve", "/api/v1/exceptions"):
        assert path in doc["paths"], path


def test_the_replenishment_plan_endpoint_plans_and_names_bad_fields(client):
    problem = {"periods": 4, "skus": [{"sku": "A", "holding_cost": 0.1, "backlog_cost": 2}],
               "nodes": [{"id": "N1"}],
               "positions": [{"sku": "A", "node": "N1", "on_hand": 0}],
               "demand": [{"sku": "A", "node": "N1", "period": 2, "qty": 10}],
               "suppliers": [{"id": "S", "lead_time_periods": 1}],
               "supplier_items": [{"supplier": "S", "sku": "A", "unit_cost": 1.0}],
               "policy": {"time_limit_seconds": 5}}
    r = client.post("/api/v1/replenishment/plan", json=problem, headers=client.writer)
    assert r.status_code == 200, r.get_json()
    assert sum(o["qty"] for o in r.get_json()["orders"]) == 10
    bad = {**problem, "demand": [{"sku": "A", "node": "N1", "period": 9, "qty": 10}]}
    r = client.post("/api/v1/replenishment/plan", json=bad, headers=client.writer)
    assert r.status_code == 422 and r.get_json()["error"]["field"].startswith("demand[0]")


def test_a_request_whose_key_is_still_in_flight_gets_409_and_a_stale_one_is_taken_over(
        client, sessions):
    import datetime as dt

    from sqlalchemy import update

    from ledger.models import IdempotencyRecord, utcnow
    from webapp.services import idempotency
    from webapp.services.orders import OrderIn
    payload = OrderIn.model_validate(ORDER).model_dump(mode="json")
    assert idempotency.claim(sessions, "k-busy", "orders", payload) is None  # in flight
    h = {**client.writer, "Idempotency-Key": "k-busy"}
    r = client.post("/api/v1/orders", json=ORDER, headers=h)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "idempotency_in_progress"
    with read_only(sessions) as s:
        assert queries.balances(s, sku="A", node="N1")[0].reserved == 0
    with unit_of_work(sessions) as s:  # the worker holding it died long ago
        s.execute(update(IdempotencyRecord).where(IdempotencyRecord.key == "k-busy")
                  .values(created_at=utcnow() - dt.timedelta(minutes=5)))
    r = client.post("/api/v1/orders", json=ORDER, headers=h)
    assert r.status_code == 201 and r.get_json()["status"] == "routed"
    again = client.post("/api/v1/orders", json=ORDER, headers=h)
    assert again.status_code == 201 and again.get_json() == r.get_json()
