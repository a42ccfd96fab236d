"""The routing MIP as its first, loop-based builder made it: one Python step per order,
line and pair. Kept as the oracle the vectorised ``build_model`` is checked against."""

from __future__ import annotations

import numpy as np

from optimizer.routing.problem import RoutingProblem


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


def reference_arrays(problem: RoutingProblem):
    """The batch MIP as the first, loop-based builder made it: (arrays, offset)."""
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

    n_rows = len(b.rows)
    start = np.zeros(n_rows + 1, dtype=np.int32)
    np.cumsum([len(r[2]) for r in b.rows], out=start[1:])
    return dict(
        cost=np.asarray(b.obj, dtype=np.float64), lower=np.asarray(b.lb, dtype=np.float64),
        upper=np.asarray(b.ub, dtype=np.float64),
        integrality=np.asarray(b.integer, dtype=np.int32),
        row_lower=np.array([r[0] for r in b.rows], dtype=np.float64),
        row_upper=np.array([r[1] for r in b.rows], dtype=np.float64), start=start,
        index=np.array([v for r in b.rows for v in r[2]], dtype=np.int32),
        value=np.array([c for r in b.rows for c in r[3]], dtype=np.float64)), offset
