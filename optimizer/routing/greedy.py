"""The peer-style baseline, and a cheap proven lower bound.

Greedy: orders in input order; each takes its cheapest eligible nodes first
(ranked by the cost of shipping the whole order from the node), filling what
stock and capacity allow, within every rule. A shipment is skipped when it
would cost more than backordering its units.
"""

from __future__ import annotations

import numpy as np

from .problem import RoutingProblem


def simple_lower_bound(problem: RoutingProblem) -> float:
    """A proven lower bound: the sum of ``order_lower_bounds``."""
    return float(order_lower_bounds(problem).sum())


def order_lower_bounds(problem: RoutingProblem) -> np.ndarray:
    """Per order, the least it can cost: it either ships nothing (all units pay the
    penalty) or pays at least its cheapest shipment, and each unit at least the cheaper of
    its penalty and the cheapest per-unit cost of an eligible node holding its SKU."""
    n_orders, n_lines = problem.n_orders, problem.n_lines
    line_order = np.asarray(problem.line_order, dtype=np.int64)
    qty = np.asarray(problem.line_qty, dtype=np.float64)
    pen = np.asarray(problem.order_penalty, dtype=np.float64)
    counts = np.diff(problem.order_pair_start).astype(np.int64)
    # (bincount of empty input is integer-typed: keep every sum float for empty batches)
    nothing = np.bincount(line_order, weights=qty * pen[line_order],
                          minlength=n_orders).astype(np.float64)
    # every (line, eligible pair of its order)
    rep = counts[line_order]
    line_idx = np.repeat(np.arange(n_lines), rep)
    first = np.repeat(np.cumsum(rep) - rep, rep)
    pair = np.asarray(problem.order_pair_start[:-1], dtype=np.int64)[line_order][line_idx] + (
        np.arange(len(line_idx)) - first)
    has = problem.stock[problem.pair_node[pair], problem.line_sku[line_idx]] > 0
    cheapest = np.full(n_lines, np.inf)
    np.minimum.at(cheapest, line_idx[has], problem.pair_unit_cost[pair[has]])
    per_unit = np.minimum(pen[line_order], cheapest)
    some = np.bincount(line_order, weights=qty * per_unit,
                       minlength=n_orders).astype(np.float64)
    min_ship = np.full(n_orders, np.inf)
    pair_order = np.repeat(np.arange(n_orders), counts)
    np.minimum.at(min_ship, pair_order, problem.pair_ship_cost)
    some += min_ship
    return np.where(counts > 0, np.minimum(nothing, some), nothing)


class _State:
    def __init__(self, problem: RoutingProblem):
        big = np.iinfo(np.int64).max // 4
        self.stock = problem.stock.copy()
        self.units = np.where(problem.cap_units < 0, big, problem.cap_units)
        self.orders = np.where(problem.cap_orders < 0, big, problem.cap_orders)


def _route_ship_complete(problem: RoutingProblem, state: _State, o: int, out: list,
                         score) -> None:
    lines = problem.lines_of(o)
    need: dict[int, int] = {}
    for l in lines:
        k = int(problem.line_sku[l])
        need[k] = need.get(k, 0) + int(problem.line_qty[l])
    total = sum(need.values())
    best, best_key = None, (0.0, float(problem.order_penalty[o]) * total)
    for p in problem.pairs_of(o):
        n = int(problem.pair_node[p])
        if state.orders[n] < 1 or state.units[n] < total:
            continue
        if any(state.stock[n, k] < q for k, q in need.items()):
            continue
        cost = float(problem.pair_ship_cost[p] + problem.pair_unit_cost[p] * total)
        if cost < float(problem.order_penalty[o]) * total and (-score[p], cost) < best_key:
            best, best_key = n, (-score[p], cost)
    if best is None or total == 0:
        return
    for l in lines:
        q = int(problem.line_qty[l])
        state.stock[best, problem.line_sku[l]] -= q
        out.append((l, best, q))
    state.units[best] -= total
    state.orders[best] -= 1


def _route_split(problem: RoutingProblem, state: _State, o: int, out: list, score) -> None:
    lines = problem.lines_of(o)
    remaining = {l: int(problem.line_qty[l]) for l in lines}
    total = sum(remaining.values())
    pen = float(problem.order_penalty[o])
    limit = int(problem.order_max_shipments[o]) or problem.n_nodes
    pairs = sorted(problem.pairs_of(o), key=lambda p: (
        -score[p], problem.pair_ship_cost[p] + problem.pair_unit_cost[p] * total, problem.pair_node[p]))
    used = 0
    for p in pairs:
        if used >= limit or not any(remaining.values()):
            break
        n = int(problem.pair_node[p])
        if state.orders[n] < 1:
            continue
        room = int(state.units[n])
        take: dict[int, int] = {}
        taken_by_sku: dict[int, int] = {}
        for l, r in remaining.items():
            k = int(problem.line_sku[l])
            q = min(r, int(state.stock[n, k]) - taken_by_sku.get(k, 0), room)
            if q > 0:
                take[l] = q
                taken_by_sku[k] = taken_by_sku.get(k, 0) + q
                room -= q
        units = sum(take.values())
        if units == 0:
            continue
        cost = float(problem.pair_ship_cost[p] + problem.pair_unit_cost[p] * units)
        if used:
            cost += problem.split_penalty
        if cost >= pen * units:
            continue
        for l, q in take.items():
            remaining[l] -= q
            state.stock[n, problem.line_sku[l]] -= q
            out.append((l, n, q))
        state.units[n] -= units
        state.orders[n] -= 1
        used += 1


def greedy_allocation(problem: RoutingProblem,
                      score: np.ndarray | None = None) -> list[tuple[int, int, int]]:
    """(line, node, qty) triples of the greedy plan.

    ``score`` (one per eligible pair, higher first) reorders each order's nodes before
    cost; the optimal strategy passes the LP's shipment indicators to repair an LP
    solution into a plan. Without it, this is the peer-style baseline.
    """
    if score is None:
        score = np.zeros(len(problem.pair_node))
    state = _State(problem)
    out: list[tuple[int, int, int]] = []
    sequence = range(problem.n_orders)
    if score.any():  # orders the LP ships with most certainty go first
        top = np.maximum.reduceat(np.append(score, 0.0), problem.order_pair_start[:-1])
        top[problem.order_pair_start[:-1] == problem.order_pair_start[1:]] = 0.0
        sequence = np.argsort(-top, kind="stable")
    for o in sequence:
        o = int(o)
        if problem.order_ship_complete[o]:
            _route_ship_complete(problem, state, o, out, score)
        else:
            _route_split(problem, state, o, out, score)
    return out
