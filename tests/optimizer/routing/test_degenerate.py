"""Degenerate but valid routing problems: an empty batch, no stock, no lanes, zero-quantity
lines, nodes without capacity, one node. Every strategy returns a valid plan (checked by the
independent validator), never a crash."""

from __future__ import annotations

import copy

import pytest

from optimizer.routing import parse_problem, route_order, validate_plan
from optimizer.routing.greedy import order_lower_bounds, simple_lower_bound
from optimizer.routing.schema import PlanOut

from .conftest import checked, document, lane, order, reasons


def _two_orders():
    return document(["A", "B"], {("A", "S1"): 5, ("B", "S1"): 3},
                    [lane("A", per_shipment=1), lane("B", per_shipment=2)],
                    [order("o1", [("S1", 2)]),
                     order("o2", [("S1", 3), ("S2", 1)], ship_complete=True)])


@pytest.mark.parametrize("inventory,lanes", [(True, True), (False, False)])
def test_an_empty_batch_is_an_empty_proven_plan(strategy, inventory, lanes):
    doc = _two_orders()
    doc["orders"] = []
    if not inventory:
        doc["inventory"] = []
    if not lanes:
        doc["lanes"] = []
    _, plan = checked(doc, strategy)
    assert plan.shipments == () and plan.backorders == ()
    assert plan.objective == 0 and plan.bound == 0 and plan.gap == 0
    assert plan.status == ("greedy" if strategy == "greedy" else "optimal")
    body = plan.to_json()
    assert body["cost"] == {"shipment": 0.0, "unit": 0.0, "split": 0.0, "backorder": 0.0}


def test_the_cheap_bound_of_an_empty_batch_is_zero():
    doc = _two_orders()
    doc["orders"] = []
    problem = parse_problem(doc)
    assert order_lower_bounds(problem).shape == (0,)
    assert simple_lower_bound(problem) == 0.0


def test_single_order_routing_takes_an_empty_problem_and_refuses_a_batch():
    doc = _two_orders()
    doc["orders"] = []
    problem = parse_problem(doc)
    plan = route_order(problem)
    validate_plan(problem, plan)
    assert (plan.status, plan.objective, plan.shipments, plan.backorders) == (
        "optimal", 0.0, (), ())
    with pytest.raises(ValueError, match="at most one order"):
        route_order(parse_problem(_two_orders()))


def test_without_inventory_everything_is_backordered_for_lack_of_stock(strategy):
    doc = _two_orders()
    doc["inventory"] = []
    _, plan = checked(doc, strategy)
    assert plan.shipments == ()
    assert reasons(plan) == {("o1", 0): ("no_stock", 2), ("o2", 0): ("no_stock", 3),
                             ("o2", 1): ("no_stock", 1)}
    assert plan.objective == pytest.approx(6 * 40.0) == plan.bound


def test_without_lanes_no_node_is_eligible(strategy):
    doc = _two_orders()
    doc["lanes"] = []
    _, plan = checked(doc, strategy)
    assert plan.shipments == ()
    assert {r for r, _ in reasons(plan).values()} == {"no_eligible_node"}
    assert plan.objective == pytest.approx(240.0) == plan.bound


def test_zero_quantity_lines_ship_nothing_and_are_not_backordered(strategy):
    doc = _two_orders()
    for o in doc["orders"]:
        for line in o["lines"]:
            line["qty"] = 0
    _, plan = checked(doc, strategy)
    assert plan.shipments == () and plan.backorders == () and plan.objective == 0
    # a zero line beside a real one: only the real one ships
    doc["orders"][0]["lines"] = [{"sku": "S1", "qty": 0}, {"sku": "S1", "qty": 2}]
    _, plan = checked(doc, strategy)
    assert [(l.line, l.qty) for s in plan.shipments for l in s.lines if s.order == "o1"] == [
        (1, 2)]


@pytest.mark.parametrize("field", ["capacity_units", "capacity_orders"])
def test_nodes_with_zero_capacity_ship_nothing(strategy, field):
    doc = _two_orders()
    doc["nodes"] = [{"id": "A", field: 0}, {"id": "B", field: 0}]
    _, plan = checked(doc, strategy)
    assert plan.shipments == ()
    assert reasons(plan) == {("o1", 0): ("capacity", 2), ("o2", 0): ("capacity", 3),
                             ("o2", 1): ("no_stock", 1)}     # S2 is nowhere
    one = copy.deepcopy(doc)
    one["orders"] = one["orders"][:1]           # the single-order path too
    _, plan = checked(one, strategy)
    assert plan.shipments == () and reasons(plan) == {("o1", 0): ("capacity", 2)}


def test_one_node(strategy):
    doc = document(["A"], {("A", "S1"): 4}, [lane("A")],
                   [order("o1", [("S1", 3)]), order("o2", [("S1", 3)])])
    _, plan = checked(doc, strategy)
    assert sum(l.qty for s in plan.shipments for l in s.lines) == 4
    assert sum(b.qty for b in plan.backorders) == 2


def test_an_empty_batch_plan_matches_the_plan_schema():
    doc = _two_orders()
    doc["orders"] = []
    problem = parse_problem(doc)
    plan = route_order(problem)
    assert PlanOut.model_validate(plan.to_json()).shipments == []
