"""The planning endpoints answer degenerate but valid problems with a plan, not a 500."""

from __future__ import annotations

from tests.webapp.test_orders_api import client  # noqa: F401  (the fixture)


def test_routing_plan_of_an_empty_batch_is_an_empty_optimal_plan(client):  # noqa: F811
    problem = {"nodes": [{"id": "N1"}], "inventory": [], "lanes": [], "orders": []}
    r = client.post("/api/v1/routing/plan", json=problem, headers=client.writer)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["status"], body["objective"], body["bound"]) == ("optimal", 0.0, 0.0)
    assert body["shipments"] == [] and body["backorders"] == []


def test_replenishment_plan_without_suppliers_backlogs_the_demand(client):  # noqa: F811
    problem = {"periods": 4, "skus": [{"sku": "A", "holding_cost": 0.1, "backlog_cost": 2}],
               "nodes": [{"id": "N1"}],
               "demand": [{"sku": "A", "node": "N1", "period": 2, "qty": 10}],
               "suppliers": [], "supplier_items": []}
    r = client.post("/api/v1/replenishment/plan", json=problem, headers=client.writer)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["orders"] == [] and body["status"] == "optimal"
    assert body["cost"]["backlog"] == 2 * (10 + 10)
    assert [e["kind"] for e in body["exceptions"]] == ["backlog", "backlog"]
