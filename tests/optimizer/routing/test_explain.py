"""Explanations a planner can read: why this node, why not shipped."""

from __future__ import annotations

import time

from optimizer.routing import explain_plan, parse_problem, solve, validate_plan
from optimizer.routing.generate import generate_problem
from optimizer.routing.plan import make_plan

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


def explained(doc, strategy="optimal"):
    problem, plan = checked(doc, strategy=strategy)
    data = explain_plan(problem, plan)
    ships = {(s["order"], s["node"]): s["explanation"] for s in data["shipments"]}
    backs = {(b["order"], b["line"]): (b["reason"], b["explanation"]) for b in data["backorders"]}
    return plan, ships, backs


# The reviewer's case: A's unit capacity is used by "big"; B has no capacity limit but
# no Y left once "dup" took it. Reasons are judged on what the plan leaves over.
LEFTOVER = document(
    [{"id": "A", "capacity_units": 3}, "B"],
    {("A", "X"): 10, ("A", "Y"): 1, ("B", "Y"): 5},
    [lane("A", "R", per_shipment=10, per_unit=1), lane("B", "R", per_shipment=10, per_unit=1)],
    [order("big", [("X", 3)], region="R", backorder_penalty_per_unit=5000),
     order("capX", [("X", 2)], region="R"),
     order("scXY", [("X", 1), ("Y", 1)], region="R", ship_complete=True),
     order("dup", [("Y", 3), ("Y", 4)], region="R")],
    backorder_penalty_per_unit=1000)


def test_capacity_backorders_name_only_nodes_with_the_sku_left_after_the_plan(strategy):
    _, _, backs = explained(LEFTOVER, strategy)
    reason, text = backs[("dup", 1)]
    assert reason == "capacity"
    assert text == ("Y is left at eligible nodes after this plan (A=1), but none of them has "
                    "capacity left: A (unit capacity of 3 used up)")
    assert "B" not in text
    assert backs[("capX", 0)][1] == ("X is left at eligible nodes after this plan (A=7), but "
                                     "none of them has capacity left: A (unit capacity of 3 "
                                     "used up)")


def test_no_stock_says_what_is_left_after_the_plan_and_where_it_went(strategy):
    doc = document(["A"], {("A", "S1"): 2}, [lane("A")],
                   [order("first", [("S1", 2)]), order("second", [("S1", 1)])])
    _, _, backs = explained(doc, strategy)
    assert backs[("second", 0)] == (
        "no_stock", "no eligible node has S1 left after this plan (before routing: A=2); "
                    "it ships to first")


def test_a_node_without_capacity_is_never_the_next_best_alternative(strategy):
    # /tmp/rt/ex1.json: C is cheaper but has capacity_units 0, so it can ship nothing
    doc = document(["A", {"id": "C", "capacity_units": 0}], {("A", "X"): 10, ("C", "X"): 10},
                   [lane("A", "R", per_shipment=10, per_unit=1),
                    lane("C", "R", per_shipment=1, per_unit=1)],
                   [order("o1", [("X", 2)], region="R"), order("o2", [("X", 2)], region="R")])
    _, ships, _ = explained(doc, strategy)
    for key in (("o1", "A"), ("o2", "A")):
        assert ships[key] == ("A ships 2 unit(s) for 12.00; no other eligible node has the "
                              "stock and capacity to ship these units")


def test_zero_shipment_capacity_and_missing_stock_also_exclude_a_node():
    doc = document(["A", {"id": "C", "capacity_orders": 0}, "D", "E"],
                   {("A", "X"): 10, ("C", "X"): 10, ("D", "X"): 1},
                   [lane("A", per_shipment=10, per_unit=1), lane("C", per_shipment=1, per_unit=1),
                    lane("D", per_shipment=1, per_unit=1), lane("E", per_shipment=1, per_unit=1)],
                   [order("o1", [("X", 2)])])
    _, ships, _ = explained(doc)
    assert ships[("o1", "A")].endswith("no other eligible node has the stock and capacity to "
                                       "ship these units")


# C is the cheap node for both orders, but only "second" can use nothing else (its
# region has no lane from A). The optimum gives C to "second"; greedy gives it to "first".
CONTESTED = document(
    ["A", "C"], {("A", "X"): 10, ("C", "X"): 2},
    [lane("A", "R1", per_shipment=10, per_unit=1), lane("C", "R1", per_shipment=1, per_unit=1),
     lane("C", "R2", per_shipment=1, per_unit=1)],
    [order("first", [("X", 2)], region="R1"), order("second", [("X", 2)], region="R2")])


def test_optimal_plan_says_the_batch_optimum_used_the_cheaper_nodes_stock():
    plan, ships, backs = explained(CONTESTED)
    assert plan.status == "optimal" and not backs
    assert ships[("first", "A")] == (
        "A ships 2 unit(s) for 12.00; C would cost 3.00, but it has no stock or capacity left "
        "for them after this plan: the batch optimum uses its X stock (0 left of the 2 "
        "needed) for second")
    assert ships[("second", "C")] == ("C ships 2 unit(s) for 3.00; no other eligible node has "
                                      "the stock and capacity to ship these units")


def test_greedy_plan_says_an_earlier_order_took_it_never_the_batch_optimum():
    plan, ships, backs = explained(CONTESTED, "greedy")
    assert plan.status == "greedy"
    assert set(ships) == {("first", "C")}
    assert backs[("second", 0)] == (
        "no_stock", "no eligible node has X left after this plan (before routing: C=2); "
                    "it ships to first")
    # the same batch with the orders swapped: "second" takes C first, "first" goes to A
    swapped = {**CONTESTED, "orders": CONTESTED["orders"][::-1]}
    _, ships, _ = explained(swapped, "greedy")
    assert ships[("first", "A")] == (
        "A ships 2 unit(s) for 12.00; C would cost 3.00, but second had already taken its X "
        "stock (0 left of the 2 needed): greedy routes orders in input order, and earlier "
        "orders keep what they took")
    texts = [t for t in ships.values()] + [t for _, t in backs.values()]
    assert not any("optimum" in t or "better in this batch" in t for t in texts)


def test_greedy_whole_order_ranking_is_named_when_the_cheaper_node_had_the_units():
    # for all 6 units A is cheaper (16 against 19), so greedy takes A first; A only has
    # 3 Y, so it ships 4 units, which B alone would have shipped for less (13 against 14)
    doc = document(["A", "B"], {("A", "X"): 5, ("A", "Y"): 3, ("B", "X"): 5, ("B", "Y"): 5},
                   [lane("A", per_shipment=10, per_unit=1), lane("B", per_shipment=1, per_unit=3)],
                   [order("o1", [("X", 1), ("Y", 5)])])
    _, ships, _ = explained(doc, "greedy")
    assert ships[("o1", "A")] == (
        "A ships 4 unit(s) for 14.00; B would cost 13.00 and had these units when this order "
        "was routed, but greedy ranks an order's nodes by the cost of shipping the whole "
        "order from them, not of these units alone")


def test_ship_complete_and_max_shipments_backorders_cite_the_leftover():
    doc = document(["A", "B"], {("A", "X"): 1, ("B", "Y"): 3},
                   [lane("A"), lane("B")],
                   [order("sc", [("X", 1), ("Y", 1)], ship_complete=True),
                    order("ms", [("Y", 2), ("X", 1)], max_shipments=1)])
    _, _, backs = explained(doc)
    assert backs[("sc", 0)] == (
        "ship_complete", "the order must ship whole, and after this plan no single eligible "
                         "node holds every line (A has Y 0 of 1; B has X 0 of 1)")
    assert backs[("ms", 1)] == (
        "max_shipments", "the order already uses its 1 allowed shipment(s) (B); the X left "
                         "after this plan is at other nodes (A=1)")


def test_cost_backorder_compares_the_cheapest_leftover_option_with_the_penalty(strategy):
    doc = document(["A"], {("A", "X"): 5}, [lane("A", per_shipment=500, per_unit=1)],
                   [order("o1", [("X", 2)], backorder_penalty_per_unit=50)])
    _, _, backs = explained(doc, strategy)
    assert backs[("o1", 0)] == (
        "cost", "shipping 2 unit(s) from A would cost 502.00 (251.00 per unit), more than the "
                "backorder penalty 50.00 per unit")


def test_explaining_a_large_greedy_plan_takes_seconds_not_minutes():
    # The HTTP endpoint explains every plan in the margin kept beside the solve
    # (webapp.limits.SOLVE_MARGIN_S). Explanations once rebuilt the stock left from a copy
    # of the whole stock matrix and scanned every order for each entry: quadratic, 9 s at
    # 4,000 orders and minutes at the contract's 20,000.
    problem = parse_problem(generate_problem(4000, 20, 3000, seed=2))
    plan = solve(problem, strategy="greedy", workers=1, seed=0)
    start = time.perf_counter()
    data = explain_plan(problem, plan)
    assert time.perf_counter() - start < 4.0
    assert all(e["explanation"] for e in data["shipments"] + data["backorders"])


def test_no_stock_of_a_ship_complete_order_says_how_much_the_order_needs(strategy):
    doc = document(["A", "B"], {("A", "S1"): 2, ("B", "S1"): 1}, [lane("A"), lane("B")],
                   [order("sc", [("S1", 5)], ship_complete=True)])
    _, _, backs = explained(doc, strategy)
    assert backs[("sc", 0)] == (
        "no_stock", "the order must ship whole, and the eligible nodes have 3 of the 5 S1 "
                    "it needs left after this plan (before routing: A=2, B=1)")


def test_a_feasible_plan_is_not_said_to_have_stopped_at_the_time_limit():
    # The optimal strategy also stops, well before its time limit, once the plan is within
    # a relative gap of its bound (docs/routing.md), and reports it feasible; such a plan
    # was explained as "the solver stopped at its time limit". Its gap is what is known.
    doc = document(["A", "B"], {("A", "S1"): 5, ("B", "S1"): 5},
                   [lane("A", per_shipment=1), lane("B", per_shipment=9)],
                   [order("o1", [("S1", 1)]), order("o2", [("S1", 1)])])
    problem = parse_problem(doc)
    # o1 from B although A is cheaper, o2 not shipped although A could: a valid plan
    plan = make_plan(problem, [(0, 1, 1)], status="feasible", bound=3.0, solve_seconds=0.2)
    validate_plan(problem, plan)
    data = explain_plan(problem, plan)
    texts = [e["explanation"] for e in data["shipments"] + data["backorders"]]
    assert texts == [
        "B ships 1 unit(s) for 9.50; A would cost 1.50 and still has the stock and capacity "
        "for these units after this plan, which is not proven optimal (its gap to the proven "
        "bound is 93.9%)",
        "shipping 1 unit(s) from A would cost 1.50 (1.50 per unit), less than the backorder "
        "penalty 40.00 per unit; this plan is not proven optimal (its gap to the proven bound "
        "is 93.9%)"]


def test_an_order_of_one_line_is_not_said_to_have_other_lines(strategy):
    # The line ships 2 of its 3 units from A, all A has: the rest waits, and what took A's
    # stock is this same line, not "this order's other lines" (it has none).
    doc = document(["A"], {("A", "S1"): 2}, [lane("A")], [order("one", [("S1", 3)])])
    _, _, backs = explained(doc, strategy)
    reason, text = backs[("one", 0)]
    assert reason == "no_stock"
    assert text == ("no eligible node has S1 left after this plan (before routing: A=2); "
                    "it ships to this order's own line (its other units)")
    assert "other lines" not in text
