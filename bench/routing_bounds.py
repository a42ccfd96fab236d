"""The 500-order proof: HiGHS's options, and bounds other than HiGHS's root, measured.

    .venv/bin/python bench/routing_bounds.py options    [--instance 1] [--seeds 0,1,2,3]
                                                        [--threads 1] [--gap 1e-4]
    .venv/bin/python bench/routing_bounds.py log        [--instance 1] [--seeds 1]
    .venv/bin/python bench/routing_bounds.py oracle     [--instance 1] [--seeds 0,1,2,3]
    .venv/bin/python bench/routing_bounds.py flowcovers [--instance 1] [--seeds 0,1,2,3]
    .venv/bin/python bench/routing_bounds.py lagrangian [--instance 1] [--clusters 20,50,200]
    .venv/bin/python bench/routing_bounds.py rcfix      [--instance 1] [--seeds 0,1,2,3]
    .venv/bin/python bench/routing_bounds.py cpsat      [--instance 1] [--limit 20]

On a 500-order batch of ``optimizer/routing/generate.py`` (8 nodes, 200 SKUs), HiGHS
on one thread with restarts off (as ``solve()`` runs it), from the greedy plan:

- ``options``: time to a proven gap of 0.01% (``--gap``) under several HiGHS option
  settings, on ``--threads`` threads;
- ``log``: HiGHS's own log of that proof, a line per root cut round and node;
- ``oracle``: the same, HiGHS handed the optimum as its start (RINS and RENS off, and
  HiGHS's defaults);
- ``flowcovers``: simple flow-cover cuts of our own on the stock and unit-capacity
  rows (each row's columns grouped by their shipment indicator, the most violated cover
  of the positive columns, in rounds until none is violated): the LP bound they reach,
  and the proof times with and without them as rows of the model;
- ``lagrangian``: orders merged along the rows with the highest price of that LP into
  clusters of at most K orders; each cluster solved exactly with the rows inside it,
  the rows between clusters priced: a proven lower bound;
- ``rcfix``: reduced-cost fixing from that LP with the optimum in hand, then the proof;
- ``cpsat``: CP-SAT (2 workers, the optimum as its hint) on the same model.

The optimum is computed first (HiGHS, relative gap 10⁻⁹). Figures in docs/benchmarks.md
("fifth session"). None of these is used by ``solve()``.
"""

from __future__ import annotations

import argparse
import ctypes
import itertools
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from optimizer.routing import parse_problem  # noqa: E402
from optimizer.routing.generate import generate_problem  # noqa: E402
from optimizer.routing.greedy import greedy_allocation  # noqa: E402
from optimizer.routing.model import (  # noqa: E402
    SMALL_MIP_OPTIONS, _highs, _pass_model, _ptr, _set_options, build_model, highs_solve,
)

GAP = 1e-4          # the benchmark's target; --gap changes the gap the proofs stop at
OPTIONS = {
    "restarts off (solve())": {},
    "mip_pscost_minreliable 0": {"mip_pscost_minreliable": 0},
    "mip_pscost_minreliable 2": {"mip_pscost_minreliable": 2},
    "mip_heuristic_effort 0": {"mip_heuristic_effort": 0.0},
    "mip_heuristic_effort 0.2": {"mip_heuristic_effort": 0.2},
    "symmetry detection off": {"mip_detect_symmetry": False},
    "mip_pool_soft_limit 1000": {"mip_pool_soft_limit": 1000},
    "mip_lp_age_limit 3": {"mip_lp_age_limit": 3},
}
NO_SUB_MIPS = {"mip_heuristic_run_rins": False, "mip_heuristic_run_rens": False}


def arrays_of(a: dict, offset: float):
    return SimpleNamespace(arrays=a, offset=offset)


def proof_time(model, seed: int, start: np.ndarray, options: dict | None = None,
               lower=None, upper=None, threads: int = 1) -> str:
    began = time.perf_counter()
    r = highs_solve(model, time_limit_s=15, workers=threads, seed=seed, relative_gap=GAP,
                    start=start, options={**SMALL_MIP_OPTIONS, **(options or {})},
                    lower=lower, upper=upper)
    seconds = time.perf_counter() - began
    proven = r.bound is not None and r.objective - r.bound <= GAP * r.objective
    return f"{seconds:5.2f}" + ("" if proven else "*")


def lp_with_duals(a: dict, offset: float):
    """The LP relaxation of arrays ``a``: objective, values, column and row duals."""
    lib = _highs()
    h = lib.Highs_create()
    try:
        _set_options(h, threads=1, seed=0, time_limit_s=60, options={})
        _pass_model(h, {**a, "integrality": np.zeros_like(a["integrality"])}, offset, None)
        lib.Highs_run(h)
        n, r = len(a["cost"]), len(a["row_upper"])
        v, cd, rv, rd = np.zeros(n), np.zeros(n), np.zeros(r), np.zeros(r)
        dbl = ctypes.c_double
        lib.Highs_getSolution(h, _ptr(v, dbl), _ptr(cd, dbl), _ptr(rv, dbl), _ptr(rd, dbl))
        objective = ctypes.c_double()
        lib.Highs_getDoubleInfoValue(h, b"objective_function_value", ctypes.byref(objective))
    finally:
        lib.Highs_destroy(h)
    return objective.value, v, cd, rd


def flow_cover_model(m) -> dict:
    """The model's arrays with simple flow-cover cuts added in rounds until none is
    violated by the LP optimum."""
    a0 = m.arrays
    indicator = np.full(m.n_variables, -1)
    indicator[m.parts["x_col"]] = m.parts["x_ycol"]
    indicator[m.indicator_vars] = m.indicator_vars
    is_y = np.zeros(m.n_variables, dtype=bool)
    is_y[m.parts["y_col"]] = True
    rows = []
    for r in range(m.n_constraints):
        s, e = a0["start"][r], a0["start"][r + 1]
        idx, val, b = a0["index"][s:e], a0["value"][s:e], a0["row_upper"][r]
        # stock and unit-capacity rows: positive terms, all of them units (or whole
        # ship-complete orders), that can bind; not the shipment-count rows (y terms)
        if (np.isfinite(b) and len(idx) >= 2 and np.all(val > 0) and np.all(indicator[idx] >= 0)
                and not np.any(is_y[idx]) and (val * a0["upper"][idx]).sum() > b + 1e-9):
            rows.append((idx, val, b))

    def separate(x: np.ndarray) -> list[tuple[dict, float]]:
        cuts = []
        for idx, val, b in rows:
            groups, inv = np.unique(indicator[idx], return_inverse=True)
            flow = np.bincount(inv, weights=val * x[idx])
            cap = np.minimum(b, np.bincount(inv, weights=val * a0["upper"][idx]))
            y = x[groups]
            pos = np.flatnonzero(flow > 1e-7)
            if not len(pos) or cap[pos].sum() <= b + 1e-9:
                continue
            if len(pos) <= 12:
                subsets = (np.array(c) for k in range(1, len(pos) + 1)
                           for c in itertools.combinations(pos, k))
            else:
                ranked = pos[np.argsort(1 - y[pos])]
                subsets = (ranked[:k] for k in range(1, len(ranked) + 1))
            best, cover = 1e-4, None
            for c in subsets:
                lam = cap[c].sum() - b
                if lam > 1e-9:
                    violation = (flow[c].sum() + (np.maximum(cap[c] - lam, 0) * (1 - y[c])).sum()
                                 - b)
                    if violation > best:
                        best, cover = violation, c
            if cover is None:
                continue
            lam = cap[cover].sum() - b
            coef: dict[int, float] = {}
            for j, v in zip(idx[np.isin(inv, cover)], val[np.isin(inv, cover)]):
                coef[int(j)] = coef.get(int(j), 0.0) + float(v)
            rhs = b
            for g in cover:
                w = max(cap[g] - lam, 0.0)
                if w > 0:
                    coef[int(groups[g])] = coef.get(int(groups[g]), 0.0) - w
                    rhs -= w
            cuts.append((coef, rhs))
        return cuts

    a = dict(a0)
    while True:
        _, x, _, _ = lp_with_duals(a, m.offset)
        cuts = separate(x)
        if not cuts:
            return a
        keys = [sorted(coef) for coef, _ in cuts]
        a = dict(a, start=np.concatenate([a["start"], a["start"][-1]
                                          + np.cumsum([len(k) for k in keys])]).astype(np.int32),
                 index=np.concatenate([a["index"], *[np.array(k) for k in keys]]).astype(np.int32),
                 value=np.concatenate([a["value"], *[[c[k] for k in ks]
                                                     for (c, _), ks in zip(cuts, keys)]]),
                 row_lower=np.concatenate([a["row_lower"], np.full(len(cuts), -np.inf)]),
                 row_upper=np.concatenate([a["row_upper"], [rhs for _, rhs in cuts]]))


def lagrangian_bound(m, a: dict, size: int) -> float:
    _, _, _, row_dual = lp_with_duals(a, m.offset)
    price = np.maximum(0.0, -row_dual)            # ≤ rows of a minimisation
    n_rows, n_orders = len(a["row_upper"]), int(m.var_order.max()) + 1
    rows = np.repeat(np.arange(n_rows), np.diff(a["start"]))
    order_of = m.var_order[a["index"]]
    key = np.unique(rows * n_orders + order_of)
    r_, o_ = key // n_orders, key % n_orders
    spans = np.bincount(r_, minlength=n_rows) > 1
    parent, size_of = np.arange(n_orders), np.ones(n_orders, dtype=int)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for r in sorted(np.flatnonzero(spans & (price > 1e-9)), key=lambda r: -price[r]):
        roots = sorted({find(o) for o in o_[r_ == r]})
        if sum(size_of[x] for x in roots) <= size:
            for x in roots[1:]:
                parent[x] = roots[0]
                size_of[roots[0]] += size_of[x]
    label = np.array([find(i) for i in range(n_orders)])
    lo = np.full(n_rows, n_orders)
    hi = np.full(n_rows, -1)
    np.minimum.at(lo, rows, label[order_of])
    np.maximum.at(hi, rows, label[order_of])
    inside = lo == hi
    cost = a["cost"].copy()
    np.add.at(cost, a["index"], np.where(inside[rows], 0.0, price[rows]) * a["value"])
    offset = m.offset - (price[~inside] * a["row_upper"][~inside]).sum()
    keep = inside[rows]
    kept = np.flatnonzero(inside)
    start = np.zeros(len(kept) + 1, dtype=np.int32)
    np.cumsum(np.diff(a["start"])[kept], out=start[1:])
    relaxed = dict(a, cost=cost, row_lower=np.full(len(kept), -np.inf),
                   row_upper=a["row_upper"][kept], start=start,
                   index=a["index"][keep].astype(np.int32), value=a["value"][keep])
    # the clusters share no row: one MIP of them all, solved to optimality, is the bound
    r = highs_solve(arrays_of(relaxed, offset), time_limit_s=120, workers=1, seed=0,
                    relative_gap=1e-7)
    return float(r.bound)


def cpsat_bound(m, optimum: np.ndarray, limit: float) -> float:
    from ortools.sat.python import cp_model
    a = m.arrays
    model = cp_model.CpModel()
    x = [model.NewIntVar(0, int(a["upper"][j]), f"v{j}") for j in range(m.n_variables)]
    for r in range(m.n_constraints):
        s, e = a["start"][r], a["start"][r + 1]
        model.Add(sum(int(round(v)) * x[j] for v, j in zip(a["value"][s:e], a["index"][s:e]))
                  <= int(np.floor(a["row_upper"][r] + 1e-9)))
    cents = np.rint(a["cost"] * 100).astype(int)      # every cost is in cents
    model.Minimize(sum(int(c) * x[j] for j, c in enumerate(cents) if c))
    for j in range(m.n_variables):
        model.AddHint(x[j], int(round(optimum[j])))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 2
    solver.parameters.max_time_in_seconds = limit
    solver.parameters.relative_gap_limit = GAP
    solver.Solve(model)
    return solver.BestObjectiveBound() / 100 + m.offset


def main() -> None:
    global GAP
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["options", "log", "oracle", "flowcovers",
                                         "lagrangian", "rcfix", "cpsat"])
    parser.add_argument("--instance", type=int, default=1)
    parser.add_argument("--seeds", default="0,1,2,3")
    parser.add_argument("--clusters", default="20,50,200")
    parser.add_argument("--limit", type=float, default=20.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--gap", type=float, default=GAP)
    args = parser.parse_args()
    GAP = args.gap
    seeds = [int(s) for s in args.seeds.split(",")]
    problem = parse_problem(generate_problem(500, 8, 200, seed=args.instance))
    m = build_model(problem)
    greedy = m.encode(greedy_allocation(problem))
    exact = highs_solve(m, time_limit_s=600, workers=1, seed=0, relative_gap=1e-9,
                        start=greedy, options=SMALL_MIP_OPTIONS)
    optimum, best = exact.values, exact.objective
    print(f"instance {args.instance}: {m.n_variables} variables, optimum {best:,.2f}; "
          f"a 0.01% gap needs a bound of {best * (1 - GAP):,.2f}; proof times in s at "
          f"solver seeds {args.seeds} (* not proven in 15 s)")
    if args.what == "options":
        for name, options in OPTIONS.items():
            print(f"  {name:28s}", " ".join(proof_time(m, s, greedy, options, threads=args.threads)
                                            for s in seeds))
    elif args.what == "log":
        for s in seeds:
            highs_solve(m, time_limit_s=15, workers=1, seed=s, relative_gap=GAP, start=greedy,
                        options={**SMALL_MIP_OPTIONS, "output_flag": True,
                                 "mip_min_logging_interval": 0.0})
    elif args.what == "oracle":
        for name, options in (("RINS and RENS off", NO_SUB_MIPS), ("HiGHS's defaults", {})):
            print(f"  optimum as start, {name:18s}",
                  " ".join(proof_time(m, s, optimum, options) for s in seeds))
    elif args.what == "flowcovers":
        lp, *_ = lp_with_duals(m.arrays, m.offset)
        began = time.perf_counter()
        a = flow_cover_model(m)
        lp_cuts, *_ = lp_with_duals(a, m.offset)
        print(f"  LP {lp:,.2f}; with {len(a['row_upper']) - m.n_constraints} flow covers "
              f"{lp_cuts:,.2f} ({time.perf_counter() - began:.2f} s)")
        print("  without them", " ".join(proof_time(m, s, greedy) for s in seeds))
        cut = arrays_of(a, m.offset)
        print("  with them   ", " ".join(proof_time(cut, s, greedy) for s in seeds))
    elif args.what == "lagrangian":
        a = flow_cover_model(m)
        for size in (int(k) for k in args.clusters.split(",")):
            began = time.perf_counter()
            bound = lagrangian_bound(m, a, size)
            print(f"  clusters of at most {size} orders: bound {bound:,.2f} "
                  f"({time.perf_counter() - began:.2f} s)")
    elif args.what == "rcfix":
        a = flow_cover_model(m)
        lp, x, d, _ = lp_with_duals(a, m.offset)
        gap = best - lp
        lower, upper = a["lower"].copy(), a["upper"].copy()
        at_lo, at_up = (x <= lower + 1e-9) & (d > 1e-9), (x >= upper - 1e-9) & (d < -1e-9)
        upper[at_lo] = np.minimum(upper[at_lo], lower[at_lo] + np.floor(gap / d[at_lo] + 1e-9))
        lower[at_up] = np.maximum(lower[at_up], upper[at_up] - np.floor(gap / -d[at_up] + 1e-9))
        assert np.all(optimum >= lower - 1e-9) and np.all(optimum <= upper + 1e-9)
        print(f"  LP with flow covers {lp:,.2f}, gap to the optimum {gap:.2f}: "
              f"{int((upper <= lower).sum())} of {len(upper)} columns fixed")
        print("  proof, optimum as start", " ".join(
            proof_time(arrays_of(a, m.offset), s, optimum, lower=lower, upper=upper)
            for s in seeds))
    else:
        print(f"  CP-SAT, 2 workers, {args.limit:g} s: bound {cpsat_bound(m, optimum, args.limit):,.2f}")


if __name__ == "__main__":
    main()
