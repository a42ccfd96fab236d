"""Strategy dispatch: ``optimal`` (Lagrangian bound and plan, then the whole MIP by HiGHS for
small models or a chunk neighbourhood search for large ones; never worse than min/max) or
``minmax`` (the peer-style baseline)."""

from __future__ import annotations

import time

import numpy as np

from optimizer.solver_args import checked_solver_args

from .exceptions import explain_exceptions
from .minmax import minmax_orders
from .bound import decoupled_bound
from .decompose import FULL_MIP_MAX_VARIABLES, LNS_ENGINE, improve_by_chunks
from .lagrange import lagrangian_bound, relaxation, share_subgradient
from .model import solve_mip
from .plan import ReplenishmentPlan, inventory, plan_cost
from .presolve import order_options
from .problem import STRATEGIES, ReplenishmentProblem

DEFAULT_WORKERS = 2
DEFAULT_SEED = 0
TIME_MARGIN = 0.08
# Measured on the 20-SKU benchmark instance, 9 s, same model: HiGHS 74,944 / bound 74,723
# (0.29 %), CP-SAT 77,050 / 74,681, SCIP 81,301 / 74,513 (docs/replenishment.md).
FULL_MIP_ENGINE = "HIGHS"
LAGRANGE_SHARE = 0.2      # of the time: subgradient on the multipliers (large models)
REFINE_SHARE = 0.5        # of the time: up to here, subgradient on the fixed-cost shares
SHARE_PLAN_EVERY = 4      # its iterations between plans built from the relaxed solution
SMALL_SHARES = (0.05, 0.1)  # the same two for models the full MIP takes
LAGRANGE_PLAN_EVERY = 10  # iterations between plans built from the relaxed solution
OPTIMAL_GAP = 1e-4        # the MIP's relative gap: a plan this close to its bound is optimal


def model_size(p: ReplenishmentProblem) -> int:
    """Variables of the full model, estimated before building it."""
    S, N, T = p.shape
    orders = sum(max(0, T - int(p.lead_time[u])) for u in p.item_supplier) * N
    return 3 * S * N * T + 2 * orders


def _pair_costs(p: ReplenishmentProblem, orders) -> "np.ndarray":
    """Purchase + holding + backlog + safety cost per [sku, node] (fixed costs left out)."""
    inv = inventory(p, orders)
    pos = np.maximum(inv, 0)
    c = (p.holding_cost[:, None, None] * pos + p.backlog_cost[:, None, None] * np.maximum(-inv, 0)
         + p.safety_stock_penalty * np.maximum(p.safety_stock[:, :, None] - pos, 0)).sum(axis=2)
    for o in orders:
        c[p.item_sku[o.item], o.node] += float(p.item_unit_cost[o.item]) * o.qty
    return c


def nothing_to_order(p: ReplenishmentProblem) -> bool:
    """Whether no order can be placed at all: no SKUs, no supplier items (e.g. no suppliers),
    or the presolve removes every order option (every lead time reaches past the horizon, or
    the smallest legal order exceeds the supplier's or the node's capacity or the budget).
    The empty plan is then the only plan, hence proven optimal; all demand not covered by
    stock and inbound is backlogged."""
    if len(p.sku_ids) == 0 or len(p.item_sku) == 0:
        return True
    return not order_options(p).any()


def solve(problem: ReplenishmentProblem, *, strategy: str | None = None,
          time_limit_s: float | None = None, workers: int = DEFAULT_WORKERS,
          seed: int = DEFAULT_SEED) -> ReplenishmentPlan:
    """Plan purchase orders; ``strategy`` and ``time_limit_s`` override the problem's policy."""
    start = time.perf_counter()
    strategy = strategy or problem.strategy
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; expected one of {STRATEGIES}")
    time_limit_s = problem.time_limit_s if time_limit_s is None else float(time_limit_s)
    time_limit_s, seed = checked_solver_args(time_limit_s, seed)
    baseline = minmax_orders(problem)
    if strategy == "minmax":
        plan = ReplenishmentPlan(problem, "minmax", baseline, bound=0.0,
                                 solve_seconds=time.perf_counter() - start)
    elif nothing_to_order(problem):
        objective = plan_cost(problem, []).total
        plan = ReplenishmentPlan(problem, "optimal", [], bound=objective,
                                 solve_seconds=time.perf_counter() - start,
                                 stats={"method": "nothing can be ordered: the empty plan"})
    else:
        # margin for reading the solution, exceptions and JSON after the solver stops
        deadline = start + time_limit_s * (1 - TIME_MARGIN)
        base_cost = plan_cost(problem, baseline).total
        orders, proven = baseline, False
        small = model_size(problem) <= FULL_MIP_MAX_VARIABLES
        t0 = time.perf_counter()
        relaxed = relaxation(problem)
        cost_of = lambda o: plan_cost(problem, o).total   # noqa: E731
        shares = SMALL_SHARES if small else (LAGRANGE_SHARE, REFINE_SHARE)
        lag = lagrangian_bound(
            problem, upper=base_cost, r=relaxed, deadline=t0 + shares[0] * (deadline - t0),
            plan_every=LAGRANGE_PLAN_EVERY, plan_eval=cost_of)
        lag = share_subgradient(problem, lag, relaxed, upper=base_cost, plan_eval=cost_of,
                                plan_every=SHARE_PLAN_EVERY,
                                deadline=t0 + shares[1] * (deadline - t0))
        bound = lag.bound
        if lag.plan is not None and lag.plan_cost <= base_cost:
            orders = lag.plan
        stats = {"lagrange_iterations": lag.iterations, "lagrange_bound": lag.bound,
                 "lagrange_plan": lag.plan_cost, "variables": model_size(problem)}
        if small:
            # the whole MIP, warm-started from the better of min/max and the Lagrangian plan
            mip = solve_mip(problem, time_limit_s=deadline - time.perf_counter(),
                            workers=workers, seed=seed, hint=orders, engine=FULL_MIP_ENGINE)
            bound = max(bound, mip.bound)
            stats.update(method=f"Lagrangian bound and plan + full MIP ({FULL_MIP_ENGINE})",
                         variables=mip.n_variables, constraints=mip.n_constraints)
            if mip.orders is not None and cost_of(mip.orders) <= cost_of(orders):
                orders, proven = mip.orders, mip.proven
        else:
            # neighbourhoods first where the plan pays most above the relaxation
            S, N, T = problem.shape
            excess = _pair_costs(problem, orders)
            if lag.pair_values is not None:
                excess = excess - lag.pair_values.reshape(S, N)
            orders, tried, improved = improve_by_chunks(
                problem, orders, deadline=deadline, workers=workers, seed=seed,
                priority=excess.sum(axis=1))
            stats["method"] = (f"Lagrangian bound and plan + {tried} chunk MIPs ({LNS_ENGINE}), "
                               f"{improved} improving")
        objective = plan_cost(problem, orders).total
        bound = min(max(bound, decoupled_bound(problem)), objective)
        gap = (objective - bound) / max(1.0, abs(objective))
        # a proven bound within the MIP's relative gap proves the plan optimal, whichever
        # part found it (the chunk search and the Lagrangian plan never prove anything)
        status = "optimal" if gap <= OPTIMAL_GAP else "feasible"
        stats.update(minmax_objective=base_cost, mip_proven=proven)
        plan = ReplenishmentPlan(problem, status, orders, bound=bound,
                                 solve_seconds=time.perf_counter() - start, stats=stats)
    plan.exceptions = explain_exceptions(problem, plan.orders)
    plan.solve_seconds = time.perf_counter() - start
    return plan
