"""Large-neighbourhood search over the batch MIP: free a few orders that compete for the
same stock, fix every other order where the current plan has it, and let HiGHS solve the
small MIP that is left to optimality; keep the result when it is cheaper.

The neighbourhoods start from orders whose plan costs most above their share of the LP
relaxation (the "regret"), and add orders that want the same SKUs, so that the freed
orders can trade stock and node capacity between them. Each step only ever accepts a
plan that satisfies every row of the full model, so the plan in hand stays valid.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from .problem import RoutingProblem

MIN_FREE, MAX_FREE, START_FREE = 40, 600, 120   # orders freed per step
STEP_LIMIT_S = 0.6                              # most time for one small MIP


@dataclass
class LnsResult:
    values: np.ndarray   # the best solver values found (the start if nothing better)
    objective: float
    steps: int
    improvements: int


def submodel(model, free: np.ndarray, values: np.ndarray):
    """The model with every column outside ``free`` fixed at ``values``: the fixed columns'
    activity moves into the row bounds; rows without a free column are dropped.
    Returns (model, the free columns)."""
    from .model import Model

    a = model.arrays
    n_rows = len(a["row_upper"])
    row_of = model.row_of_nonzero
    nz_free = free[a["index"]]
    fixed = np.bincount(row_of, weights=np.where(nz_free, 0.0, a["value"] * values[a["index"]]),
                        minlength=n_rows)
    rows = np.flatnonzero(np.bincount(row_of[nz_free], minlength=n_rows))
    cols = np.flatnonzero(free)
    new_col = np.full(len(free), -1, dtype=np.int64)
    new_col[cols] = np.arange(len(cols))
    new_row = np.full(n_rows, -1, dtype=np.int64)
    new_row[rows] = np.arange(len(rows))
    keep = nz_free & (new_row[row_of] >= 0)
    start = np.zeros(len(rows) + 1, dtype=np.int32)
    np.cumsum(np.bincount(new_row[row_of[keep]], minlength=len(rows)), out=start[1:])
    arrays = dict(cost=a["cost"][cols], lower=a["lower"][cols], upper=a["upper"][cols],
                  integrality=a["integrality"][cols], row_lower=a["row_lower"][rows],
                  row_upper=a["row_upper"][rows] - fixed[rows], start=start,
                  index=new_col[a["index"][keep]].astype(np.int32), value=a["value"][keep])
    offset = model.offset + float(a["cost"][~free] @ values[~free])
    empty = np.zeros(0, dtype=np.int64)
    return Model(arrays, None, offset, empty, empty, empty), cols


class _Neighbourhoods:
    """Orders by SKU, to free orders that compete for the same stock together."""

    def __init__(self, problem: RoutingProblem, seed: int):
        self.rng = np.random.default_rng(seed)
        line_order = np.asarray(problem.line_order, dtype=np.int64)
        line_sku = np.asarray(problem.line_sku, dtype=np.int64)
        by_sku = np.argsort(line_sku, kind="stable")
        self.sku_orders = line_order[by_sku]
        counts = np.bincount(line_sku, minlength=problem.stock.shape[1])
        self.sku_start = np.concatenate([[0], np.cumsum(counts)])
        self.order_line_start = np.asarray(problem.order_line_start, dtype=np.int64)
        self.line_sku = line_sku
        self.n_orders = problem.n_orders

    def pick(self, regret: np.ndarray, size: int) -> np.ndarray:
        rng = self.rng
        weights = regret / regret.sum()
        chosen = np.zeros(self.n_orders, dtype=bool)
        n_seeds = max(1, size // 12)
        seeds = rng.choice(self.n_orders, size=min(n_seeds, self.n_orders), replace=False,
                           p=weights)
        chosen[seeds] = True
        per_sku = max(2, size // (2 * n_seeds))
        for o in seeds:
            for k in self.line_sku[self.order_line_start[o]:self.order_line_start[o + 1]]:
                members = self.sku_orders[self.sku_start[k]:self.sku_start[k + 1]]
                if len(members) > per_sku:
                    members = rng.choice(members, size=per_sku, replace=False)
                chosen[members] = True
            if chosen.sum() >= size:
                break
        return chosen


class SharedPlan:
    """The plan several search threads improve together. A step reads a snapshot, solves
    its small MIP without the lock, and commits under the lock: directly when nothing was
    committed since its snapshot, otherwise only if the merged plan still satisfies every
    row and costs less."""

    def __init__(self, model, values: np.ndarray, objective: float):
        self.model = model
        self.values = values.copy()
        self.objective = objective
        self.version = 0
        self.lock = threading.Lock()

    def snapshot(self) -> tuple[np.ndarray, float, int]:
        with self.lock:
            return self.values.copy(), self.objective, self.version

    def commit(self, cols: np.ndarray, new: np.ndarray, objective: float,
               version: int) -> bool:
        with self.lock:
            if version == self.version:
                if objective >= self.objective - 1e-6:
                    return False
                self.values[cols] = new
                self.objective = objective
                self.version += 1
                return True
            merged = self.values.copy()
            merged[cols] = new
            merged_cost = float(self.model.cost @ merged) + self.model.offset
            if merged_cost >= self.objective - 1e-6 or not satisfies(self.model, merged):
                return False
            self.values, self.objective = merged, merged_cost
            self.version += 1
            return True

    def offer(self, values: np.ndarray, objective: float) -> None:
        """A whole plan from elsewhere (the full MIP's incumbent), kept if cheaper."""
        with self.lock:
            if objective < self.objective - 1e-6:
                self.values, self.objective = values.copy(), objective
                self.version += 1


def satisfies(model, values: np.ndarray) -> bool:
    from .model import feasible

    return feasible(model.arrays, values, model.row_of_nonzero)


def search(problem: RoutingProblem, shared: SharedPlan, floor: np.ndarray, *,
           deadline: float, seed: int,
           stop: threading.Event | None = None) -> tuple[int, int]:
    """One search thread on ``shared`` until ``deadline`` or until ``stop`` is set (checked
    between steps): (steps, improvements)."""
    from .model import highs_solve

    model = shared.model
    var_order = model.var_order
    cost = model.cost
    integral = model.arrays["integrality"] == 1
    n_orders = problem.n_orders
    hoods = _Neighbourhoods(problem, seed)
    size, steps, better = START_FREE, 0, 0
    while time.perf_counter() < deadline - 0.05 and not (stop is not None and stop.is_set()):
        steps += 1
        values, objective, version = shared.snapshot()
        current = np.bincount(var_order, weights=cost * values, minlength=n_orders)
        regret = np.maximum(current - floor, 0.0) + 1e-3
        free = hoods.pick(regret, min(size, n_orders))[var_order]
        sub, cols = submodel(model, free, values)
        if sub.n_variables == 0:
            continue
        limit = min(STEP_LIMIT_S, deadline - time.perf_counter())
        if limit <= 0.02:
            break
        result = highs_solve(sub, time_limit_s=limit, workers=1, seed=seed + steps,
                             relative_gap=1e-6, start=values[cols])
        if result.values is not None and result.objective < objective - 1e-6:
            new = np.where(integral[cols], np.rint(result.values), result.values)
            better += shared.commit(cols, new, result.objective, version)
        # grow the neighbourhood while the small MIPs solve fast, shrink it when they don't
        size = (min(MAX_FREE, int(size * 1.25)) if result.optimal
                else max(MIN_FREE, int(size * 0.7)))
    return steps, better


def run_parallel(tasks) -> None:
    """Run the callables, each on a thread of its own (HiGHS releases the GIL and keeps a
    scheduler per calling thread); a single one runs in the caller's thread."""
    if len(tasks) <= 1:
        for task in tasks:
            task()
        return
    threads = [threading.Thread(target=task) for task in tasks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def improve(problem: RoutingProblem, model, values: np.ndarray, objective: float,
            floor: np.ndarray, *, deadline: float, seed: int, threads: int = 1) -> LnsResult:
    """LNS from the plan ``values`` (solver values, cost ``objective``) until ``deadline``,
    on ``threads`` threads (each runs HiGHS on one thread of its own).
    ``floor``: per order, what it could cost in the model's terms (its share of the LP
    relaxation, or its own lower bound); an order's regret is its cost above it."""
    shared = SharedPlan(model, values, objective)
    counts = [(0, 0)] * threads

    def run(i: int) -> None:
        counts[i] = search(problem, shared, floor, deadline=deadline, seed=seed + 7919 * i)

    run_parallel([lambda i=i: run(i) for i in range(threads)])
    return LnsResult(shared.values, shared.objective, sum(c[0] for c in counts),
                     sum(c[1] for c in counts))
