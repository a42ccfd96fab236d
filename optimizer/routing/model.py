"""The optimal strategy: a MIP of the whole batch, solved with HiGHS (its C API).

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
    y_map: list[tuple[int, int, int]] = []       # (var, order, node)
    s_map: list[tuple[int, int]] = []            # (var, order)
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
            y_map.append((y, o, n))
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
            s_map.append((s, o))
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

    def encode(allocation) -> np.ndarray:
        """Solver values of a plan (a starting solution); pairs outside the model are
        left out, so a plan using them gives an infeasible start that HiGHS ignores."""
        values = np.zeros(len(b.ub))
        shipped: dict[tuple[int, int], int] = {}
        for l, n, q in allocation:
            shipped[(int(l), int(n))] = shipped.get((int(l), int(n)), 0) + int(q)
        ships: dict[int, set[int]] = {}
        for x, l, n in x_map:
            q = shipped.get((l, n), 0)
            if q:
                values[x] = q
        for (l, n), q in shipped.items():
            if q:
                ships.setdefault(int(problem.line_order[l]), set()).add(n)
        for y, o, n in y_map:
            if n in ships.get(o, ()):
                values[y] = 1.0
        for z, o, n in z_map:
            lines = problem.lines_of(o)
            if len(lines) and all(shipped.get((l, n), 0) for l in lines):
                values[z] = 1.0
        for s, o in s_map:
            values[s] = max(0, len(ships.get(o, ())) - 1)
        return values

    return Model(b, decode, offset, np.asarray(indicators, dtype=np.int64),
                 np.asarray(indicator_nodes, dtype=np.int64),
                 np.asarray(indicator_pairs, dtype=np.int64), encode)


@dataclass
class Model:
    """The built MIP and what is needed to read a solution back."""

    builder: _Builder
    decode: object          # values -> [(line, node, qty)]
    offset: float           # Σ qty · penalty, the cost of shipping nothing
    indicator_vars: np.ndarray  # shipment indicators (y and z)
    indicator_nodes: np.ndarray  # the node of each indicator
    indicator_pairs: np.ndarray  # the eligible (order, node) pair of each indicator
    encode: object = None   # allocation -> solver values (a starting solution)

    @property
    def n_variables(self) -> int:
        return len(self.builder.ub)

    @property
    def n_constraints(self) -> int:
        return len(self.builder.rows)


FULL_MIP_MAX_VARIABLES = 15_000   # measured: HiGHS proves these in seconds
RESTRICTED_SHARE = 0.5            # of the time left after the LP
OVERRUN_S_PER_VARIABLE = 1e-5    # kept back for HiGHS overrunning its limit


def solve_mip(problem: RoutingProblem, *, time_limit_s: float, workers: int, seed: int,
              relative_gap: float = 1e-4, deadline: float | None = None,
              start_allocation=None) -> MipResult:
    """Best plan and proven bound the time allows, with HiGHS through its C API (which,
    unlike OR-Tools' wrapper, returns the incumbent and the dual bound on a time limit).

    Small models (up to ``FULL_MIP_MAX_VARIABLES``): the full MIP from the greedy plan for
    all the time. Larger ones:
    1. the LP relaxation, whose optimum is a proven bound;
    2. greedy guided by the LP's shipment indicators (a plan in hand);
    3. the MIP over the indicators the LP left fractional (the others fixed where the LP
       put them), from the guided plan, for half the time left;
    4. the full MIP from the best plan for the rest: its root cuts raise the bound
       (``mip_dual_bound``) and it may improve the plan.
    """
    start = time.perf_counter()
    deadline = deadline if deadline is not None else start + time_limit_s
    model = build_model(problem)
    options = dict(workers=workers, seed=seed, relative_gap=relative_gap)

    def result(allocation, bound, proven):
        return MipResult(allocation, bound, proven, model.n_variables, model.n_constraints,
                         time.perf_counter() - start)

    if model.n_variables == 0:
        return result([], model.offset, True)
    if start_allocation is None:
        start_allocation = greedy_allocation(problem)
    best_alloc = start_allocation
    objective = allocation_cost(problem, start_allocation).total
    bound = None

    def full_mip(start_alloc):
        nonlocal best_alloc, objective, bound
        full = highs_solve(model, time_limit_s=deadline - time.perf_counter(),
                           start=model.encode(start_alloc), **options)
        if full.bound is not None:
            bound = full.bound if bound is None else max(bound, full.bound)
        if full.values is not None and full.objective < objective - 1e-9:
            best_alloc, objective = model.decode(full.values), full.objective
        return full.optimal

    if model.n_variables <= FULL_MIP_MAX_VARIABLES:
        optimal = full_mip(start_allocation)
        return result(best_alloc, bound, optimal and objective - (bound or -np.inf)
                      <= relative_gap * max(1.0, abs(objective)))
    # HiGHS overruns its limit on large models (finishing an LP iteration or presolve):
    # measured about 2 s at 220,000 variables on the loaded 2-core machine.
    deadline -= OVERRUN_S_PER_VARIABLE * model.n_variables
    lp_start = time.perf_counter()
    lp = highs_solve(model, time_limit_s=deadline - lp_start, relax=True, **options)
    lp_seconds = time.perf_counter() - lp_start
    if lp.values is None or not lp.optimal:
        return result(best_alloc, None, False)
    bound = lp.objective
    ind = model.indicator_vars
    score = np.zeros(len(problem.pair_node))
    score[model.indicator_pairs] = lp.values[ind]
    guided = greedy_allocation(problem, score)
    guided_cost = allocation_cost(problem, guided).total
    if guided_cost < objective:
        best_alloc, objective = guided, guided_cost
    left = deadline - time.perf_counter()
    # The full MIP needs at least the LP's time to get through its root (no better bound
    # before that), so it only runs when that much is left after the restricted MIP.
    full_after = left >= 2 * lp_seconds
    if left > 0.3:
        values = lp.values[ind]
        settled = np.abs(values - np.round(values)) <= 1e-6
        lower = np.asarray(model.builder.lb, dtype=np.float64).copy()
        upper = np.asarray(model.builder.ub, dtype=np.float64).copy()
        lower[ind[settled]] = upper[ind[settled]] = np.round(values[settled])
        start_values = model.encode(best_alloc)
        if np.any(start_values[ind[settled]] != np.round(values[settled])):
            start_values = None   # the plan in hand is outside the restricted model
        share = RESTRICTED_SHARE if full_after else 1.0
        restricted = highs_solve(model, time_limit_s=left * share, start=start_values,
                                 lower=lower, upper=upper, **options)
        if restricted.values is not None and restricted.objective < objective - 1e-9:
            best_alloc, objective = model.decode(restricted.values), restricted.objective
    if full_after and deadline - time.perf_counter() > 0.3:
        full_mip(best_alloc)
    proven = objective - bound <= relative_gap * max(1.0, abs(objective))
    return result(best_alloc, bound, proven)


# --- HiGHS driven directly (its C API) ---------------------------------------------------
# Unlike OR-Tools' model-builder wrapper, HiGHS's own API returns the incumbent and the
# dual bound (LP plus root cuts and branching) when it stops on the time limit, and takes
# a starting solution. highspy would give the same, but it cannot share a process with
# OR-Tools: both ship a libhighs.so.1 (1.15 and 1.12), and whichever loads first breaks
# the other's import. So the C API of the HiGHS library OR-Tools ships is called through
# ctypes.

import ctypes
import os

_lib = None
_HIGHS_MODEL_OPTIMAL = 7
_HIGHS_ERROR = -1
_HIGHS_SOLUTION_FEASIBLE = 2


def _highs():
    global _lib
    if _lib is None:
        import ortools
        path = os.path.join(os.path.dirname(ortools.__file__), ".libs", "libhighs.so.1")
        lib = ctypes.CDLL(path)
        vp, i32, dbl, cs = ctypes.c_void_p, ctypes.c_int32, ctypes.c_double, ctypes.c_char_p
        ptr_d, ptr_i = ctypes.POINTER(dbl), ctypes.POINTER(i32)
        if lib.Highs_getSizeofHighsInt(None) != 4:
            raise RuntimeError("HiGHS built with 64-bit HighsInt is not supported")
        lib.Highs_create.restype = vp
        lib.Highs_destroy.argtypes = [vp]
        lib.Highs_setBoolOptionValue.argtypes = [vp, cs, i32]
        lib.Highs_setIntOptionValue.argtypes = [vp, cs, i32]
        lib.Highs_setDoubleOptionValue.argtypes = [vp, cs, dbl]
        lib.Highs_setStringOptionValue.argtypes = [vp, cs, cs]
        lib.Highs_passMip.argtypes = [vp, i32, i32, i32, i32, i32, dbl, ptr_d, ptr_d, ptr_d,
                                      ptr_d, ptr_d, ptr_i, ptr_i, ptr_d, ptr_i]
        lib.Highs_setSparseSolution.argtypes = [vp, i32, ptr_i, ptr_d]
        lib.Highs_run.argtypes = [vp]
        lib.Highs_getModelStatus.argtypes = [vp]
        lib.Highs_getDoubleInfoValue.argtypes = [vp, cs, ptr_d]
        lib.Highs_getIntInfoValue.argtypes = [vp, cs, ptr_i]
        lib.Highs_getSolution.argtypes = [vp, ptr_d, ptr_d, ptr_d, ptr_d]
        lib.Highs_resetGlobalScheduler.argtypes = [i32]
        _lib = lib
    return _lib


def _ptr(array: np.ndarray, ctype):
    return array.ctypes.data_as(ctypes.POINTER(ctype))


@dataclass
class HighsResult:
    values: np.ndarray | None   # the incumbent, or None
    objective: float            # its cost (inf without one)
    bound: float | None         # HiGHS's proven dual bound (None if it proved nothing)
    optimal: bool               # HiGHS proved the incumbent optimal (to the gap asked)


def model_arrays(model: Model) -> dict:
    """The model as CSR arrays (rowwise), as HiGHS takes it."""
    b = model.builder
    n_rows = len(b.rows)
    lens = np.fromiter((len(r[2]) for r in b.rows), dtype=np.int64, count=n_rows)
    start = np.zeros(n_rows + 1, dtype=np.int32)
    np.cumsum(lens, out=start[1:])
    nnz = int(start[-1])
    return dict(
        cost=np.asarray(b.obj, dtype=np.float64), lower=np.asarray(b.lb, dtype=np.float64),
        upper=np.asarray(b.ub, dtype=np.float64),
        row_lower=np.fromiter((r[0] for r in b.rows), dtype=np.float64, count=n_rows),
        row_upper=np.fromiter((r[1] for r in b.rows), dtype=np.float64, count=n_rows),
        start=start,
        index=np.fromiter((v for r in b.rows for v in r[2]), dtype=np.int32, count=nnz),
        value=np.fromiter((c for r in b.rows for c in r[3]), dtype=np.float64, count=nnz),
        integrality=np.asarray(b.integer, dtype=np.int32))


def highs_solve(model: Model, *, time_limit_s: float, workers: int, seed: int,
                relative_gap: float = 1e-4, start: np.ndarray | None = None,
                options: dict | None = None, lower: np.ndarray | None = None,
                upper: np.ndarray | None = None, relax: bool = False) -> HighsResult:
    """The full MIP with HiGHS for at most ``time_limit_s``, from ``start`` (solver values)
    when given: the incumbent (if any) and HiGHS's dual bound, also on a time limit."""
    lib = _highs()
    threads = max(1, int(workers))
    if getattr(model, "_arrays", None) is None:
        model._arrays = model_arrays(model)
    a = dict(model._arrays)
    if lower is not None:
        a["lower"] = np.ascontiguousarray(lower, dtype=np.float64)
    if upper is not None:
        a["upper"] = np.ascontiguousarray(upper, dtype=np.float64)
    if relax:
        a["integrality"] = np.zeros_like(a["integrality"])
    n_col, n_row = len(a["cost"]), len(a["row_lower"])
    h = lib.Highs_create()
    try:
        lib.Highs_setBoolOptionValue(h, b"output_flag", 0)
        lib.Highs_setIntOptionValue(h, b"threads", threads)
        lib.Highs_setIntOptionValue(h, b"random_seed", int(seed))
        lib.Highs_setDoubleOptionValue(h, b"mip_rel_gap", float(relative_gap))
        lib.Highs_setDoubleOptionValue(h, b"time_limit", max(0.01, float(time_limit_s)))
        for name, val in (options or {}).items():
            if isinstance(val, str):
                lib.Highs_setStringOptionValue(h, name.encode(), val.encode())
            elif isinstance(val, bool):
                lib.Highs_setBoolOptionValue(h, name.encode(), int(val))
            elif isinstance(val, int):
                lib.Highs_setIntOptionValue(h, name.encode(), val)
            else:
                lib.Highs_setDoubleOptionValue(h, name.encode(), float(val))
        dbl, i32 = ctypes.c_double, ctypes.c_int32
        status = lib.Highs_passMip(
            h, n_col, n_row, len(a["value"]), 2, 1, float(model.offset),
            _ptr(a["cost"], dbl), _ptr(a["lower"], dbl), _ptr(a["upper"], dbl),
            _ptr(a["row_lower"], dbl), _ptr(a["row_upper"], dbl), _ptr(a["start"], i32),
            _ptr(a["index"], i32), _ptr(a["value"], dbl), _ptr(a["integrality"], i32))
        if status < 0:
            raise RuntimeError("HiGHS rejected the model")
        if start is not None:
            nz = np.flatnonzero(start).astype(np.int32)
            vals = np.ascontiguousarray(start[nz], dtype=np.float64)
            lib.Highs_setSparseSolution(h, len(nz), _ptr(nz, i32), _ptr(vals, dbl))
        if lib.Highs_run(h) == _HIGHS_ERROR:
            # HiGHS keeps the thread pool of its first run in the process (whoever made
            # it: OR-Tools' wrappers share this library) and refuses another thread
            # count; reset the pool and run again.
            lib.Highs_resetGlobalScheduler(1)
            lib.Highs_run(h)
        model_status = lib.Highs_getModelStatus(h)
        primal = ctypes.c_int32(0)
        lib.Highs_getIntInfoValue(h, b"primal_solution_status", ctypes.byref(primal))
        objective, bound = ctypes.c_double(np.inf), ctypes.c_double(-np.inf)
        lib.Highs_getDoubleInfoValue(h, b"mip_dual_bound", ctypes.byref(bound))
        values = None
        if primal.value == _HIGHS_SOLUTION_FEASIBLE:
            lib.Highs_getDoubleInfoValue(h, b"objective_function_value",
                                         ctypes.byref(objective))
            values = np.zeros(n_col)
            col_dual = np.zeros(n_col)
            row_value, row_dual = np.zeros(n_row), np.zeros(n_row)
            lib.Highs_getSolution(h, _ptr(values, dbl), _ptr(col_dual, dbl),
                                  _ptr(row_value, dbl), _ptr(row_dual, dbl))
    finally:
        lib.Highs_destroy(h)
    b_val = float(bound.value)
    return HighsResult(values, float(objective.value) if values is not None else float("inf"),
                       b_val if np.isfinite(b_val) else None,
                       values is not None and model_status == _HIGHS_MODEL_OPTIMAL)
