"""Parsing and validation of the routing problem."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.routing import RoutingInputError, parse_problem
from optimizer.routing.problem import MAX_LINES_PER_ORDER

from .conftest import document, lane, order


def base():
    return document(["A", "B"], {("A", "S1"): 3}, [lane("A"), lane("B")],
                    [order("o1", [("S1", 2)])])


def errors_of(doc):
    with pytest.raises(RoutingInputError) as info:
        parse_problem(doc)
    return {e["field"]: e["message"] for e in info.value.errors}


def test_defaults_follow_the_contract():
    doc = {"nodes": [{"id": "A"}], "orders": [{"id": "o", "region": "NE",
                                               "lines": [{"sku": "S", "qty": 1}]}]}
    problem = parse_problem(doc)
    src = problem.source
    assert src.nodes[0].kind == "warehouse" and src.nodes[0].capacity_units is None
    assert src.orders[0].service == "standard" and src.orders[0].channel == "web"
    assert src.orders[0].ship_complete is False
    assert src.policy.backorder_penalty_per_unit == 1000.0
    assert src.policy.split_penalty == 0 and src.policy.max_shipments_per_order is None
    assert src.policy.time_limit_seconds == 10 and src.policy.strategy == "optimal"
    assert problem.order_penalty[0] == 1000.0 and problem.stock.sum() == 0


def test_penalty_comes_from_order_then_channel_then_policy():
    doc = base()
    doc["orders"] += [order("o2", [("S1", 1)], channel="marketplace"),
                      order("o3", [("S1", 1)], channel="marketplace",
                            backorder_penalty_per_unit=7.0)]
    doc["policy"]["channel_backorder_penalty"] = {"marketplace": 60.0}
    assert list(parse_problem(doc).order_penalty) == [40.0, 60.0, 7.0]


def test_unknown_node_in_inventory_and_lanes_is_named_by_path():
    doc = base()
    doc["inventory"].append({"node": "Z", "sku": "S1", "available": 1})
    doc["lanes"].append(lane("Y"))
    errors = errors_of(doc)
    assert "unknown node 'Z'" in errors["inventory[1].node"]
    assert "unknown node 'Y'" in errors["lanes[2].node"]


def test_negative_quantity_wrong_type_and_extra_field_are_rejected_together():
    doc = base()
    doc["orders"][0]["lines"][0]["qty"] = -1
    doc["inventory"][0]["available"] = "3"
    doc["orders"][0]["colour"] = "red"
    errors = errors_of(doc)
    assert set(errors) >= {"orders[0].lines[0].qty", "inventory[0].available",
                           "orders[0].colour"}


def test_booleans_are_not_quantities():
    doc = base()
    doc["orders"][0]["lines"][0]["qty"] = True
    assert "orders[0].lines[0].qty" in errors_of(doc)


def test_duplicate_ids_are_rejected():
    doc = base()
    doc["nodes"].append({"id": "A"})
    doc["orders"].append(order("o1", [("S1", 1)]))
    errors = errors_of(doc)
    assert "duplicate node id" in errors["nodes[2].id"]
    assert "duplicate order id" in errors["orders[1].id"]


def test_ids_must_be_1_to_128_characters():
    doc = base()
    doc["orders"][0]["id"] = ""
    doc["nodes"][1]["id"] = "x" * 129
    errors = errors_of(doc)
    assert "orders[0].id" in errors and "nodes[1].id" in errors


def test_channel_nodes_must_name_known_nodes():
    doc = base()
    doc["policy"]["channel_nodes"] = {"web": ["A", "Q"]}
    assert "unknown node 'Q'" in errors_of(doc)["policy.channel_nodes.web[1]"]


def test_limits_are_enforced():
    doc = base()
    doc["orders"][0]["lines"] = [{"sku": "S1", "qty": 1}] * (MAX_LINES_PER_ORDER + 1)
    assert "orders[0].lines" in errors_of(doc)


def test_non_object_document_is_rejected():
    with pytest.raises(RoutingInputError):
        parse_problem([1, 2])


def test_problem_is_immutable():
    problem = parse_problem(base())
    with pytest.raises(ValueError):
        problem.stock[0, 0] = 99
    with pytest.raises(AttributeError):
        problem.split_penalty = 3.0  # type: ignore[misc]
    assert isinstance(problem.line_qty, np.ndarray)


def test_only_eligible_pairs_are_indexed():
    doc = base()
    doc["lanes"][1]["transit_days"] = 5
    doc["orders"][0]["max_transit_days"] = 3
    problem = parse_problem(doc)
    assert [problem.node_ids[n] for n in problem.pair_node] == ["A"]


def test_field_errors_and_reference_errors_are_reported_in_one_run():
    doc = base()
    doc["orders"][0]["lines"][0]["qty"] = "2"                          # a field error
    doc["nodes"].append({"id": "C", "capacity_units": -1})            # invalid, but named
    doc["inventory"] += [{"node": "Z", "sku": "S1", "available": 1},  # unknown node
                         {"node": "C", "sku": "S1", "available": 1},  # C exists, invalid
                         {"node": "Y", "sku": "S1", "available": -1}]  # invalid: field error
    doc["lanes"].append(lane("Q"))
    doc["lanes"].append(lane("A"))                                    # a duplicate lane
    doc["policy"]["channel_nodes"] = {"web": ["A", "W"]}
    doc["policy"]["split_penalty"] = -1
    found = errors_of(doc)
    assert set(found) == {
        "orders[0].lines[0].qty", "nodes[2].capacity_units", "inventory[3].available",
        "policy.split_penalty",
        "inventory[1].node", "lanes[2].node", "lanes[3]", "policy.channel_nodes.web[1]"}
    assert found["inventory[1].node"] == "unknown node 'Z'"


def test_reference_checks_survive_sections_of_the_wrong_shape():
    doc = base()
    doc["inventory"] = [{"node": "Z", "sku": "S1", "available": 1}]
    doc["lanes"] = "not a list"
    doc["nodes"] = [7, {"id": "A"}]
    doc["policy"] = {"channel_nodes": ["A"]}
    found = errors_of(doc)
    assert {"lanes", "nodes[0]", "policy.channel_nodes", "inventory[0].node"} <= set(found)
    doc["policy"] = "nope"
    assert "inventory[0].node" in errors_of(doc)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_time_limit_that_is_not_a_number_is_called_that(value):
    # NaN compares false with everything: it was refused as "less than or equal to 3600"
    doc = base()
    doc["policy"]["time_limit_seconds"] = value
    assert errors_of(doc) == {"policy.time_limit_seconds": "Input should be a finite number"}


def test_nodes_that_are_not_a_list_are_reported_once_not_as_every_reference():
    # No node id is known then, so every inventory row, lane and channel rule was also
    # reported as naming an unknown node: 56 errors for one mistake.
    from optimizer.routing.generate import generate_problem

    doc = generate_problem(5, 3, 5, seed=1)
    doc["nodes"] = {"id": "N00"}
    doc["orders"][0]["lines"][0]["qty"] = -1
    with pytest.raises(RoutingInputError) as info:
        parse_problem(doc)
    assert [e["field"] for e in info.value.errors] == ["nodes", "orders[0].lines[0].qty"]
