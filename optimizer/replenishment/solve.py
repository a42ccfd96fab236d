"""Strategy dispatch: ``optimal`` (MIP warm-started from min/max, never worse than it) or
``minmax`` (the peer-style baseline)."""

from __future__ import annotations

import time

from .exceptions import explain_exceptions
from .minmax import minmax_orders
from .model import solve_mip
from .plan import ReplenishmentPlan, plan_cost
from .problem import STRATEGIES, ReplenishmentProblem

DEFAULT_WORKERS = 2
DEFAULT_SEED = 0


def solve(problem: ReplenishmentProblem, *, strategy: str | None = None,
          time_limit_s: float | None = None, workers: int = DEFAULT_WORKERS,
          seed: int = DEFAULT_SEED) -> ReplenishmentPlan:
    """Plan purchase orders; ``strategy`` and ``time_limit_s`` override the problem's policy."""
    start = time.perf_counter()
    strategy = strategy or problem.strategy
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; expected one of {STRATEGIES}")
    time_limit_s = problem.time_limit_s if time_limit_s is None else float(time_limit_s)
    baseline = minmax_orders(problem)
    if strategy == "minmax":
        plan = ReplenishmentPlan(problem, "minmax", baseline, bound=0.0,
                                 solve_seconds=time.perf_counter() - start)
    else:
        left = time_limit_s - (time.perf_counter() - start)
        mip = solve_mip(problem, time_limit_s=left, workers=workers, seed=seed, hint=baseline)
        base_cost = plan_cost(problem, baseline).total
        orders, proven = baseline, False
        if mip.orders is not None:
            mip_cost = plan_cost(problem, mip.orders).total
            if mip_cost <= base_cost:
                orders, proven = mip.orders, mip.proven
        objective = plan_cost(problem, orders).total
        bound = min(mip.bound, objective)
        gap = (objective - bound) / max(1.0, abs(objective))
        status = "optimal" if proven and gap <= 1e-4 else "feasible"
        plan = ReplenishmentPlan(problem, status, orders, bound=bound,
                                 solve_seconds=time.perf_counter() - start,
                                 stats={"variables": mip.n_variables,
                                        "constraints": mip.n_constraints,
                                        "build_seconds": mip.build_seconds,
                                        "mip_seconds": mip.solve_seconds,
                                        "minmax_objective": base_cost})
    plan.exceptions = explain_exceptions(problem, plan.orders)
    plan.solve_seconds = time.perf_counter() - start
    return plan
