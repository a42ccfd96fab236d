"""Exact routing of one order, fast enough for an HTTP request.

The same rules and cost model as the batch, solved by branch and bound over the
set of shipping nodes. For a fixed node set the best allocation is, SKU by SKU,
the cheapest nodes first (when no node's unit capacity binds; otherwise a
small min-cost flow decides). The bound at each branch is the fixed cost
already committed plus the allocation over every node still allowed with no
further fixed cost: a relaxation, so pruning on it keeps the result exact.
"""

from __future__ import annotations

import time
from typing import NamedTuple

from ortools.graph.python import min_cost_flow

from .plan import RoutingPlan, make_plan
from .problem import RoutingProblem

BIG = 1 << 60
_SCALE = 1_000_000


class Candidate(NamedTuple):
    fixed: float               # cost of a shipment from this node
    node: int
    unit: dict                 # sku -> cost per unit (the node's, for every SKU it holds)
    stock: dict                # sku -> units this node may ship to the order
    cap: int                   # units this node may ship (BIG = unlimited)


def _fill(need: dict[int, int], nodes: list[Candidate], pen: float, capped: bool):
    """Cost relative to backordering everything, and units {(sku, node): qty}, for a node set."""
    if capped and any(sum(min(q, c.stock.get(k, 0)) for k, q in need.items()) > c.cap
                      for c in nodes):
        return _flow(need, nodes, pen)
    cost, units = 0.0, {}
    for k, q in need.items():
        for c in sorted((c for c in nodes if k in c.stock), key=lambda c: c.unit[k]):
            saving = pen - c.unit[k]
            if q == 0 or saving <= 0:
                break
            take = min(q, c.stock[k])
            units[(k, c.node)] = take
            cost -= saving * take
            q -= take
    return cost, units


def _flow(need: dict[int, int], nodes: list[Candidate], pen: float):
    """Exact allocation with node unit capacities: min-cost flow sku → node → sink."""
    flow = min_cost_flow.SimpleMinCostFlow()
    skus = list(need)
    sink = 1 + len(skus) + len(nodes)
    arcs = []
    for i, k in enumerate(skus):
        flow.add_arc_with_capacity_and_unit_cost(0, 1 + i, need[k], 0)
        flow.add_arc_with_capacity_and_unit_cost(1 + i, sink, need[k], 0)  # backorder
        for j, c in enumerate(nodes):
            if c.stock.get(k, 0) and c.unit[k] < pen:
                a = flow.add_arc_with_capacity_and_unit_cost(
                    1 + i, 1 + len(skus) + j, min(need[k], c.stock[k]),
                    -int(round((pen - c.unit[k]) * _SCALE)))
                arcs.append((a, k, c))
    for j, c in enumerate(nodes):
        flow.add_arc_with_capacity_and_unit_cost(1 + len(skus) + j, sink, int(min(c.cap, BIG)), 0)
    total = sum(need.values())
    flow.set_node_supply(0, total)
    flow.set_node_supply(sink, -total)
    if flow.solve() != flow.OPTIMAL:
        raise RuntimeError("single-order allocation flow did not solve")
    units, cost = {}, 0.0
    for a, k, c in arcs:
        q = flow.flow(a)
        if q:
            units[(k, c.node)] = q
            cost -= (pen - c.unit[k]) * q
    return cost, units


class OrderPlan(NamedTuple):
    cost: float     # relative to backordering the whole order (≤ 0)
    units: dict     # {(sku, node): qty}
    bound: float    # a proven lower bound on ``cost`` (equal to it when ``exact``)
    exact: bool     # the search finished: ``units`` is a cheapest plan


def best_order_plan(need: dict[int, int], cands: list[Candidate], *, pen: float, limit: int,
                    split_penalty: float, ship_complete: bool,
                    deadline: float | None = None) -> OrderPlan:
    """Cheapest plan of one order, relative to backordering it all.

    Exact for the given candidates (rules 4 and local stock are in ``cands``; rule 5 is
    ``limit``, 0 = none; rule 6 is ``ship_complete``; unit capacities in ``Candidate.cap``).
    The search over node sets grows exponentially with the candidates when many lines
    keep its bound weak (say 25 nodes holding 25 SKUs each); at ``deadline`` (a
    ``time.perf_counter()`` value) it stops with the best plan found so far and a proven
    bound: shipping nothing costs 0, and shipping anything costs at least one shipment
    plus the allocation over every candidate with no fixed cost.
    """
    total = sum(need.values())
    if ship_complete:
        best, best_cost = None, 0.0
        for c in cands:
            if c.cap >= total and all(c.stock.get(k, 0) >= q for k, q in need.items()):
                cost = c.fixed + sum(q * (c.unit[k] - pen) for k, q in need.items())
                if cost < best_cost:
                    best, best_cost = c, cost
        if best is None:
            return OrderPlan(0.0, {}, 0.0, True)
        return OrderPlan(best_cost, {(k, best.node): q for k, q in need.items()}, best_cost,
                         True)
    cands = sorted(cands, key=lambda c: (c.fixed, c.node))
    limit = limit or len(cands)
    capped = any(c.cap < total for c in cands)
    best = [0.0, {}]
    stopped = [False]

    def search(i: int, chosen: list, fixed: float) -> None:
        if stopped[0] or (deadline is not None and time.perf_counter() > deadline):
            stopped[0] = True
            return
        if chosen:
            cost, units = _fill(need, chosen, pen, capped)
            if fixed + cost < best[0] - 1e-9:
                best[0], best[1] = fixed + cost, units
        if i == len(cands) or len(chosen) == limit:
            return
        extra = split_penalty if chosen else 0.0
        lower, _ = _fill(need, chosen + cands[i:], pen, False)
        if fixed + cands[i].fixed + extra + lower >= best[0] - 1e-9:
            return  # later candidates cost at least as much to add: prune both branches
        search(i + 1, chosen + [cands[i]], fixed + cands[i].fixed + extra)
        search(i + 1, chosen, fixed)

    search(0, [], 0.0)
    if not stopped[0]:
        return OrderPlan(best[0], best[1], best[0], True)
    relaxed, _ = _fill(need, cands, pen, False)
    bound = min(0.0, relaxed + min((c.fixed for c in cands), default=0.0))
    return OrderPlan(best[0], best[1], min(bound, best[0]), False)


def order_need(problem: RoutingProblem, order: int) -> dict[int, int]:
    """Units per SKU (lines naming the same SKU share its stock and the order's penalty)."""
    need: dict[int, int] = {}
    for l in problem.lines_of(order):
        k = int(problem.line_sku[l])
        need[k] = need.get(k, 0) + int(problem.line_qty[l])
    return {k: q for k, q in need.items() if q}


def split_to_lines(problem: RoutingProblem, order: int, units: dict) -> list[tuple[int, int, int]]:
    """Hand each SKU's units back to the order's lines, in line order."""
    units = dict(units)
    out = []
    for l in problem.lines_of(order):
        k, q = int(problem.line_sku[l]), int(problem.line_qty[l])
        for (kk, n), avail in sorted(units.items(), key=lambda e: e[0][1]):
            if kk != k or q == 0 or avail == 0:
                continue
            take = min(q, avail)
            out.append((l, n, take))
            units[(kk, n)] -= take
            q -= take
    return out


def route_allocation(problem: RoutingProblem, order: int, stock, cap_units, cap_orders,
                     deadline: float | None = None):
    """(line, node, qty) triples of one order, a proven lower bound on its cost (the
    contract's objective, backorders included) and whether the search finished (then
    the triples are a cheapest plan and the bound is their cost)."""
    need = order_need(problem, order)
    pen = float(problem.order_penalty[order])
    cands = []
    for p in problem.pairs_of(order):
        n = int(problem.pair_node[p])
        cap = BIG if cap_units[n] < 0 else int(cap_units[n])
        if cap_orders[n] == 0 or cap == 0:
            continue
        st = {k: int(stock[n, k]) for k in need if stock[n, k] > 0}
        if st:
            unit = float(problem.pair_unit_cost[p])
            cands.append(Candidate(float(problem.pair_ship_cost[p]), n,
                                   dict.fromkeys(st, unit), st, cap))
    found = best_order_plan(
        need, cands, pen=pen, limit=int(problem.order_max_shipments[order]),
        split_penalty=problem.split_penalty,
        ship_complete=bool(problem.order_ship_complete[order]), deadline=deadline)
    return (split_to_lines(problem, order, found.units),
            pen * sum(need.values()) + found.bound, found.exact)


def route_order(problem: RoutingProblem, time_limit_s: float | None = None) -> RoutingPlan:
    """Route a one-order problem exactly (current ATP in ``inventory``); status ``optimal``.

    The search takes milliseconds for orders of a few lines; one that has not finished
    within ``time_limit_s`` (the problem's policy by default) returns the best plan found,
    status ``feasible``, with a proven bound. A problem without orders is valid too: its
    plan is empty (objective 0, proven)."""
    if problem.n_orders > 1:
        raise ValueError(f"route_order takes a problem with at most one order, got "
                         f"{problem.n_orders}")
    start = time.perf_counter()
    if problem.n_orders == 0:
        return make_plan(problem, [], status="optimal", bound=None,
                         solve_seconds=time.perf_counter() - start)
    limit = problem.time_limit_s if time_limit_s is None else float(time_limit_s)
    allocation, bound, exact = route_allocation(
        problem, 0, problem.stock, problem.cap_units, problem.cap_orders,
        deadline=start + limit)
    return make_plan(problem, allocation, status="optimal" if exact else "feasible",
                     bound=None if exact else bound,
                     solve_seconds=time.perf_counter() - start)
