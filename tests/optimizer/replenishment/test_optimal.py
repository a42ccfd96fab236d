"""The optimal strategy: Wagner–Whitin optimum on single-item uncapacitated instances,
never worse than min/max, objective equal to the recomputed cost, deterministic."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.replenishment import parse_problem, solve, validate_plan
from optimizer.replenishment.generate import generate_problem


def wagner_whitin(demand, setup, unit, holding, lead):
    """Classic DP: order in period j (arriving j + lead) covers demand j+lead … k.
    No backlog allowed; on hand starts at 0 and the first `lead` periods have no demand."""
    T = len(demand)
    best = [0.0] + [float("inf")] * T          # best[k] = cheapest cost of covering 0 … k−1
    for k in range(1, T + 1):
        for a in range(lead, k):               # the last order arrives in a, covers a … k−1
            if sum(demand[a:k]) == 0:
                cost = best[a]
            else:
                cost = best[a] + setup + unit * sum(demand[a:k]) + holding * sum(
                    (t - a) * demand[t] for t in range(a, k))
            best[k] = min(best[k], cost)
        if sum(demand[:k]) == 0:
            best[k] = 0.0
    return best[T]


@pytest.mark.parametrize("seed", range(6))
def test_single_item_uncapacitated_matches_wagner_whitin(seed):
    rng = np.random.default_rng(seed)
    T, lead = 10, int(rng.integers(0, 3))
    demand = [0] * lead + [int(x) for x in rng.integers(0, 40, T - lead)]
    setup, unit, holding = float(rng.uniform(20, 200)), 2.0, float(rng.uniform(0.2, 2.0))
    doc = {"periods": T,
           "skus": [{"sku": "A", "holding_cost": holding, "backlog_cost": 1000.0}],
           "nodes": [{"id": "DC"}],
           "demand": [{"sku": "A", "node": "DC", "period": t, "qty": q}
                      for t, q in enumerate(demand)],
           "suppliers": [{"id": "S", "lead_time_periods": lead, "fixed_order_cost": setup}],
           "supplier_items": [{"supplier": "S", "sku": "A", "unit_cost": unit}]}
    p = parse_problem(doc)
    body = solve(p, time_limit_s=20, workers=1).to_json()
    validate_plan(p, body)
    assert body["status"] == "optimal"
    assert body["objective"] == pytest.approx(wagner_whitin(demand, setup, unit, holding, lead),
                                              rel=1e-6)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_optimal_is_never_worse_than_minmax_and_its_objective_is_the_recomputed_cost(seed):
    p = parse_problem(generate_problem(6, 2, 8, 2, seed=seed))
    minmax = solve(p, strategy="minmax").to_json()
    optimal = solve(p, time_limit_s=3, workers=1).to_json()
    validate_plan(p, minmax)
    cost = validate_plan(p, optimal)
    assert optimal["objective"] == pytest.approx(sum(cost.values()), rel=1e-9)
    assert optimal["objective"] <= minmax["objective"] + 1e-6
    assert optimal["bound"] <= optimal["objective"]


def test_a_proven_solve_returns_the_same_objective_every_time():
    p = parse_problem(generate_problem(3, 1, 6, 1, seed=5))
    first = solve(p, time_limit_s=20, workers=1).to_json()
    second = solve(p, time_limit_s=20, workers=1).to_json()
    validate_plan(p, first)
    assert first["status"] == "optimal"
    assert first["objective"] == second["objective"]
