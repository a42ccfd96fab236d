"""One test per rule, feasible and infeasible, for both strategies; backorder reasons."""

from __future__ import annotations

from .conftest import checked, document, lane, order, reasons, shipped


def test_single_node_ships_the_whole_order(strategy):
    doc = document(["A", "B"], {("A", "S1"): 5, ("B", "S1"): 5},
                   [lane("A", per_shipment=4), lane("B", per_shipment=6)],
                   [order("o1", [("S1", 2)])])
    _, plan = checked(doc, strategy)
    assert shipped(plan) == {("o1", "A"): {0: 2}}
    assert plan.backorders == ()
    assert plan.cost.shipment == 4 and plan.cost.unit == 1.0


def test_ship_complete_ships_whole_from_one_node_or_not_at_all(strategy):
    doc = document(["A", "B"], {("A", "S1"): 2, ("B", "S2"): 2}, [lane("A"), lane("B")],
                   [order("o1", [("S1", 1), ("S2", 1)], ship_complete=True)])
    _, plan = checked(doc, strategy)
    assert plan.shipments == ()
    assert reasons(plan) == {("o1", 0): ("ship_complete", 1), ("o1", 1): ("ship_complete", 1)}
    doc["inventory"].append({"node": "B", "sku": "S1", "available": 1})
    _, plan = checked(doc, strategy)
    assert shipped(plan) == {("o1", "B"): {0: 1, 1: 1}}


def test_max_shipments_limits_the_nodes_of_an_order(strategy):
    doc = document(["A", "B", "C"], {("A", "S1"): 1, ("B", "S2"): 1, ("C", "S3"): 1},
                   [lane("A"), lane("B"), lane("C")],
                   [order("o1", [("S1", 1), ("S2", 1), ("S3", 1)], max_shipments=2)])
    _, plan = checked(doc, strategy)
    assert len(plan.shipments) == 2
    assert [r for r, _ in reasons(plan).values()] == ["max_shipments"]
    doc["orders"][0]["max_shipments"] = None
    doc["policy"]["max_shipments_per_order"] = 1
    _, plan = checked(doc, strategy)
    assert len(plan.shipments) == 1


def test_channel_nodes_restrict_the_channel(strategy):
    doc = document(["A", "B"], {("A", "S1"): 5, ("B", "S1"): 5},
                   [lane("A", per_shipment=1), lane("B", per_shipment=9)],
                   [order("o1", [("S1", 1)], channel="marketplace"),
                    order("o2", [("S1", 1)], channel="b2b")],
                   channel_nodes={"marketplace": ["B"], "b2b": []})
    _, plan = checked(doc, strategy)
    assert shipped(plan) == {("o1", "B"): {0: 1}}
    assert reasons(plan) == {("o2", 0): ("no_eligible_node", 1)}


def test_transit_limit_makes_slow_lanes_ineligible(strategy):
    doc = document(["A", "B"], {("A", "S1"): 5, ("B", "S1"): 5},
                   [lane("A", per_shipment=1, days=4), lane("B", per_shipment=9, days=1)],
                   [order("o1", [("S1", 1)], max_transit_days=2),
                    order("o2", [("S1", 1)], max_transit_days=0)])
    _, plan = checked(doc, strategy)
    assert shipped(plan) == {("o1", "B"): {0: 1}}
    assert plan.shipments[0].transit_days == 1
    assert reasons(plan) == {("o2", 0): ("no_eligible_node", 1)}


def test_capacity_units_cap_what_a_node_ships(strategy):
    doc = document([{"id": "A", "capacity_units": 3}], {("A", "S1"): 10}, [lane("A")],
                   [order("o1", [("S1", 2)]), order("o2", [("S1", 2)])])
    _, plan = checked(doc, strategy)
    assert sum(q for s in plan.shipments for q in (l.qty for l in s.lines)) == 3
    assert [r for r, _ in reasons(plan).values()] == ["capacity"]


def test_capacity_orders_cap_the_shipments_of_a_node(strategy):
    doc = document([{"id": "A", "capacity_orders": 1}], {("A", "S1"): 10}, [lane("A")],
                   [order("o1", [("S1", 1)]), order("o2", [("S1", 1)])])
    _, plan = checked(doc, strategy)
    assert len(plan.shipments) == 1
    assert [r for r, _ in reasons(plan).values()] == ["capacity"]


def test_duplicate_sku_lines_are_routed_each_on_its_own(strategy):
    doc = document(["A", "B"], {("A", "S1"): 2, ("B", "S1"): 1},
                   [lane("A"), lane("B")], [order("o1", [("S1", 2), ("S1", 2)])])
    _, plan = checked(doc, strategy)
    total = {}
    for s in plan.shipments:
        for l in s.lines:
            total[l.line] = total.get(l.line, 0) + l.qty
    assert sum(total.values()) == 3
    assert sum(q for _, q in reasons(plan).values()) == 1
    assert {r for r, _ in reasons(plan).values()} == {"no_stock"}


def test_missing_stock_is_no_stock_and_expensive_shipping_is_cost(strategy):
    doc = document(["A"], {("A", "S1"): 1}, [lane("A", per_shipment=100.0)],
                   [order("o1", [("S1", 1)]), order("o2", [("S2", 1)])])
    _, plan = checked(doc, strategy)
    assert reasons(plan) == {("o1", 0): ("cost", 1), ("o2", 0): ("no_stock", 1)}


def test_split_penalty_is_charged_per_extra_shipment(strategy):
    doc = document(["A", "B"], {("A", "S1"): 1, ("B", "S2"): 1}, [lane("A"), lane("B")],
                   [order("o1", [("S1", 1), ("S2", 1)])], split_penalty=3.0)
    _, plan = checked(doc, strategy)
    assert len(plan.shipments) == 2 and plan.cost.split == 3.0
    assert plan.objective == plan.cost.shipment + plan.cost.unit + 3.0


def test_zero_quantity_lines_need_nothing(strategy):
    doc = document(["A"], {}, [lane("A")], [order("o1", [("S1", 0)])])
    _, plan = checked(doc, strategy)
    assert plan.shipments == () and plan.backorders == () and plan.objective == 0


def test_a_ship_complete_order_short_everywhere_is_no_stock_not_ship_complete(strategy):
    # The contract's ship_complete reason is "stock exists only split": when the eligible
    # nodes together hold less of a SKU than the order needs, no split would ship it
    # either, and the reason is no_stock (which comes first).
    doc = document(["A", "B"], {("A", "S1"): 2, ("B", "S1"): 1, ("B", "S2"): 1},
                   [lane("A"), lane("B")],
                   [order("short", [("S1", 5), ("S2", 1)], ship_complete=True)])
    _, plan = checked(doc, strategy)
    assert reasons(plan) == {("short", 0): ("no_stock", 5), ("short", 1): ("ship_complete", 1)}
    # enough of it, but only over two nodes: ship_complete
    doc["inventory"] = [{"node": "A", "sku": "S1", "available": 3},
                        {"node": "B", "sku": "S1", "available": 3}]
    _, plan = checked(doc, strategy)
    assert reasons(plan)[("short", 0)] == ("ship_complete", 5)


def test_ship_complete_lines_naming_one_sku_need_their_sum_of_it(strategy):
    doc = document(["A"], {("A", "S1"): 3}, [lane("A")],
                   [order("dup", [("S1", 2), ("S1", 2)], ship_complete=True)])
    _, plan = checked(doc, strategy)
    assert reasons(plan) == {("dup", 0): ("no_stock", 2), ("dup", 1): ("no_stock", 2)}
