"""Parsing: defaults, cross references and field paths in errors."""

from __future__ import annotations

import pytest

from optimizer.replenishment import ReplenishmentInputError, parse_problem


def fields(doc):
    with pytest.raises(ReplenishmentInputError) as info:
        parse_problem(doc)
    return {e["field"] for e in info.value.errors}


def test_a_valid_problem_parses_with_contract_defaults(doc):
    del doc["skus"][0]["case_pack"]
    del doc["policy"]
    p = parse_problem(doc)
    assert p.case_pack[0] == 1
    assert p.time_limit_s == 30 and p.budget is None and p.strategy == "optimal"
    assert p.demand.shape == (1, 1, 6) and p.demand.sum() == 60


def test_unknown_references_name_the_field(doc):
    doc["positions"][0]["sku"] = "NOPE"
    doc["supplier_items"][0]["supplier"] = "NOBODY"
    doc["demand"][2]["node"] = "DC-X"
    assert fields(doc) == {"positions[0].sku", "supplier_items[0].supplier", "demand[2].node"}


def test_period_outside_the_horizon_is_rejected_with_its_path(doc):
    doc["positions"][0]["inbound"] = [{"period": 1, "qty": 5}, {"period": 6, "qty": 5}]
    assert fields(doc) == {"positions[0].inbound[1].period"}


def test_negative_quantities_costs_and_unknown_fields_are_rejected(doc):
    doc["demand"][0]["qty"] = -1
    doc["skus"][0]["holding_cost"] = -0.1
    doc["suppliers"][0]["colour"] = "red"
    assert fields(doc) == {"demand[0].qty", "skus[0].holding_cost", "suppliers[0].colour"}


def test_duplicate_ids_are_rejected(doc):
    doc["nodes"].append({"id": "DC"})
    doc["supplier_items"].append(dict(doc["supplier_items"][0]))
    assert fields(doc) == {"nodes[1].id", "supplier_items[1]"}


def test_the_problem_is_immutable(doc):
    p = parse_problem(doc)
    with pytest.raises(Exception):
        p.periods = 3


@pytest.mark.parametrize("path,value", [
    (("demand", 0, "qty"), "5"),
    (("demand", 0, "period"), 1.0),
    (("positions", 0, "on_hand"), "20"),
    (("positions", 0, "safety_stock"), True),
    (("skus", 0, "case_pack"), "12"),
    (("skus", 0, "holding_cost"), "0.05"),
    (("suppliers", 0, "lead_time_periods"), "1"),
    (("supplier_items", 0, "unit_cost"), "1.0"),
    (("periods",), "6"),
    (("policy", "time_limit_seconds"), "10"),
])
def test_wrong_types_are_rejected_not_coerced(doc, path, value):
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    with pytest.raises(ReplenishmentInputError) as info:
        parse_problem(doc)
    field = "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p)
                    for i, p in enumerate(path))
    assert field in {e["field"] for e in info.value.errors}


def test_numbers_of_the_right_type_still_parse(doc):
    doc["skus"][0]["holding_cost"] = 1          # an integer is a valid number
    doc["policy"]["time_limit_seconds"] = 5
    p = parse_problem(doc)
    assert p.holding_cost[0] == 1.0 and p.time_limit_s == 5.0


def test_field_errors_and_reference_errors_are_reported_in_one_run(doc):
    doc["demand"][0]["qty"] = "5"                          # a field error
    doc["demand"][1]["node"] = "DC-X"                      # an unknown node
    doc["demand"][2]["period"] = 6                         # outside the horizon
    doc["skus"].append({"sku": "MUG", "holding_cost": -1, "backlog_cost": 1})  # invalid, named
    doc["positions"].append({"sku": "MUG", "node": "DC"})  # so MUG is not unknown
    doc["supplier_items"].append({"supplier": "NOBODY", "sku": "TEE", "unit_cost": 1.0})
    assert fields(doc) == {"demand[0].qty", "skus[1].holding_cost", "demand[1].node",
                           "demand[2].period", "supplier_items[1].supplier"}
    doc["periods"] = "6"                                   # horizon unknown: no period checks
    assert fields(doc) == {"periods", "demand[0].qty", "skus[1].holding_cost",
                           "demand[1].node", "supplier_items[1].supplier"}


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_time_limit_that_is_not_a_number_is_called_that(doc, value):
    # NaN compares false with everything: it was refused as "less than or equal to 3600"
    doc["policy"]["time_limit_seconds"] = value
    with pytest.raises(ReplenishmentInputError) as info:
        parse_problem(doc)
    assert info.value.errors == [{"field": "policy.time_limit_seconds",
                                  "message": "Input should be a finite number"}]


@pytest.mark.parametrize("section", ["nodes", "skus", "suppliers"])
def test_a_section_that_is_not_a_list_is_reported_once_not_as_every_reference(doc, section):
    # Its ids are unknown, so the rows that name them were each reported "unknown" too:
    # one mistake in the document, a screenful of errors.
    doc[section] = {"id": "DC"}
    doc["demand"][1]["sku"] = "NOPE" if section != "skus" else doc["demand"][1]["sku"]
    expected = {section} | ({"demand[1].sku"} if section != "skus" else set())
    assert fields(doc) == expected
