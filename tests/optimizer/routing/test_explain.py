"""Explanations a planner can read: why this node, why not shipped."""

from __future__ import annotations

from optimizer.routing import explain_plan

from .conftest import checked, document, lane, order


def test_a_shipment_names_its_cost_and_the_next_best_node():
    doc = document(["A", "B"], {("A", "S1"): 5, ("B", "S1"): 5},
                   [lane("A", per_shipment=4), lane("B", per_shipment=6)],
                   [order("o1", [("S1", 2)])])
    problem, plan = checked(doc)
    text = explain_plan(problem, plan)["shipments"][0]["explanation"]
    assert text == "A ships 2 unit(s) for 5.00; next-best eligible node B would cost 7.00"


def test_a_backorder_says_which_rule_or_shortage():
    doc = document(["A"], {("A", "S1"): 1}, [lane("A", days=4)],
                   [order("late", [("S1", 1)], max_transit_days=2),
                    order("short", [("S2", 1)])])
    problem, plan = checked(doc)
    texts = {b["order"]: b["explanation"] for b in explain_plan(problem, plan)["backorders"]}
    assert "transit 4 days exceeds the order's limit of 2" in texts["late"]
    assert texts["short"].startswith("no eligible node has S2 left")
