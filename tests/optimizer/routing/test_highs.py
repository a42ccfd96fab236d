"""HiGHS through its C API: the incumbent and a real dual bound on a time limit, warm starts,
thread counts that change between runs, and a time limit that bounds the whole call."""

from __future__ import annotations

import time

import numpy as np

from optimizer.routing import parse_problem, solve, validate_plan
from optimizer.routing.generate import generate_problem
from optimizer.routing.greedy import greedy_allocation
from optimizer.routing.model import build_model, highs_solve
from optimizer.routing.plan import allocation_cost


def _problem(orders=300, nodes=8, skus=120, seed=3):
    return parse_problem(generate_problem(orders, nodes, skus, seed=seed))


def test_incumbent_and_bound_come_back_on_a_time_limit():
    problem = _problem()
    model = build_model(problem)
    greedy = greedy_allocation(problem)
    res = highs_solve(model, time_limit_s=0.3, workers=1, seed=0,
                      start=model.encode(greedy))
    # the start alone is an incumbent, so a solution always comes back
    assert res.values is not None
    assert res.objective <= allocation_cost(problem, greedy).total + 1e-6
    decoded = allocation_cost(problem, model.decode(res.values)).total
    assert decoded <= res.objective + 1e-6
    if res.bound is not None:
        exact = highs_solve(model, time_limit_s=60, workers=1, seed=0)
        assert exact.optimal
        assert res.bound <= exact.objective + 1e-6


def test_warm_start_encodes_the_plan_at_its_cost():
    problem = _problem(orders=120, nodes=6, skus=60)
    model = build_model(problem)
    greedy = greedy_allocation(problem)
    values = model.encode(greedy)
    cost = float(np.dot(model.cost, values)) + model.offset
    assert abs(cost - allocation_cost(problem, greedy).total) <= 1e-6 * max(1.0, cost)
    assert sorted(model.decode(values)) == sorted(greedy)


def test_thread_count_can_change_between_runs():
    problem = _problem(orders=80, nodes=5, skus=40)
    model = build_model(problem)
    objectives = {highs_solve(model, time_limit_s=30, workers=w, seed=0).objective
                  for w in (1, 2, 1)}
    assert len(objectives) == 1


def test_lp_relaxation_bounds_the_mip():
    problem = _problem(orders=150, nodes=6, skus=60)
    model = build_model(problem)
    lp = highs_solve(model, time_limit_s=30, workers=1, seed=0, relax=True)
    mip = highs_solve(model, time_limit_s=30, workers=1, seed=0)
    assert lp.optimal and mip.optimal
    assert lp.objective <= mip.objective + 1e-6


def test_a_short_limit_bounds_the_whole_call_and_never_loses_to_greedy():
    problem = _problem(orders=3000, nodes=8, skus=300, seed=5)
    greedy = solve(problem, strategy="greedy", workers=1, seed=0)
    start = time.perf_counter()
    plan = solve(problem, strategy="optimal", time_limit_s=1.0, workers=1, seed=0)
    assert time.perf_counter() - start <= 2.0   # 1.1 s nominal; slack for a loaded machine
    validate_plan(problem, plan)
    assert plan.objective <= greedy.objective + 1e-6
    assert plan.bound <= plan.objective + 1e-6
