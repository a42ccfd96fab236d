"""Each contract rule, on small problems, under both strategies; every plan validated."""

from __future__ import annotations

import pytest

from optimizer.replenishment import PlanInvalid, parse_problem, solve, validate_plan

from .conftest import STRATEGIES, plan_of


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_orders_are_case_pack_multiples_at_least_the_moq(doc, strategy):
    doc["supplier_items"][0]["moq"] = 30
    body = plan_of(doc, strategy)
    assert body["orders"]
    assert all(o["qty"] % 12 == 0 and o["qty"] >= 36 for o in body["orders"])


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_supplier_capacity_is_never_exceeded(doc, strategy):
    doc["demand"] = [{"sku": "TEE", "node": "DC", "period": t, "qty": 40} for t in range(6)]
    doc["suppliers"][0]["capacity_units"] = 24
    body = plan_of(doc, strategy)
    per_period = {}
    for o in body["orders"]:
        per_period[o["order_period"]] = per_period.get(o["order_period"], 0) + o["qty"]
    assert per_period and max(per_period.values()) <= 24
    causes = {e["detail"].split(":")[0] for e in body["exceptions"] if e["kind"] == "backlog"}
    assert "supplier capacity" in causes


def test_a_shortfall_smaller_than_the_moq_is_left_as_an_moq_exception(doc):
    doc["supplier_items"][0]["moq"] = 120
    doc["positions"][0]["on_hand"] = 0
    doc["demand"] = [{"sku": "TEE", "node": "DC", "period": 5, "qty": 10}]
    body = plan_of(doc, "optimal")
    assert body["orders"] == []
    assert [e["detail"].split(":")[0] for e in body["exceptions"]] == ["MOQ"]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_receiving_capacity_is_never_exceeded(doc, strategy):
    doc["demand"] = [{"sku": "TEE", "node": "DC", "period": t, "qty": 40} for t in range(6)]
    doc["nodes"][0]["receiving_capacity"] = 36
    body = plan_of(doc, strategy)
    arrivals = {}
    for o in body["orders"]:
        arrivals[o["arrival_period"]] = arrivals.get(o["arrival_period"], 0) + o["qty"]
    assert arrivals and max(arrivals.values()) <= 36
    causes = {e["detail"].split(":")[0] for e in body["exceptions"] if e["kind"] == "backlog"}
    assert "receiving capacity" in causes


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_budget_caps_total_spend(doc, strategy):
    doc["policy"]["budget"] = 25.0
    body = plan_of(doc, strategy)
    assert sum(o["qty"] * o["unit_cost"] for o in body["orders"]) <= 25.0
    causes = {e["detail"].split(":")[0] for e in body["exceptions"]}
    assert "budget" in causes


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_no_order_arrives_after_the_horizon_end(doc, strategy):
    doc["suppliers"][0]["lead_time_periods"] = 3
    body = plan_of(doc, strategy)
    assert all(o["arrival_period"] <= 5 and o["order_period"] + 3 == o["arrival_period"]
               for o in body["orders"])
    early = [e for e in body["exceptions"] if e["period"] < 3 and e["kind"] == "backlog"]
    assert early and all(e["detail"].startswith("lead time") for e in early)


def test_the_validator_rejects_a_broken_plan(doc):
    p = parse_problem(doc)
    body = solve(p, strategy="minmax").to_json()
    body["orders"][0]["qty"] += 1
    with pytest.raises(PlanInvalid, match="case pack"):
        validate_plan(p, body)
    body["orders"][0]["qty"] -= 1
    body["objective"] += 1.0
    with pytest.raises(PlanInvalid, match="objective"):
        validate_plan(p, body)


def test_plan_json_has_the_contract_shape(doc):
    body = plan_of(doc, "optimal")
    assert set(body) == {"status", "objective", "bound", "gap", "solve_seconds", "cost",
                         "orders", "projection", "exceptions"}
    assert set(body["cost"]) == {"purchase", "ordering", "holding", "backlog", "safety"}
    assert set(body["orders"][0]) == {"supplier", "sku", "node", "order_period",
                                      "arrival_period", "qty", "unit_cost"}
    assert len(body["projection"]) == 6
    assert body["status"] == "optimal" and body["gap"] <= 1e-4


def _explained(doc, orders):
    """The exceptions of the plan of these (order period, qty) orders of item 0 at node 0."""
    from optimizer.replenishment import Order
    from optimizer.replenishment.exceptions import explain_exceptions

    p = parse_problem(doc)
    return [(e["period"], e["kind"], e["detail"])
            for e in explain_exceptions(p, [Order(0, 0, t, q) for t, q in orders])]


@pytest.mark.parametrize("limit", ["receiving", "supplier"])
def test_a_capacity_is_named_only_when_no_order_that_could_have_helped_fits(doc, limit):
    # 20 needed in period 5, nothing on hand, lead time 1: orders placed in 0 … 4 help.
    doc["skus"][0]["case_pack"] = 1
    doc["positions"][0]["on_hand"] = 0
    doc["demand"] = [{"sku": "TEE", "node": "DC", "period": 5, "qty": 20}]

    def capacity(units):
        if limit == "receiving":
            doc["nodes"][0]["receiving_capacity"] = units
        else:
            doc["suppliers"][0]["capacity_units"] = units

    # 10 a period, 10 bought in period 0: periods 1 … 4 still had room for the other 10,
    # so the capacity used up by the first order is not why period 5 is short.
    capacity(10)
    assert _explained(doc, [(0, 10)]) == [
        (5, "backlog", "cost: covering it costs more than the shortfall")]
    # 2 a period, 2 bought in each: no order that could have arrived by period 5 fits
    capacity(2)
    expected = ("receiving capacity: DC full in period 5" if limit == "receiving"
                else "supplier capacity: ACME at capacity in period 4")
    assert _explained(doc, [(t, 2) for t in range(5)]) == [(5, "backlog", expected)]
