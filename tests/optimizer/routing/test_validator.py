"""The independent validator catches a broken plan, rule by rule, and a wrong cost."""

from __future__ import annotations

import copy

import pytest

from optimizer.routing import PlanViolation, parse_problem, solve, validate_plan

from .conftest import document, lane, order


@pytest.fixture
def solved():
    doc = document(
        [{"id": "A", "capacity_units": 10, "capacity_orders": 5}, "B"],
        {("A", "S1"): 4, ("B", "S1"): 4, ("A", "S2"): 2},
        [lane("A"), lane("B", days=5)],
        [order("o1", [("S1", 2), ("S2", 1)]), order("o2", [("S1", 1)], ship_complete=True)],
        channel_nodes={"web": ["A", "B"]})
    problem = parse_problem(doc)
    plan = solve(problem, time_limit_s=5, workers=1, seed=0)
    validate_plan(problem, plan)
    return problem, plan.to_json()


def broken(solved, change, expected):
    problem, data = solved
    data = copy.deepcopy(data)
    change(data)
    with pytest.raises(PlanViolation) as info:
        validate_plan(problem, data)
    assert any(expected in v for v in info.value.violations), info.value.violations


def test_rule_1_units_must_add_up(solved):
    broken(solved, lambda d: d["shipments"][0]["lines"][0].update(qty=1), "rule 1")


def test_rule_2_stock(solved):
    def more(d):
        d["shipments"][0]["lines"][0]["qty"] = 5
        d["shipments"][0]["lines"][0]["line"] = 0
    broken(solved, more, "rule 2")


def test_rule_3_capacity(solved):
    problem, _ = solved
    doc = problem.source.model_dump()
    doc["nodes"][0]["capacity_orders"] = 1
    tight = parse_problem(doc)
    broken((tight, solved[1]), lambda d: None, "rule 3")


def test_rule_4_eligibility(solved):
    problem, _ = solved
    doc = problem.source.model_dump()
    doc["policy"]["channel_nodes"] = {"web": ["B"]}
    broken((parse_problem(doc), solved[1]), lambda d: None, "rule 4")


def test_rule_5_max_shipments(solved):
    problem, data = solved
    doc = problem.source.model_dump()
    doc["policy"]["max_shipments_per_order"] = 1
    data = copy.deepcopy(data)
    first = data["shipments"][0]
    data["shipments"].append({"order": first["order"], "node": "B", "transit_days": 5,
                              "lines": [first["lines"].pop()]})
    broken((parse_problem(doc), data), lambda d: None, "rule 5")


def test_rule_6_ship_complete(solved):
    problem, data = solved
    doc = problem.source.model_dump()
    doc["orders"][1]["lines"][0]["qty"] = 2      # the plan ships 1 of 2 and backorders 1
    data = copy.deepcopy(data)
    data["backorders"].append({"order": "o2", "line": 0, "sku": "S1", "qty": 1,
                               "reason": "no_stock"})
    broken((parse_problem(doc), data), lambda d: None, "rule 6")


def test_cost_is_recomputed(solved):
    broken(solved, lambda d: d.update(objective=d["objective"] - 1), "objective")
    broken(solved, lambda d: d["cost"].update(unit=d["cost"]["unit"] + 1), "cost.unit")


def test_bound_cannot_exceed_objective(solved):
    broken(solved, lambda d: d.update(bound=d["objective"] + 5), "bound")


@pytest.fixture
def with_backorder():
    """A plan with one shipment and one backorder (the second line has no stock)."""
    doc = document(["A"], {("A", "S1"): 4}, [lane("A")], [order("o1", [("S1", 2), ("S2", 1)])])
    problem = parse_problem(doc)
    plan = solve(problem, time_limit_s=5, workers=1, seed=0)
    validate_plan(problem, plan)
    data = plan.to_json()
    assert data["backorders"] == [{"order": "o1", "line": 1, "sku": "S2", "qty": 1,
                                   "reason": "no_stock"}]
    return problem, data


@pytest.mark.parametrize("change, expected", [
    (lambda d: d.pop("cost"), "cost: Field required"),
    (lambda d: d["cost"].pop("split"), "cost.split: Field required"),
    (lambda d: d.pop("shipments"), "shipments: Field required"),
    (lambda d: d["shipments"][0].pop("lines"), "shipments[0].lines: Field required"),
    (lambda d: d["shipments"][0]["lines"][0].update(line="0"), "shipments[0].lines[0].line:"),
    (lambda d: d["shipments"][0]["lines"][0].update(qty=2.0), "shipments[0].lines[0].qty:"),
    (lambda d: d["shipments"][0]["lines"][0].update(qty=True), "shipments[0].lines[0].qty:"),
    (lambda d: d["backorders"][0].update(line="1"), "backorders[0].line:"),
    (lambda d: d["backorders"][0].update(qty=1.0), "backorders[0].qty:"),
    (lambda d: d["backorders"][0].update(qty=0.5), "backorders[0].qty:"),
    (lambda d: d["backorders"][0].update(reason="weather"), "backorders[0].reason:"),
    (lambda d: d["backorders"][0].update(reason=["no_stock"]), "backorders[0].reason:"),
    (lambda d: d["backorders"][0].pop("order"), "backorders[0].order: Field required"),
    (lambda d: d.update(status="done"), "status:"),
    (lambda d: d.update(objective="12"), "objective:"),
    (lambda d: d.update(objective=float("nan")), "objective: must be a finite number"),
    (lambda d: d["cost"].update(unit=float("inf")), "cost.unit: must be a finite number"),
    (lambda d: d.update(extra=1), "extra:"),
])
def test_a_malformed_plan_document_is_a_violation_naming_the_field(with_backorder, change,
                                                                    expected):
    broken(with_backorder, change, expected)


@pytest.mark.parametrize("data", [None, [], "plan"])
def test_a_plan_that_is_not_an_object_is_a_violation(with_backorder, data):
    with pytest.raises(PlanViolation, match="must be a JSON object"):
        validate_plan(with_backorder[0], data)


def test_an_explained_plan_document_still_validates(with_backorder):
    from optimizer.routing import explain_plan

    problem, _ = with_backorder
    plan = solve(problem, time_limit_s=5, workers=1, seed=0)
    validate_plan(problem, explain_plan(problem, plan))
