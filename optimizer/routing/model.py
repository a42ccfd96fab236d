"""The optimal strategy: a MIP of the whole batch, solved with HiGHS through OR-Tools.

Variables (after presolve drops every pair that cannot help):
  x[l,p]  integer units of line l shipped on eligible pair p = (order, node),
          only where the node holds the SKU and the unit costs less than the penalty;
  y[p]    binary, pair p is a shipment (split-allowed orders);
  z[p]    binary, ship-complete order shipped whole on pair p;
  s[o]    continuous, shipments of order o beyond the first (only when split_penalty > 0).
Rows: x ≤ min(qty, stock)·y; Σ z ≤ 1 per ship-complete order; stock per (node, SKU),
units and shipments per node (only where they can bind); Σ y ≤ max_shipments;
s ≥ Σ y − 1. The objective is the cost model: per-unit savings against the penalty,
with Σ qty·penalty passed to the solver as the objective offset.
With y fixed, what is left for x is a transportation problem with a totally
unimodular matrix (line rows; stock rows nested in node rows), so the LP is
integral in x and the solver branches only on the shipment indicators.
See docs/routing.md for the steps of ``solve_mip`` and the measurements behind them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver.python import model_builder_helper as mbh

from .greedy import greedy_allocation
from .plan import allocation_cost
from .problem import RoutingProblem


@dataclass
class MipResult:
    allocation: list[tuple[int, int, int]] | None
    bound: float | None
    proven_optimal: bool
    n_variables: int
    n_constraints: int
    seconds: float


class _Builder:
    """Collects columns and rows, then fills a ModelBuilderHelper in one pass."""

    def __init__(self) -> None:
        self.lb: list[float] = []
        self.ub: list[float] = []
        self.obj: list[float] = []
        self.integer: list[bool] = []
        self.rows: list[tuple[float, float, list[int], list[float]]] = []

    def var(self, ub: float, obj: float, integer: bool) -> int:
        self.lb.append(0.0)
        self.ub.append(float(ub))
        self.obj.append(float(obj))
        self.integer.append(integer)
        return len(self.ub) - 1

    def row(self, lo: float, hi: float, idx: list[int], coef: list[float]) -> None:
        if idx:
            self.rows.append((lo, hi, idx, coef))

    def helper(self, *, relax: bool = False, lb: np.ndarray | None = None,
               ub: np.ndarray | None = None, offset: float = 0.0) -> mbh.ModelBuilderHelper:
        model = mbh.ModelBuilderHelper()
        integer = np.zeros(len(self.ub), dtype=bool) if relax else np.asarray(self.integer)
        idx = model.add_var_array_with_bounds(
            np.asarray(self.lb) if lb is None else lb, np.asarray(self.ub) if ub is None else ub,
            integer, "v")
        model.set_objective_coefficients([int(i) for i in idx], self.obj)
        model.set_objective_offset(offset)
        add_term = model.safe_add_term_to_constraint
        for lo, hi, vars_, coefs in self.rows:
            ct = model.add_linear_constraint()
            model.set_constraint_lower_bound(ct, lo)
            model.set_constraint_upper_bound(ct, hi)
            for v, c in zip(vars_, coefs):
                add_term(ct, v, c)
        return model


def build_model(problem: RoutingProblem) -> "Model":
    """The batch MIP; ``decode(values)`` turns solver values into (line, node, qty) triples."""
    b = _Builder()
    inf = float("inf")
    n_nodes = problem.n_nodes
    stock = problem.stock
    stock_terms: dict[tuple[int, int], tuple[list[int], list[float]]] = {}
    stock_reach: dict[tuple[int, int], float] = {}   # most units the terms could take
    unit_terms = [([], []) for _ in range(n_nodes)]
    unit_reach = np.zeros(n_nodes)
    order_terms = [([], []) for _ in range(n_nodes)]
    x_map: list[tuple[int, int, int]] = []       # (var, line, node)
    z_map: list[tuple[int, int, int]] = []       # (var, order, node)
    indicators: list[int] = []                   # y and z
    indicator_nodes: list[int] = []
    indicator_pairs: list[int] = []
    offset = 0.0

    def add_stock(n: int, k: int, v: int, c: float, reach: float) -> None:
        terms = stock_terms.setdefault((n, k), ([], []))
        terms[0].append(v)
        terms[1].append(c)
        stock_reach[(n, k)] = stock_reach.get((n, k), 0.0) + reach
        unit_reach[n] += reach

    for o in range(problem.n_orders):
        pen = float(problem.order_penalty[o])
        lines = problem.lines_of(o)
        offset += pen * float(problem.line_qty[lines.start:lines.stop].sum())
        pairs = problem.pairs_of(o)
        if problem.order_ship_complete[o]:
            need: dict[int, int] = {}
            for l in lines:
                need[int(problem.line_sku[l])] = need.get(int(problem.line_sku[l]), 0) + int(
                    problem.line_qty[l])
            total = sum(need.values())
            zs = []
            for p in pairs:
                n = int(problem.pair_node[p])
                cost = float(problem.pair_ship_cost[p] + problem.pair_unit_cost[p] * total)
                if total == 0 or cost >= pen * total or problem.cap_orders[n] == 0:
                    continue
                if 0 <= problem.cap_units[n] < total:
                    continue
                if any(stock[n, k] < q for k, q in need.items()):
                    continue
                z = b.var(1, cost - pen * total, True)
                zs.append(z)
                indicators.append(z)
                indicator_nodes.append(n)
                indicator_pairs.append(p)
                z_map.append((z, o, n))
                for k, q in need.items():
                    add_stock(n, k, z, q, q)
                unit_terms[n][0].append(z)
                unit_terms[n][1].append(total)
                order_terms[n][0].append(z)
                order_terms[n][1].append(1.0)
            if len(zs) > 1:
                b.row(-inf, 1.0, zs, [1.0] * len(zs))
            continue
        ys = []
        line_terms: dict[int, list[int]] = {}
        for p in pairs:
            n = int(problem.pair_node[p])
            unit = float(problem.pair_unit_cost[p])
            if unit >= pen or problem.cap_orders[n] == 0 or problem.cap_units[n] == 0:
                continue
            cands = [l for l in lines if stock[n, problem.line_sku[l]] > 0
                     and problem.line_qty[l] > 0]
            if not cands:
                continue
            y = b.var(1, float(problem.pair_ship_cost[p]), True)
            ys.append(y)
            indicators.append(y)
            indicator_nodes.append(n)
            indicator_pairs.append(p)
            cap = problem.cap_units[n]
            for l in cands:
                k = int(problem.line_sku[l])
                ub = min(int(problem.line_qty[l]), int(stock[n, k]))
                if cap >= 0:
                    ub = min(ub, int(cap))
                x = b.var(ub, unit - pen, True)
                x_map.append((x, l, n))
                line_terms.setdefault(l, []).append(x)
                b.row(-inf, 0.0, [x, y], [1.0, -float(ub)])
                add_stock(n, k, x, 1.0, ub)
                unit_terms[n][0].append(x)
                unit_terms[n][1].append(1.0)
            order_terms[n][0].append(y)
            order_terms[n][1].append(1.0)
        for l, xs in line_terms.items():
            if len(xs) > 1:
                b.row(-inf, float(problem.line_qty[l]), xs, [1.0] * len(xs))
        limit = int(problem.order_max_shipments[o])
        if limit and len(ys) > limit:
            b.row(-inf, float(limit), ys, [1.0] * len(ys))
        if problem.split_penalty > 0 and len(ys) > 1:
            s = b.var(max(0, len(ys) - 1), problem.split_penalty, False)
            b.row(-inf, 1.0, ys + [s], [1.0] * len(ys) + [-1.0])

    for (n, k), (vars_, coefs) in stock_terms.items():
        if stock_reach[(n, k)] > stock[n, k] and len(vars_) > 1:
            b.row(-inf, float(stock[n, k]), vars_, coefs)
    for n in range(n_nodes):
        for cap, reach, (vars_, coefs) in (
                (problem.cap_units[n], unit_reach[n], unit_terms[n]),
                (problem.cap_orders[n], len(order_terms[n][0]), order_terms[n])):
            if cap >= 0 and reach > cap and vars_:
                b.row(-inf, float(cap), vars_, coefs)

    def decode(values: np.ndarray) -> list[tuple[int, int, int]]:
        out = []
        for x, l, n in x_map:
            q = int(round(values[x]))
            if q > 0:
                out.append((l, n, q))
        for z, o, n in z_map:
            if values[z] > 0.5:
                out.extend((l, n, int(problem.line_qty[l])) for l in problem.lines_of(o))
        return out

    return Model(b, decode, offset, np.asarray(indicators, dtype=np.int64),
                 np.asarray(indicator_nodes, dtype=np.int64),
                 np.asarray(indicator_pairs, dtype=np.int64))


@dataclass
class Model:
    """The built MIP and what is needed to read a solution back."""

    builder: _Builder
    decode: object          # values -> [(line, node, qty)]
    offset: float           # Σ qty · penalty, the cost of shipping nothing
    indicator_vars: np.ndarray  # shipment indicators (y and z)
    indicator_nodes: np.ndarray  # the node of each indicator
    indicator_pairs: np.ndarray  # the eligible (order, node) pair of each indicator

    @property
    def n_variables(self) -> int:
        return len(self.builder.ub)

    @property
    def n_constraints(self) -> int:
        return len(self.builder.rows)


# HiGHS builds one global thread pool per process on its first run, and a later run that
# asks for another thread count fails ("Error running HiGHS run()"). So the first worker
# count a process passes is the one every later HiGHS run in that process uses.
_highs_threads: int | None = None


def _run(model: mbh.ModelBuilderHelper, *, time_limit_s: float, workers: int, seed: int,
         relative_gap: float) -> mbh.ModelSolverHelper:
    global _highs_threads
    engine = mbh.ModelSolverHelper("highs")
    engine.set_time_limit_in_seconds(max(0.05, time_limit_s))
    if _highs_threads is None:
        _highs_threads = max(1, workers)
    engine.set_solver_specific_parameters(
        f"random_seed={seed}\nthreads={_highs_threads}\nmip_rel_gap={relative_gap}\n"
        "output_flag=false\nlog_to_console=false\n")
    engine.solve(model)
    return engine


def _solved(engine: mbh.ModelSolverHelper) -> bool:
    return engine.status() in (mbh.SolveStatus.OPTIMAL, mbh.SolveStatus.FEASIBLE) and \
        engine.has_solution()


FULL_MIP_MAX_VARIABLES = 15_000   # measured: HiGHS proves these in seconds
LNS_ROUND_MIN_S = 3.0                   # per round, plus 1 s per 20,000 variables
LNS_FREE_INDICATORS = 2_000             # measured best on the 2,000-order benchmark


def _solve_fixed(model: Model, fix: np.ndarray, at: np.ndarray, *, time_limit_s: float,
                 workers: int, seed: int, relative_gap: float):
    """The MIP with the variables ``fix`` held at ``at``: (values, objective) or (None, inf)."""
    b = model.builder
    lb, ub = np.asarray(b.lb), np.asarray(b.ub).copy()
    lb = lb.copy()
    lb[fix] = ub[fix] = at
    engine = _run(b.helper(lb=lb, ub=ub, offset=model.offset), time_limit_s=time_limit_s,
                  workers=workers, seed=seed, relative_gap=relative_gap)
    if not _solved(engine):
        return None, float("inf")
    return engine.variable_values(), float(engine.objective_value())


def solve_mip(problem: RoutingProblem, *, time_limit_s: float, workers: int, seed: int,
              relative_gap: float = 1e-4, deadline: float | None = None) -> MipResult:
    """Best plan and proven bound the time allows.

    HiGHS through OR-Tools returns no solution when it stops on a limit, so each MIP here
    is one that can finish, and a plan is in hand before any MIP starts: the LP relaxation
    gives the bound and a guide for greedy (the plan in hand); the MIP over the shipment
    indicators the LP left fractional (the others fixed where the LP put them) improves
    it; then small models go to the full MIP (HiGHS proves them in seconds), larger ones
    to node-neighbourhood search for the time left.
    """
    start = time.perf_counter()
    deadline = deadline if deadline is not None else start + time_limit_s
    model = build_model(problem)
    b = model.builder
    options = dict(workers=workers, seed=seed, relative_gap=relative_gap)

    def result(allocation, bound, proven):
        return MipResult(allocation, bound, proven, model.n_variables, model.n_constraints,
                         time.perf_counter() - start)

    if model.n_variables == 0:
        return result([], model.offset, True)
    lp_start = time.perf_counter()
    lp = _run(b.helper(relax=True, offset=model.offset),
              time_limit_s=deadline - time.perf_counter(), **options)
    lp_seconds = time.perf_counter() - lp_start
    if lp.status() != mbh.SolveStatus.OPTIMAL:
        return result(None, None, False)
    bound = float(lp.objective_value())
    values = lp.variable_values()
    ind = model.indicator_vars
    score = np.zeros(len(problem.pair_node))
    score[model.indicator_pairs] = values[ind]
    guided = greedy_allocation(problem, score)
    guided_cost = allocation_cost(problem, guided).total
    best, objective = None, guided_cost
    # The restricted MIP needs about as long as the LP (measured at 2,000 and 10,000
    # orders); started with less time it only times out, and HiGHS overruns its limit.
    if deadline - time.perf_counter() >= lp_seconds:
        settled = np.abs(values[ind] - np.round(values[ind])) <= 1e-6
        found, value = _solve_fixed(model, ind[settled], np.round(values[ind[settled]]),
                                    time_limit_s=deadline - time.perf_counter(), **options)
        if value < objective:
            best, objective = found, value
    if model.n_variables <= FULL_MIP_MAX_VARIABLES:
        full = _run(b.helper(offset=model.offset),
                    time_limit_s=deadline - time.perf_counter(), **options)
        if _solved(full):
            bound = max(bound, float(full.best_objective_bound()))
            if float(full.objective_value()) <= objective:
                return result(model.decode(full.variable_values()), bound,
                              full.status() == mbh.SolveStatus.OPTIMAL)
    elif best is not None:
        best, objective = _improve(model, best, objective, bound, deadline=deadline,
                                   **options)
    if best is None:
        return result(guided, bound, False)
    proven = objective - bound <= relative_gap * max(1.0, abs(objective))
    return result(model.decode(best), bound, proven)


def _improve(model: Model, best: np.ndarray, objective: float, bound: float, *,
             deadline: float, workers: int, seed: int, relative_gap: float):
    """Large-neighbourhood search: free the shipment indicators of random nodes (up to
    LNS_FREE_INDICATORS), fix the rest where the incumbent has them, re-solve, keep what
    improves. Every neighbourhood contains the incumbent, so a round can only help."""
    rng = np.random.default_rng(seed)
    ind, ind_nodes = model.indicator_vars, model.indicator_nodes
    nodes = np.unique(ind_nodes)
    while True:
        left = deadline - time.perf_counter()
        if left < 0.3 or objective - bound <= relative_gap * max(1.0, abs(objective)):
            return best, objective
        free = np.zeros(len(ind), dtype=bool)
        for n in rng.permutation(nodes):
            at_node = np.flatnonzero(ind_nodes == n)
            room = LNS_FREE_INDICATORS - int(free.sum())
            if room <= 0:
                break
            if len(at_node) > room:
                at_node = rng.choice(at_node, size=room, replace=False)
            free[at_node] = True
        fix = ind[~free]
        found, value = _solve_fixed(model, fix, np.round(best[fix]),
                                    time_limit_s=min(left, LNS_ROUND_MIN_S
                                                     + model.n_variables / 20_000),
                                    workers=workers,
                                    seed=seed, relative_gap=relative_gap)
        if value < objective - 1e-9:
            best, objective = found, value
