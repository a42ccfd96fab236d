"""The MIP of all (or a chunk of) SKUs, nodes and periods; built with OR-Tools, solved by
HiGHS through its C API (``engine="HIGHS"``) or by an OR-Tools backend (SCIP, CP-SAT).

Variables per (SKU, node): end-of-period on-hand ``ip[t] ≥ 0``, backlog ``im[t] ≥ 0`` and
safety shortfall ``sh[t] ≥ ss − ip[t]``; per supplier item, node and order period ``t``
(with ``t + L ≤ T − 1``) an integer number of case packs ``k``, and a binary ``y`` only
when the MOQ exceeds one case pack (``cp·k ≥ min_qty·y``, ``k ≤ K·y``); per
(supplier, node, period) a binary ``z`` only when the fixed cost is positive (``k ≤ K·z``).
``K`` is the tightest valid big-M: the supplier's and the node's capacity, and the units
still useful from the arrival period on (``_big_m``), in case packs.
Rows: inventory balance, supplier capacity, receiving capacity, budget, and per
(supplier, node, period) ``Σ cp·k ≤ min(capacities, Σ cp·K)·z``.

Where ``safety_stock_penalty > holding + backlog`` the cost is not convex at zero stock (a
period in backlog pays the whole shortfall), and ip and im could both be raised to buy the
shortfall off at holding + backlog a unit; there a binary ``w`` per period (``im ≤ M·w``,
``sh ≥ ss·w``, M the backlog without orders) keeps the model exact. The reported objective
is always the contract's cost recomputed from the orders.
"""

from __future__ import annotations

import math
import time

import numpy as np
from dataclasses import dataclass

from ortools.linear_solver import linear_solver_pb2, pywraplp

from .plan import Order, inventory
from .presolve import order_options
from .problem import ReplenishmentProblem

MAX_MIP_VARIABLES = 2_000_000
TIGHT_BIG_M = True
HIGHS_OVERRUN_S_PER_VARIABLE = 3e-5
SLOT_ROWS = True
CUT_WINDOW = 0   # periods l − a + 1 of the (l,S) cuts per order


@dataclass
class MipResult:
    orders: list[Order] | None
    objective: float            # model objective of the incumbent (inf when none)
    bound: float                # proven lower bound (0 when the solver proved nothing)
    proven: bool
    n_variables: int
    n_constraints: int
    build_seconds: float
    solve_seconds: float


def _big_m(p: ReplenishmentProblem, i: int, n: int, a: int | None = None) -> int:
    """Largest useful order of item i at node n (arriving in ``a``), in case packs (0 = never
    order). Units arriving in a serve only periods a … T−1, where the cost is non-decreasing in
    the cumulative arrivals above M_a = max_(t ≥ a) (safety stock − inventory without
    orders); some optimum orders at most max(M_a rounded up to case packs, the smallest
    legal order) there (cut the order that crosses M_a to that, drop the later ones: every
    cost term and every capacity / budget row only gains)."""
    s = int(p.item_sku[i])
    cp = int(p.case_pack[s])
    useful = max(0, -int(p.on_hand[s, n])) + int(p.demand[s, n].sum()) + int(p.safety_stock[s, n])
    if a is not None:
        base = int(p.on_hand[s, n]) + np.cumsum(p.inbound[s, n] - p.demand[s, n])
        useful = min(useful, max(0, int(p.safety_stock[s, n]) - int(base[a:].min())))
    k = max(math.ceil(useful / cp), math.ceil(p.item_min_qty(i) / cp)) if useful > 0 else 0
    u = int(p.item_supplier[i])
    for cap in (int(p.supplier_capacity[u]), int(p.receiving_capacity[n])):
        if cap >= 0:
            k = min(k, cap // cp)
    if k * cp < p.item_min_qty(i):
        return 0
    return k


def _rounding_cuts(solver, p, s, n, cp, arrivals, stock, shortfall) -> None:
    """MIR cuts of the cumulative balance: case packs make the units bought by period l
    a multiple of cp, so with R = demand to l (+ safety stock) − on hand − open receipts,
    cp·K_l + im_l (+ sh_l) ≥ R gives cp·K_l + (im_l (+ sh_l))/f ≥ cp·⌈R/cp⌉, f = frac(R/cp).
    This closes most of the LP gap left by rounding to case packs at the horizon end."""
    if cp <= 1:
        return
    T = p.periods
    ks: list = []
    base = int(p.on_hand[s, n])
    ss = int(p.safety_stock[s, n])
    for l in range(T):
        ks.extend(arrivals[l])
        base += int(p.inbound[s, n, l]) - int(p.demand[s, n, l])
        if not ks:
            continue
        for with_ss in ((False, True) if shortfall[l] is not None else (False,)):
            need = -base + (ss if with_ss else 0)
            if need <= 0:
                continue
            frac = need / cp - math.floor(need / cp)
            if frac < 1e-9:
                continue
            row = solver.RowConstraint(cp * math.ceil(need / cp), solver.infinity(), "")
            for k in ks:
                row.SetCoefficient(k, cp)
            row.SetCoefficient(stock[l][1], 1 / frac)
            if with_ss:
                row.SetCoefficient(shortfall[l], 1 / frac)


def solve_mip(p: ReplenishmentProblem, *, time_limit_s: float, workers: int, seed: int,
              hint: list[Order] | None = None, relative_gap: float = 1e-4,
              engine: str = "SCIP", relax: bool = False,
              cut_window: int = CUT_WINDOW) -> MipResult:
    """Solve the model (or with ``relax`` its LP relaxation: every variable continuous, the
    orders returned fractional-free only after rounding by the caller)."""
    start = time.perf_counter()
    S, N, T = p.shape
    # HiGHS is driven through its C API (optimizer.routing.model.highs_solve): OR-Tools'
    # wrapper of it returns no incumbent on a time limit. The model is built with SCIP's.
    solver = pywraplp.Solver.CreateSolver("SCIP" if engine == "HIGHS" else engine)
    if relax:
        solver.IntVar = lambda lo, hi, name: solver.NumVar(lo, hi, name)
        solver.BoolVar = lambda name: solver.NumVar(0, 1, name)
    inf = solver.infinity()
    objective = solver.Objective()
    pen = p.safety_stock_penalty
    hint_vars, hint_vals = [], []
    hint_qty: dict[tuple[int, int, int], int] = {}
    for o in hint or []:
        hint_qty[(o.item, o.node, o.order_period)] = o.qty
    hint_slots = {(int(p.item_supplier[i]), n, t) for (i, n, t) in hint_qty}

    z: dict[tuple[int, int, int], pywraplp.Variable] = {}

    def slot(u: int, n: int, t: int):
        v = z.get((u, n, t))
        if v is None:
            v = z[(u, n, t)] = solver.BoolVar("")
            objective.SetCoefficient(v, p.fixed_cost(u, n, t))
            hint_vars.append(v)
            hint_vals.append(1.0 if (u, n, t) in hint_slots else 0.0)
        return v

    supplier_rows: dict[tuple[int, int], list] = {}
    slot_terms: dict[tuple[int, int, int], list] = {}
    node_rows: dict[tuple[int, int], list] = {}
    budget_terms: list = []
    order_vars: list[tuple[int, int, int, int, pywraplp.Variable]] = []
    items_of = p.items_of_sku()
    options = order_options(p)
    # inventory without planned orders (the most backlog any plan has), and the hint's
    base_inv = p.on_hand[:, :, None] + np.cumsum(p.inbound - p.demand, axis=2)
    hint_inv = inventory(p, hint) if hint else None
    for s in range(S):
        cp = int(p.case_pack[s])
        h, b = float(p.holding_cost[s]), float(p.backlog_cost[s])
        for n in range(N):
            ss = int(p.safety_stock[s, n])
            arrivals: list[list] = [[] for _ in range(T)]
            setups: list[tuple] = []
            for i in items_of[s]:
                u = int(p.item_supplier[i])
                L = int(p.lead_time[u])
                if _big_m(p, i, n) == 0:
                    continue
                unit = float(p.item_unit_cost[i])
                min_k = p.item_min_qty(i) // cp
                for t in range(0, T - L):
                    if not options.ok(i, n, t):      # removed by the presolve
                        continue
                    K = _big_m(p, i, n, t + L) if TIGHT_BIG_M else _big_m(p, i, n)
                    if K == 0:
                        continue
                    k = solver.IntVar(0, K, "")
                    objective.SetCoefficient(k, unit * cp)
                    q = hint_qty.get((i, n, t), 0)
                    hint_vars.append(k)
                    hint_vals.append(q // cp)
                    y = None
                    if min_k > 1 or p.fixed_order_cost[u] > 0:
                        y = solver.BoolVar("")
                        if min_k > 1:
                            solver.Add(k >= min_k * y)
                        solver.Add(k <= K * y)
                        hint_vars.append(y)
                        hint_vals.append(1.0 if q else 0.0)
                        if p.fixed_cost(u, n, t) > 0:
                            solver.Add(y <= slot(u, n, t))
                            slot_terms.setdefault((u, n, t), []).append((cp, k))
                        setups.append((t + L, cp, k, y))
                    arrivals[t + L].append(k)
                    order_vars.append((i, n, t, cp, k))
                    supplier_rows.setdefault((u, t), []).append((cp, k))
                    node_rows.setdefault((n, t + L), []).append((cp, k))
                    if p.budget is not None:
                        budget_terms.append((unit * cp, k))
            prev = None
            stock: list[tuple] = []
            shortfall: list = []
            for t in range(T):
                ip = solver.NumVar(0, inf, "")
                im = solver.NumVar(0, inf, "")
                objective.SetCoefficient(ip, h)
                objective.SetCoefficient(im, b)
                rhs = int(p.inbound[s, n, t]) - int(p.demand[s, n, t])
                row = solver.RowConstraint(rhs + (int(p.on_hand[s, n]) if t == 0 else 0),
                                           rhs + (int(p.on_hand[s, n]) if t == 0 else 0), "")
                row.SetCoefficient(ip, 1)
                row.SetCoefficient(im, -1)
                if prev is not None:
                    row.SetCoefficient(prev[0], -1)
                    row.SetCoefficient(prev[1], 1)
                for k in arrivals[t]:
                    row.SetCoefficient(k, -cp)
                sh = None
                if ss > 0 and pen > 0:
                    sh = solver.NumVar(0, ss, "")
                    objective.SetCoefficient(sh, pen)
                    solver.Add(sh + ip >= ss)
                    if pen > h + b:
                        # non-convex: backlog (im > 0) only with the whole shortfall paid
                        most = max(0, -int(base_inv[s, n, t]))
                        if most == 0:
                            im.SetUb(0)
                        else:
                            w = solver.BoolVar("")
                            solver.Add(im <= most * w)
                            solver.Add(sh >= ss * w)
                            if hint_inv is not None:
                                hint_vars.append(w)
                                hint_vals.append(1.0 if hint_inv[s, n, t] < 0 else 0.0)
                prev = (ip, im)
                stock.append(prev)
                shortfall.append(sh)
            _rounding_cuts(solver, p, s, n, cp, arrivals, stock, shortfall)
            # (l,S)-type cuts, one order at a time: an order arriving in a, if placed, is
            # at most the demand of a … l plus what is left at l plus the backlog before a:
            # cp·k ≤ D(a,l)·y + ip[l] + im[a−1] (valid with other receipts, all ≥ 0).
            cum = [0]
            for t in range(T):
                cum.append(cum[-1] + int(p.demand[s, n, t]))
            for a, cp_, k, y in setups:
                for l in range(a, min(T, a + cut_window)):
                    row = solver.RowConstraint(-inf, 0, "")
                    row.SetCoefficient(k, cp_)
                    row.SetCoefficient(y, -(cum[l + 1] - cum[a]))
                    row.SetCoefficient(stock[l][0], -1)
                    if a > 0:
                        row.SetCoefficient(stock[a - 1][1], -1)
    for (u, t), terms in supplier_rows.items():
        cap = p.supplier_cap(u, t)
        if cap >= 0 and sum(cp * v.ub() for cp, v in terms) > cap:
            row = solver.RowConstraint(0, cap, "")
            for cp, v in terms:
                row.SetCoefficient(v, cp)
    for (n, t), terms in node_rows.items():
        cap = p.receiving_cap(n, t)
        if cap >= 0 and sum(cp * v.ub() for cp, v in terms) > cap:
            row = solver.RowConstraint(0, cap, "")
            for cp, v in terms:
                row.SetCoefficient(v, cp)
    # Aggregated slot rows: what all SKUs order from supplier u for node n in t fits in the
    # supplier's and the node's capacity, so Σ cp·k ≤ min(capacities, Σ cp·K)·z: much
    # stronger than the per-order k ≤ K·y ≤ K·z in the LP when capacity is short.
    if SLOT_ROWS:
        for (u, n, t), terms in slot_terms.items():
            big = sum(cp * v.ub() for cp, v in terms)
            for cap in (p.supplier_cap(u, t), p.receiving_cap(n, t + int(p.lead_time[u]))):
                if cap >= 0:
                    big = min(big, cap)
            row = solver.RowConstraint(-inf, 0, "")
            for cp, v in terms:
                row.SetCoefficient(v, cp)
            row.SetCoefficient(z[(u, n, t)], -big)
    if p.budget is not None and budget_terms:
        row = solver.RowConstraint(0, float(p.budget), "")
        for c, v in budget_terms:
            row.SetCoefficient(v, c)
    objective.SetMinimization()
    n_vars, n_rows = solver.NumVariables(), solver.NumConstraints()
    built = time.perf_counter()
    if engine == "HIGHS":
        return _solve_highs(solver, order_vars, hint_vars, hint_vals if hint else None,
                            deadline=start + time_limit_s, workers=workers,
                            seed=seed, relative_gap=relative_gap, n_vars=n_vars, n_rows=n_rows,
                            build_seconds=built - start)
    if hint:
        solver.SetHint(hint_vars, hint_vals)
    solver.SetTimeLimit(max(1, int(1000 * max(0.1, time_limit_s - (built - start)))))
    solver.SetNumThreads(max(1, workers))
    if engine == "SCIP":
        solver.SetSolverSpecificParametersAsString(
            f"randomization/randomseedshift = {seed}\nlimits/gap = {relative_gap}\n")
    params = pywraplp.MPSolverParameters()
    params.SetDoubleParam(params.RELATIVE_MIP_GAP, relative_gap)
    status = solver.Solve(params)
    solved = time.perf_counter()
    if status not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        return MipResult(None, math.inf, 0.0, False, n_vars, n_rows, built - start,
                         solved - built)
    if relax:
        fractional = [(i, n, t, cp * k.solution_value()) for i, n, t, cp, k in order_vars
                      if k.solution_value() > 1e-6]
        lp = objective.Value()
        return MipResult(fractional, lp, max(0.0, lp), True, n_vars, n_rows, built - start,
                         solved - built)
    orders = [Order(i, n, t, cp * int(round(k.solution_value())))
              for i, n, t, cp, k in order_vars if round(k.solution_value()) > 0]
    bound = objective.BestBound()
    if not math.isfinite(bound):
        bound = 0.0
    return MipResult(orders, objective.Value(), max(0.0, bound),
                     status == pywraplp.Solver.OPTIMAL, n_vars, n_rows, built - start,
                     solved - built)


def _solve_highs(solver, order_vars, hint_vars, hint_vals, *, deadline, workers, seed,
                 relative_gap, n_vars, n_rows, build_seconds) -> MipResult:
    """The built model handed to HiGHS as arrays; the incumbent and HiGHS's dual bound are
    returned also when it stops on the time limit."""
    from types import SimpleNamespace

    import numpy as np

    from optimizer.routing.model import highs_solve

    proto = linear_solver_pb2.MPModelProto()
    solver.ExportModelToProto(proto)
    cols = proto.variable
    rows = proto.constraint
    start_idx = np.zeros(len(rows) + 1, dtype=np.int32)
    np.cumsum([len(r.var_index) for r in rows], out=start_idx[1:])
    arrays = dict(
        cost=np.array([v.objective_coefficient for v in cols], dtype=np.float64),
        lower=np.array([v.lower_bound for v in cols], dtype=np.float64),
        upper=np.array([v.upper_bound for v in cols], dtype=np.float64),
        row_lower=np.array([r.lower_bound for r in rows], dtype=np.float64),
        row_upper=np.array([r.upper_bound for r in rows], dtype=np.float64),
        start=start_idx,
        index=np.array([i for r in rows for i in r.var_index], dtype=np.int32),
        value=np.array([c for r in rows for c in r.coefficient], dtype=np.float64),
        integrality=np.array([1 if v.is_integer else 0 for v in cols], dtype=np.int32))
    model = SimpleNamespace(arrays=arrays, offset=float(proto.objective_offset))
    start = None
    if hint_vals is not None:
        start = np.zeros(len(cols))
        for v, x in zip(hint_vars, hint_vals):
            start[v.index()] = x
    t0 = time.perf_counter()
    # HiGHS overruns its limit by about this much (measured ~0.8 s at 19,000 variables)
    time_limit_s = deadline - t0 - HIGHS_OVERRUN_S_PER_VARIABLE * len(cols)
    res = highs_solve(model, time_limit_s=max(0.1, time_limit_s), workers=workers, seed=seed,
                      relative_gap=relative_gap, start=start)
    seconds = time.perf_counter() - t0
    bound = res.bound if res.bound is not None and math.isfinite(res.bound) else 0.0
    if not arrays["integrality"].any() and res.optimal and math.isfinite(res.objective):
        # no integer column (no order worth a variable): HiGHS solves an LP and leaves its
        # MIP dual bound at 0; the LP optimum is the model's minimum, itself a proven bound
        bound = res.objective
    if res.values is None:
        return MipResult(None, math.inf, max(0.0, bound), False, n_vars, n_rows,
                         build_seconds, seconds)
    orders = [Order(i, n, t, cp * int(round(res.values[k.index()])))
              for i, n, t, cp, k in order_vars if round(res.values[k.index()]) > 0]
    return MipResult(orders, res.objective, max(0.0, bound), res.optimal, n_vars, n_rows,
                     build_seconds, seconds)
