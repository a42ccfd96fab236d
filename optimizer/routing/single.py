"""Exact routing of one order, fast enough for an HTTP request.

The same rules and cost model as the batch, solved by branch and bound over the
set of shipping nodes: for a fixed set the best allocation is a transportation
problem whose unit cost depends only on the node, so filling each SKU from the
cheapest nodes first is optimal when no node's unit capacity binds (otherwise a
small min-cost flow decides). The bound at each branch is the fixed cost
already committed plus the allocation over every node still allowed, with no
further fixed cost: a relaxation, so pruning on it keeps the result exact.
"""

from __future__ import annotations

import time

from ortools.graph.python import min_cost_flow

from .plan import RoutingPlan, make_plan
from .problem import RoutingProblem

_BIG = 1 << 60


def _fill(need: dict[int, int], nodes: list[tuple], capped: bool):
    """Cost (relative to backordering everything) and units {(sku, node): qty} for a node set.

    ``nodes`` are (node, unit_cost, penalty_saving, stock_by_sku, cap_units) sorted by cost.
    """
    if capped and any(min(sum(min(q, st.get(k, 0)) for k, q in need.items()), _BIG) > cap
                      for _, _, _, st, cap in nodes):
        return _flow(need, nodes)
    cost, units = 0.0, {}
    for k, q in need.items():
        for n, _, saving, st, _ in nodes:
            if q == 0:
                break
            take = min(q, st.get(k, 0))
            if take:
                units[(k, n)] = take
                cost -= saving * take
                q -= take
    return cost, units


def _flow(need: dict[int, int], nodes: list[tuple]):
    """Exact allocation with node unit capacities: min-cost flow sku → (node) → sink."""
    flow = min_cost_flow.SimpleMinCostFlow()
    skus = list(need)
    source, sink = 0, 1 + len(skus) + len(nodes)
    scale = 1_000_000
    arcs = []
    for i, k in enumerate(skus):
        flow.add_arc_with_capacity_and_unit_cost(source, 1 + i, need[k], 0)
        flow.add_arc_with_capacity_and_unit_cost(1 + i, sink, need[k], 0)  # backorder
        for j, (n, _, saving, st, _) in enumerate(nodes):
            if st.get(k, 0):
                a = flow.add_arc_with_capacity_and_unit_cost(
                    1 + i, 1 + len(skus) + j, min(need[k], st[k]), -int(round(saving * scale)))
                arcs.append((a, k, n))
    for j, (_, _, _, _, cap) in enumerate(nodes):
        flow.add_arc_with_capacity_and_unit_cost(1 + len(skus) + j, sink, int(min(cap, _BIG)), 0)
    total = sum(need.values())
    flow.set_node_supply(source, total)
    flow.set_node_supply(sink, -total)
    if flow.solve() != flow.OPTIMAL:
        raise RuntimeError("single-order allocation flow did not solve")
    units = {(k, n): flow.flow(a) for a, k, n in arcs if flow.flow(a)}
    cost = -sum(q * saving for (k, n), q in units.items()
                for m, _, saving, _, _ in nodes if m == n)
    return cost, units


def route_allocation(problem: RoutingProblem, order: int, stock, cap_units, cap_orders):
    """Best (line, node, qty) triples of one order against the given resources."""
    lines = list(problem.lines_of(order))
    pen = float(problem.order_penalty[order])
    need: dict[int, int] = {}
    for l in lines:
        k = int(problem.line_sku[l])
        need[k] = need.get(k, 0) + int(problem.line_qty[l])
    total = sum(need.values())
    cands = []
    for p in problem.pairs_of(order):
        n = int(problem.pair_node[p])
        unit = float(problem.pair_unit_cost[p])
        cap = _BIG if cap_units[n] < 0 else int(cap_units[n])
        if unit >= pen or cap_orders[n] == 0 or cap == 0:
            continue
        st = {k: int(stock[n, k]) for k in need if stock[n, k] > 0}
        if st:
            cands.append((float(problem.pair_ship_cost[p]), (n, unit, pen - unit, st, cap)))
    if problem.order_ship_complete[order]:
        best, best_cost = None, 0.0
        for fixed, (n, unit, saving, st, cap) in cands:
            if cap >= total and all(st.get(k, 0) >= q for k, q in need.items()):
                cost = fixed - saving * total
                if cost < best_cost:
                    best, best_cost = n, cost
        return [] if best is None else [(l, best, int(problem.line_qty[l])) for l in lines]
    cands.sort(key=lambda c: (c[0], c[1][1]))
    limit = int(problem.order_max_shipments[order]) or len(cands)
    split = problem.split_penalty
    capped = any(c[1][4] < total for c in cands)
    best = [0.0, {}]

    def search(i: int, chosen: list, fixed: float) -> None:
        if chosen:
            nodes = sorted(chosen, key=lambda c: c[1])
            cost, units = _fill(need, nodes, capped)
            if fixed + cost < best[0] - 1e-9:
                best[0], best[1] = fixed + cost, units
        if i == len(cands) or len(chosen) == limit:
            return
        extra = split if chosen else 0.0
        relaxed = sorted(chosen + [c[1] for c in cands[i:]], key=lambda c: c[1])
        lower, _ = _fill(need, relaxed, False)
        if fixed + cands[i][0] + extra + lower >= best[0] - 1e-9:
            return  # cands are sorted by fixed cost: no later branch can do better either
        search(i + 1, chosen + [cands[i][1]], fixed + cands[i][0] + extra)
        search(i + 1, chosen, fixed)

    search(0, [], 0.0)
    out = []
    units = dict(best[1])
    for l in lines:  # hand the SKU's units back to its lines in line order
        k, q = int(problem.line_sku[l]), int(problem.line_qty[l])
        for (kk, n), avail in list(units.items()):
            if kk != k or q == 0:
                continue
            take = min(q, avail)
            out.append((l, n, take))
            units[(kk, n)] -= take
            q -= take
    return [t for t in out if t[2]]


def route_order(problem: RoutingProblem) -> RoutingPlan:
    """Route a one-order problem exactly (current ATP in ``inventory``); status ``optimal``."""
    if problem.n_orders != 1:
        raise ValueError(f"route_order takes a problem with exactly one order, got "
                         f"{problem.n_orders}")
    start = time.perf_counter()
    allocation = route_allocation(problem, 0, problem.stock, problem.cap_units,
                                  problem.cap_orders)
    return make_plan(problem, allocation, status="optimal", bound=None,
                     solve_seconds=time.perf_counter() - start)
