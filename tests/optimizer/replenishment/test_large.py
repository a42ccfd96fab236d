"""The large-problem path (SKU chunks on the capacity left) and the decoupled bound."""

from __future__ import annotations

import pytest

import sys

import optimizer.replenishment.solve  # noqa: F401  (the module, not the function)
from optimizer.replenishment import parse_problem, solve, validate_plan
from optimizer.replenishment.bound import decoupled_bound
from optimizer.replenishment.generate import generate_problem


@pytest.mark.parametrize("seed", [1, 2])
def test_the_decoupled_bound_is_below_a_proven_optimum(seed):
    p = parse_problem(generate_problem(3, 1, 6, 2, seed=seed))
    plan = solve(p, time_limit_s=20, workers=1)
    body = plan.to_json()
    validate_plan(p, body)
    assert body["status"] == "optimal"
    assert decoupled_bound(p) <= body["objective"] + 1e-6


def test_chunked_plans_are_valid_and_never_worse_than_minmax(monkeypatch):
    monkeypatch.setattr(sys.modules["optimizer.replenishment.solve"], "FULL_MIP_MAX_VARIABLES", 100)
    doc = generate_problem(40, 2, 8, 3, seed=4, budget=20_000.0)
    p = parse_problem(doc)
    plan = solve(p, time_limit_s=6, workers=1)
    body = plan.to_json()
    validate_plan(p, body)
    minmax = solve(p, strategy="minmax").to_json()
    validate_plan(p, minmax)
    assert "chunk" in plan.stats["method"]
    assert body["objective"] <= minmax["objective"] + 1e-6
    assert 0 < body["bound"] <= body["objective"]
