"""The Lagrangian bound (capacity / receiving / budget rows priced, MOQs and fixed-cost shares
in the subproblems) is a proven lower bound, and the plans repaired from it are valid."""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest

import optimizer.replenishment.solve  # noqa: F401  (the module, not the function)
from optimizer.replenishment import parse_problem, solve, validate_plan
from optimizer.replenishment import lagrange as lg
from optimizer.replenishment.decompose import improve_by_chunks
from optimizer.replenishment.generate import generate_problem
from optimizer.replenishment.minmax import minmax_orders
from optimizer.replenishment.plan import ReplenishmentPlan, plan_cost


def _small(seed):
    rng = np.random.default_rng(seed)
    S, N, T, U = (int(rng.integers(2, 5)), int(rng.integers(1, 3)), int(rng.integers(4, 8)),
                  int(rng.integers(1, 4)))
    budget = float(rng.uniform(200, 2000)) if seed % 3 == 0 else None
    return parse_problem(generate_problem(
        S, N, T, U, seed=seed, capacity_tightness=float(rng.uniform(0.5, 1.2)), budget=budget))


@pytest.mark.parametrize("seed", range(8))
def test_every_lagrangian_value_is_below_the_proven_optimum(seed):
    p = _small(seed)
    body = solve(p, time_limit_s=30, workers=1).to_json()
    validate_plan(p, body)
    assert body["status"] == "optimal"
    opt = body["objective"]
    r = lg.relaxation(p)
    rng = np.random.default_rng(100 + seed)
    U, (S, N, T) = len(p.supplier_ids), p.shape
    for trial in range(4):       # any multipliers ≥ 0 and any shares within the fixed costs
        lam = rng.uniform(0, 3, (U, T)) * (trial > 0)
        mu = rng.uniform(0, 1, (N, T)) * (trial > 1)
        nu = float(rng.uniform(0, 0.3)) * (trial > 2)
        assert lg.lagrangian_value(p, lam, mu, nu, r) <= opt + 1e-6
        value, arrivals, item, _ = lg.refine(p, r, lam, mu, nu)
        assert value <= opt + 1e-6
        share = lg.fixed_cost_shares(p, arrivals, item, r)
        assert lg.refine(p, r, lam, mu, nu, share)[0] <= opt + 1e-6
        noisy = lg._project_shares(p, share + rng.uniform(0, 50, share.shape))
        assert lg.refine(p, r, lam, mu, nu, noisy)[0] <= opt + 1e-6
    # the optimised ones too
    lag = lg.lagrangian_bound(p, upper=opt, deadline=time.perf_counter() + 2, r=r)
    assert lag.bound <= opt + 1e-6
    lag = lg.refined_bound(p, lag, r, deadline=time.perf_counter() + 2)
    assert lag.bound <= opt + 1e-6
    lag = lg.share_subgradient(p, lag, r, deadline=time.perf_counter() + 2, upper=opt)
    assert lag.bound <= opt + 1e-6


def test_shares_are_projected_within_each_fixed_cost():
    p = parse_problem(generate_problem(30, 2, 8, 3, seed=3))
    rng = np.random.default_rng(0)
    S, N, T = p.shape
    share = lg._project_shares(p, rng.uniform(-20, 200, (len(p.item_sku), N, T)))
    assert (share >= 0).all()
    for u in range(len(p.supplier_ids)):
        total = share[p.item_supplier == u].sum(axis=0)
        assert (total <= p.fixed_order_cost[u] + 1e-9).all()


def test_plans_repaired_from_the_relaxation_are_valid_and_above_the_bound():
    doc = generate_problem(60, 3, 10, 4, seed=5, capacity_tightness=0.8, budget=40_000.0)
    p = parse_problem(doc)
    r = lg.relaxation(p)
    cost_of = lambda o: plan_cost(p, o).total   # noqa: E731
    minmax = cost_of(minmax_orders(p))
    lag = lg.lagrangian_bound(p, upper=minmax, deadline=time.perf_counter() + 3, r=r,
                              plan_every=3, plan_eval=cost_of)
    lag = lg.refined_bound(p, lag, r, deadline=time.perf_counter() + 3, plan_eval=cost_of)
    assert lag.plan is not None
    plan = ReplenishmentPlan(p, "feasible", lag.plan, bound=0.0, solve_seconds=0.0)
    validate_plan(p, plan.to_json())
    assert lag.bound <= lag.plan_cost + 1e-6
    assert lag.bound <= minmax + 1e-6


def test_the_neighbourhood_search_keeps_plans_valid_and_never_worse():
    p = parse_problem(generate_problem(40, 2, 8, 3, seed=4, budget=20_000.0))
    start = minmax_orders(p)
    orders, tried, _ = improve_by_chunks(p, start, deadline=time.perf_counter() + 4, workers=1,
                                         seed=0, chunk_variables=300)
    assert tried > 0
    assert plan_cost(p, orders).total <= plan_cost(p, start).total + 1e-6
    validate_plan(p, ReplenishmentPlan(p, "feasible", orders, bound=0.0,
                                       solve_seconds=0.0).to_json())


@pytest.mark.parametrize("seed", [1, 2])
def test_the_large_path_bound_is_below_the_optimum_the_full_mip_proves(seed, monkeypatch):
    p = parse_problem(generate_problem(5, 2, 6, 2, seed=seed))
    exact = solve(p, time_limit_s=30, workers=1).to_json()
    assert exact["status"] == "optimal"
    monkeypatch.setattr(sys.modules["optimizer.replenishment.solve"], "FULL_MIP_MAX_VARIABLES", 0)
    plan = solve(p, time_limit_s=3, workers=1)
    body = plan.to_json()
    validate_plan(p, body)
    assert "chunk" in plan.stats["method"]
    assert body["bound"] <= exact["objective"] + 1e-6 <= body["objective"] + 2e-6


def test_with_no_time_for_the_subgradient_the_bound_is_still_the_lagrangian_one(monkeypatch):
    from optimizer.replenishment.bound import decoupled_bound

    mod = sys.modules["optimizer.replenishment.solve"]
    monkeypatch.setattr(mod, "FULL_MIP_MAX_VARIABLES", 0)
    monkeypatch.setattr(mod, "LAGRANGE_SHARE", 0.0)
    monkeypatch.setattr(mod, "REFINE_SHARE", 0.0)
    p = parse_problem(generate_problem(30, 2, 8, 3, seed=6))
    plan = solve(p, time_limit_s=2, workers=1)
    validate_plan(p, plan.to_json())
    assert np.isfinite(plan.stats["lagrange_bound"])
    assert plan.stats["lagrange_bound"] >= decoupled_bound(p) - 1e-6
    assert plan.bound >= plan.stats["lagrange_bound"] - 1e-6
