"""Strategy dispatch: ``optimal`` (MIP warm-started from min/max, never worse than it) or
``minmax`` (the peer-style baseline)."""

from __future__ import annotations

import time

from .exceptions import explain_exceptions
from .minmax import minmax_orders
from .bound import decoupled_bound
from .decompose import FULL_MIP_MAX_VARIABLES, solve_chunked
from .model import solve_mip
from .plan import ReplenishmentPlan, plan_cost
from .problem import STRATEGIES, ReplenishmentProblem

DEFAULT_WORKERS = 2
DEFAULT_SEED = 0
TIME_MARGIN = 0.08


def model_size(p: ReplenishmentProblem) -> int:
    """Variables of the full model, estimated before building it."""
    S, N, T = p.shape
    orders = sum(max(0, T - int(p.lead_time[u])) for u in p.item_supplier) * N
    return 3 * S * N * T + 2 * orders


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
        # margin for reading the solution, exceptions and JSON after the solver stops
        deadline = start + time_limit_s * (1 - TIME_MARGIN)
        base_cost = plan_cost(problem, baseline).total
        orders, proven = baseline, False
        if model_size(problem) <= FULL_MIP_MAX_VARIABLES:
            mip = solve_mip(problem, time_limit_s=deadline - time.perf_counter(),
                            workers=workers, seed=seed, hint=baseline)
            bound = mip.bound
            stats = {"method": "full MIP (SCIP)", "variables": mip.n_variables,
                     "constraints": mip.n_constraints}
            if mip.orders is not None and plan_cost(problem, mip.orders).total <= base_cost:
                orders, proven = mip.orders, mip.proven
        else:
            chunked, bound, lp_s, n_chunks = solve_chunked(problem, deadline=deadline,
                                                           workers=workers, seed=seed)
            stats = {"method": f"decoupled bound + {n_chunks} chunk MIPs (SCIP)",
                     "lp_seconds": lp_s, "variables": model_size(problem)}
            if plan_cost(problem, chunked).total <= base_cost:
                orders = chunked
        objective = plan_cost(problem, orders).total
        bound = min(max(bound, decoupled_bound(problem)), objective)
        gap = (objective - bound) / max(1.0, abs(objective))
        status = "optimal" if proven and gap <= 1e-4 else "feasible"
        stats["minmax_objective"] = base_cost
        plan = ReplenishmentPlan(problem, status, orders, bound=bound,
                                 solve_seconds=time.perf_counter() - start, stats=stats)
    plan.exceptions = explain_exceptions(problem, plan.orders)
    plan.solve_seconds = time.perf_counter() - start
    return plan
