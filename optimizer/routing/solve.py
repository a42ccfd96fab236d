"""``solve``: the one entry point that picks a strategy and always returns a valid plan."""

from __future__ import annotations

import time

from optimizer.solver_args import checked_solver_args

from .greedy import greedy_allocation, simple_lower_bound
from .model import solve_mip
from .plan import RoutingPlan, allocation_cost, make_plan
from .problem import RoutingProblem
from .single import route_order

DEFAULT_WORKERS = 2
DEFAULT_SEED = 0
SINGLE_SEARCH_SHARE = 0.5   # of the time limit, for the exact single-order search


def deadline_left(start: float, time_limit_s: float) -> float:
    return start + time_limit_s - time.perf_counter()


def solve(problem: RoutingProblem, *, strategy: str | None = None,
          time_limit_s: float | None = None, workers: int = DEFAULT_WORKERS,
          seed: int = DEFAULT_SEED) -> RoutingPlan:
    """Route the batch. ``strategy``/``time_limit_s`` default to the problem's policy.

    ``optimal`` never returns a plan costlier than ``greedy``: greedy runs first and is the
    fallback (status ``feasible``, with the best proven bound) if the solver finds nothing
    better within the time limit.
    """
    strategy = strategy or problem.strategy
    time_limit_s = problem.time_limit_s if time_limit_s is None else float(time_limit_s)
    if strategy not in ("optimal", "greedy"):
        raise ValueError(f"unknown strategy {strategy!r}")
    time_limit_s, seed = checked_solver_args(time_limit_s, seed)
    start = time.perf_counter()
    searched = None
    if strategy == "optimal" and problem.n_orders <= 1:
        # The exact single-order search; one it cannot finish in half the time (an
        # order of dozens of lines over dozens of nodes) hands its best plan and bound
        # to the batch MIP for the rest.
        plan = route_order(problem, time_limit_s=SINGLE_SEARCH_SHARE * time_limit_s)
        if plan.status == "optimal":
            return plan
        searched = plan
    greedy = greedy_allocation(problem)
    simple_bound = simple_lower_bound(problem)
    if searched is not None:
        simple_bound = max(simple_bound, searched.bound)
        found = list(searched.allocation)
        if allocation_cost(problem, found).total < allocation_cost(problem, greedy).total:
            greedy = found
    if strategy == "greedy":
        return make_plan(problem, greedy, status="greedy", bound=simple_bound,
                         solve_seconds=time.perf_counter() - start)
    # The time limit bounds the whole call: the model is only built when building it,
    # solving and turning the result into a plan fit in what is left (measured on the
    # 2-core machine: building about 4 µs per line, the plan about 15 µs; both doubled
    # here for a loaded machine).
    lines = problem.n_lines
    plan_s = 0.02 + 0.00003 * lines
    build_s = 0.01 + 0.00001 * lines
    if deadline_left(start, time_limit_s) < plan_s + build_s + 0.1:
        return make_plan(problem, greedy, status="feasible", bound=simple_bound,
                         solve_seconds=time.perf_counter() - start)
    result = solve_mip(problem, time_limit_s=time_limit_s, workers=workers, seed=seed,
                       deadline=start + time_limit_s - plan_s, start_allocation=greedy)
    bound = max(simple_bound, result.bound if result.bound is not None else simple_bound)
    allocation, proven = greedy, False
    if result.allocation is not None and (allocation_cost(problem, result.allocation).total
                                          <= allocation_cost(problem, greedy).total):
        allocation, proven = result.allocation, result.proven_optimal
    plan = make_plan(problem, allocation, status="feasible", bound=bound,
                     solve_seconds=time.perf_counter() - start)
    if proven and plan.objective - plan.bound <= 1e-6 * max(1.0, abs(plan.objective)):
        plan = make_plan(problem, allocation, status="optimal", bound=None,
                         solve_seconds=time.perf_counter() - start)
    return plan
