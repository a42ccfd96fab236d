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
