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


# A safety-stock penalty above holding + backlog makes the cost non-convex at zero stock: a
# period in backlog pays the whole shortfall. The MIP let on-hand and backlog rise together
# there (inventory unchanged, the shortfall gone at holding + backlog a unit), so it planned
# for a cheaper cost than the real one: a 16.0 plan came back "feasible" within 0.1 s.
NONCONVEX = {
    "periods": 2,
    "skus": [{"sku": "A", "holding_cost": 0, "backlog_cost": 0, "case_pack": 2}],
    "nodes": [{"id": "DC", "receiving_capacity": 4}],
    "positions": [{"sku": "A", "node": "DC", "on_hand": 1, "safety_stock": 4,
                   "inbound": [{"period": 0, "qty": 1}]}],
    "demand": [{"sku": "A", "node": "DC", "period": 0, "qty": 3},
               {"sku": "A", "node": "DC", "period": 1, "qty": 5}],
    "suppliers": [{"id": "S", "lead_time_periods": 0, "fixed_order_cost": 3}],
    "supplier_items": [{"supplier": "S", "sku": "A", "unit_cost": 0.5}],
    "policy": {"safety_stock_penalty": 2},
}


def test_a_safety_penalty_above_holding_plus_backlog_is_planned_to_the_true_optimum():
    # Receiving 4 a period, so at most 4 a period at 0.5 + 3 fixed. Stock without orders:
    # -1, -6 (shortfall 4 + 4: cost 16). 4 in period 0: 3, -2 -> shortfall 1 + 4, 10 + 2 + 3
    # = 15; 4 in each period: 3, 2 -> 6 + 4 + 6 = 16; 2 in period 0: 14 + 1 + 3 = 18.
    p = parse_problem(NONCONVEX)
    body = solve(p, time_limit_s=10, workers=1).to_json()
    validate_plan(p, body)
    assert body["objective"] == pytest.approx(15.0)
    assert [(o["order_period"], o["qty"]) for o in body["orders"]] == [(0, 4)]
    assert body["status"] == "optimal" and body["bound"] == pytest.approx(15.0)


def brute_force_optimum(p) -> float:
    """Every plan of a one-SKU, one-node, one-supplier problem with orders up to 12 units."""
    from itertools import product

    from optimizer.replenishment import Order
    from optimizer.replenishment.plan import plan_cost

    lead, cp = int(p.lead_time[0]), int(p.case_pack[0])
    levels = [0] + list(range(p.item_min_qty(0), 13, cp))
    best = float("inf")
    for qtys in product(levels, repeat=p.periods - lead):
        if p.receiving_capacity[0] >= 0 and max(qtys) > p.receiving_capacity[0]:
            continue
        orders = [Order(0, 0, t, q) for t, q in enumerate(qtys) if q]
        best = min(best, plan_cost(p, orders).total)
    return best


@pytest.mark.parametrize("seed", range(8))
def test_plans_with_a_high_safety_penalty_match_a_brute_force_optimum(seed):
    rng = np.random.default_rng(seed)
    T = 4
    doc = {"periods": T,
           "skus": [{"sku": "A", "holding_cost": float(rng.choice([0, 0.5, 1])),
                     "backlog_cost": float(rng.choice([0, 0.5, 1])),
                     "case_pack": int(rng.choice([1, 2, 3]))}],
           "nodes": [{"id": "DC", "receiving_capacity": int(rng.choice([4, 6, 12]))}],
           "positions": [{"sku": "A", "node": "DC", "on_hand": int(rng.integers(-3, 6)),
                          "safety_stock": int(rng.choice([2, 4, 6]))}],
           "demand": [{"sku": "A", "node": "DC", "period": t, "qty": int(rng.integers(0, 6))}
                      for t in range(T)],
           "suppliers": [{"id": "S", "lead_time_periods": int(rng.choice([0, 1])),
                          "fixed_order_cost": float(rng.choice([0, 3, 10]))}],
           "supplier_items": [{"supplier": "S", "sku": "A",
                               "unit_cost": float(rng.choice([0.5, 1, 2])),
                               "moq": int(rng.choice([0, 4]))}],
           "policy": {"safety_stock_penalty": float(rng.choice([2, 5, 10]))}}
    p = parse_problem(doc)
    body = solve(p, time_limit_s=10, workers=1).to_json()
    validate_plan(p, body)
    assert body["objective"] == pytest.approx(brute_force_optimum(p), rel=1e-6)
    assert body["status"] == "optimal"


def test_a_plan_whose_bound_proves_it_optimal_is_reported_optimal_on_the_large_path(
        monkeypatch):
    # 'feasible' means the time limit stopped the search short of a proof; the chunk search
    # never proves anything itself, so a plan with bound = objective (one order
    # per pair, nothing binding) came back 'feasible' with gap 0.
    import sys

    monkeypatch.setattr(sys.modules["optimizer.replenishment.solve"], "FULL_MIP_MAX_VARIABLES",
                        0)
    doc = {"periods": 6,
           "skus": [{"sku": f"S{k}", "holding_cost": 0.1, "backlog_cost": 1.0}
                    for k in range(4)],
           "nodes": [{"id": "DC"}],
           "demand": [{"sku": f"S{k}", "node": "DC", "period": 3, "qty": 10} for k in range(4)],
           "suppliers": [{"id": "S", "lead_time_periods": 1}],
           "supplier_items": [{"supplier": "S", "sku": f"S{k}", "unit_cost": 1.0}
                              for k in range(4)]}
    p = parse_problem(doc)
    plan = solve(p, time_limit_s=3, workers=1)
    body = plan.to_json()
    validate_plan(p, body)
    assert "chunk" in plan.stats["method"]
    assert body["objective"] == pytest.approx(40.0) and body["gap"] <= 1e-4
    assert body["status"] == "optimal"


def test_solve_refuses_a_negative_seed_before_solving(monkeypatch):
    # The chunk search's random generator refuses a negative seed: -1 crashed a large
    # problem with a traceback after the whole solve time.
    import sys

    monkeypatch.setattr(sys.modules["optimizer.replenishment.solve"], "FULL_MIP_MAX_VARIABLES",
                        0)
    p = parse_problem(generate_problem(5, 2, 6, 2, seed=1))
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        solve(p, time_limit_s=2, workers=1, seed=-1)


def test_a_seed_beyond_highs_range_is_taken_modulo_2_31(monkeypatch):
    # HiGHS takes 0 … 2³¹−1 and ignores any other seed; the scenario engine passes its
    # scenarios' seeds, which may be any non-negative integer.
    import sys

    mod = sys.modules["optimizer.replenishment.solve"]
    seen, real = [], mod.solve_mip
    monkeypatch.setattr(mod, "solve_mip", lambda *a, **k: seen.append(k["seed"]) or real(*a, **k))
    p = parse_problem(generate_problem(3, 1, 6, 1, seed=5))
    body = solve(p, time_limit_s=10, workers=1, seed=2**40 + 5).to_json()
    validate_plan(p, body)
    assert seen == [5]   # 2**40 + 5 modulo 2**31


@pytest.mark.parametrize("limit", [float("nan"), float("inf"), 0.0, -1.0])
def test_solve_refuses_a_time_limit_that_is_not_a_positive_number(limit):
    # NaN, 0 and -1 planned for a token time and inf without any limit, as routing refuses
    p = parse_problem(generate_problem(3, 1, 6, 1, seed=5))
    with pytest.raises(ValueError, match="time_limit_s must be a positive number"):
        solve(p, time_limit_s=limit, workers=1)
