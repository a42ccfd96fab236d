"""Plain-language reasons a planner can read: why this node, why not shipped.

Every statement is judged on the plan itself: what it leaves over (stock and
capacity after every shipment, the same judgement as the backorder reasons in
``plan.backorder_reason``), and, for greedy plans, the state each order met
when it was routed (greedy routes orders in input order). Only nodes that could
ever have shipped the units (eligible, holding them before routing, with the
capacity for them) are named as alternatives.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate

import numpy as np

from .plan import Backorder, RoutingPlan, Shipment
from .problem import RoutingProblem, eligible_lane

_NODES_NAMED = 5
_ORDERS_NAMED = 5


def _names(items: list[str], limit: int = _ORDERS_NAMED) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


class Explainer:
    """Indexes the problem and the plan once, then explains any number of plan entries."""

    def __init__(self, problem: RoutingProblem, plan: RoutingPlan):
        self.problem = p_ = problem
        self.status = plan.status
        # a feasible plan stopped at its time limit, or (small batches) once within the
        # solver's relative gap of its bound, well before the limit: its gap is what is known
        self.not_proven = (f"not proven optimal (its gap to the proven bound is "
                           f"{100 * plan.gap:.3g}%)")
        self.orders = {oid: i for i, oid in enumerate(p_.order_ids)}
        self.nodes = {nid: i for i, nid in enumerate(p_.node_ids)}
        self.skus = {sid: i for i, sid in enumerate(p_.sku_ids)}
        self.lanes = {(l.node, l.region, l.service): l for l in p_.source.lanes}
        big = np.iinfo(np.int64).max // 4
        self.unlimited = big
        self.cap_units = np.where(p_.cap_units < 0, big, p_.cap_units).astype(np.int64)
        self.cap_orders = np.where(p_.cap_orders < 0, big, p_.cap_orders).astype(np.int64)
        # what each order took from each node: {order: {node: {sku: units}}}
        self.taken: dict[int, dict[int, dict[int, int]]] = {}
        for s in plan.shipments:
            per_sku = self.taken.setdefault(self.orders[s.order], {}).setdefault(
                self.nodes[s.node], {})
            for l in s.lines:
                per_sku[self.skus[l.sku]] = per_sku.get(self.skus[l.sku], 0) + l.qty
        # what the plan leaves over
        self.stock_left = p_.stock.astype(np.int64).copy()
        self.units_left = self.cap_units.copy()
        self.orders_left = self.cap_orders.copy()
        # who ships from each node, in input order, with running totals: the state an
        # order met under greedy is looked up, not recomputed (that was quadratic in the
        # batch: minutes for 20,000 orders)
        node_takers: dict[int, list[tuple[int, int]]] = {}           # n -> [(order, units)]
        sku_takers: dict[tuple[int, int], list[tuple[int, int]]] = {}  # (n, k) -> [(o, q)]
        for o in sorted(self.taken):
            for n, per_sku in self.taken[o].items():
                for k, q in per_sku.items():
                    self.stock_left[n, k] -= q
                    sku_takers.setdefault((n, k), []).append((o, q))
                self.units_left[n] -= sum(per_sku.values())
                self.orders_left[n] -= 1
                node_takers.setdefault(n, []).append((o, sum(per_sku.values())))
        self._by_node = {n: _Running(entries) for n, entries in node_takers.items()}
        self._by_node_sku = {key: _Running(entries) for key, entries in sku_takers.items()}

    # -- helpers ---------------------------------------------------------------------------

    def _takers(self, node: int, sku: int | None, exclude: int | None = None,
                before: int | None = None) -> list[int]:
        """Orders shipping from ``node`` (the SKU's units when given), in input order."""
        running = (self._by_node if sku is None else self._by_node_sku).get(
            node if sku is None else (node, sku))
        if running is None:
            return []
        orders = running.orders if before is None else running.orders[:running.upto(before - 1)]
        return [o for o in orders if o != exclude]

    def _left_at(self, order: int, node: int):
        """(stock left by SKU, unit capacity left, shipment capacity left) at ``node`` for
        ``order``'s explanation: for greedy, what the orders up to it (its own shipments
        included) left there; otherwise what the whole plan leaves."""
        if self.status != "greedy":
            return (lambda k: int(self.stock_left[node, k]), int(self.units_left[node]),
                    int(self.orders_left[node]))
        p_ = self.problem

        def stock(k: int) -> int:
            running = self._by_node_sku.get((node, k))
            return int(p_.stock[node, k]) - (running.total(order) if running else 0)

        running = self._by_node.get(node)
        units = running.total(order) if running else 0
        shipments = running.upto(order) if running else 0
        return stock, int(self.cap_units[node]) - units, int(self.cap_orders[node]) - shipments

    # -- shipments -------------------------------------------------------------------------

    def shipment(self, shipment: Shipment) -> str:
        """Its cost against the cheapest other eligible node that could ship the same units."""
        p_ = self.problem
        o, n = self.orders[shipment.order], self.nodes[shipment.node]
        units = sum(l.qty for l in shipment.lines)
        need: dict[int, int] = {}
        for l in shipment.lines:
            need[self.skus[l.sku]] = need.get(self.skus[l.sku], 0) + l.qty
        here, others = 0.0, []
        for p in p_.pairs_of(o):
            m = int(p_.pair_node[p])
            cost = float(p_.pair_ship_cost[p] + p_.pair_unit_cost[p] * units)
            if m == n:
                here = cost
            elif (self.cap_units[m] >= units and self.cap_orders[m] >= 1
                  and all(p_.stock[m, k] >= q for k, q in need.items())):
                others.append((cost, p_.node_ids[m], m))
        text = f"{shipment.node} ships {units} unit(s) for {here:.2f}"
        if not others:
            return text + ("; no other eligible node has the stock and capacity to ship "
                           "these units")
        cost, name, m = min(others)
        if cost >= here:
            return text + f"; next-best eligible node {name} would cost {cost:.2f}"
        text += f"; {name} would cost {cost:.2f}"
        stock, units_left, orders_left = self._left_at(o, m)
        short: list[tuple[str, int | None]] = []        # (what ran out, sku or None)
        for k, q in sorted(need.items()):
            if stock(k) < q:
                short.append((f"its {p_.sku_ids[k]} stock ({max(stock(k), 0)} "
                              f"left of the {q} needed)", k))
        if units_left < units:
            short.append((f"its unit capacity ({max(units_left, 0)} left of the "
                          f"{units} needed)", None))
        if orders_left < 1 and m not in self.taken.get(o, {}):
            short.append(("its shipment capacity (no shipment left)", None))
        if self.status == "greedy":
            if not short:
                return text + (" and had these units when this order was routed, but greedy "
                               "ranks an order's nodes by the cost of shipping the whole "
                               "order from them, not of these units alone")
            takers = sorted({t for _, k in short for t in self._takers(m, k, before=o + 1)})
            who = self._who(takers, o)
            tail = ("" if takers == [o] else
                    ": greedy routes orders in input order, and earlier orders keep what "
                    "they took")
            return text + (f", but {_names(who)} had already taken "
                           f"{' and '.join(w for w, _ in short)}{tail}")
        if not short:
            if self.status == "optimal":
                return text + (" and still has the stock and capacity for these units after "
                               "this plan; the difference is within the solver's optimality "
                               "tolerance")
            return text + (" and still has the stock and capacity for these units after this "
                           f"plan, which is {self.not_proven}")
        takers = sorted({t for _, k in short for t in self._takers(m, k)})
        who = self._who(takers, o)
        whose = "the batch optimum" if self.status == "optimal" else "this plan"
        return text + (f", but it has no stock or capacity left for them after this plan: "
                       f"{whose} uses {' and '.join(w for w, _ in short)} for "
                       f"{_names(who)}")

    def _who(self, takers, o: int) -> list[str]:
        """The orders in ``takers`` by id, order ``o`` itself named as such: by its other
        lines, or by the rest of its only line (split over nodes) when it has one."""
        p_ = self.problem
        own = ("this order's other lines" if len(p_.lines_of(o)) > 1
               else "this order's own line (its other units)")
        return [own if t == o else p_.order_ids[t] for t in takers]

    # -- backorders ------------------------------------------------------------------------

    def _node_left(self, n: int) -> str:
        """Why node ``n`` cannot take more: its capacity left after the plan."""
        p_ = self.problem
        why = []
        for left, cap, what in ((self.units_left[n], self.cap_units[n], "unit"),
                                (self.orders_left[n], self.cap_orders[n], "shipment")):
            if cap == 0:
                why.append(f"no {what} capacity at all")
            elif left <= 0:
                why.append(f"{what} capacity of {int(cap)} used up")
        return f"{p_.node_ids[n]} ({'; '.join(why) or 'capacity left'})"

    def backorder(self, backorder: Backorder) -> str:
        """The reason in words, with the stock left, the capacity left or the rule behind it."""
        p_ = self.problem
        o = self.orders[backorder.order]
        k = self.skus[backorder.sku]
        sku = backorder.sku
        nodes = [int(p_.pair_node[p]) for p in p_.pairs_of(o)]
        used = set(self.taken.get(o, {}))
        reason = backorder.reason
        if reason == "no_eligible_node":
            order = p_.source.orders[o]
            why = "; ".join(
                f"{nid}: {eligible_lane(p_.source, self.lanes, order, nid)[1]}"
                for nid in p_.node_ids[:_NODES_NAMED])
            why += "; ..." if p_.n_nodes > _NODES_NAMED else ""
            return f"no node may ship this order: {why}"
        if reason == "no_stock":
            before = ", ".join(f"{p_.node_ids[n]}={int(p_.stock[n, k])}" for n in nodes)
            left = sum(max(int(self.stock_left[n, k]), 0) for n in nodes)
            if p_.order_ship_complete[o] and left:
                wanted = sum(int(p_.line_qty[l]) for l in p_.lines_of(o) if p_.line_sku[l] == k)
                text = (f"the order must ship whole, and the eligible nodes have {left} of "
                        f"the {wanted} {sku} it needs left after this plan (before routing: "
                        f"{before})")
            else:
                text = (f"no eligible node has {sku} left after this plan (before routing: "
                        f"{before})")
            takers = sorted({t for n in nodes for t in self._takers(n, k)})
            if takers:
                who = self._who(takers, o)
                text += f"; it ships to {_names(who)}"
            return text
        if reason == "capacity":
            with_stock = [n for n in nodes if self.stock_left[n, k] > 0]
            closed = [n for n in with_stock if self.units_left[n] <= 0
                      or (n not in used and self.orders_left[n] <= 0)]
            if with_stock and len(closed) == len(with_stock):
                left = ", ".join(f"{p_.node_ids[n]}={int(self.stock_left[n, k])}"
                                 for n in with_stock)
                return (f"{sku} is left at eligible nodes after this plan ({left}), but none "
                        f"of them has capacity left: "
                        f"{'; '.join(self._node_left(n) for n in closed)}")
            need: dict[int, int] = {}
            for l in p_.lines_of(o):
                kk = int(p_.line_sku[l])
                need[kk] = need.get(kk, 0) + int(p_.line_qty[l])
            total = sum(need.values())
            whole = [n for n in nodes
                     if all(self.stock_left[n, kk] >= q for kk, q in need.items())]
            parts = []
            for n in whole:
                bits = []
                if self.units_left[n] < total:
                    bits.append(f"{int(max(self.units_left[n], 0))} unit(s) of capacity left, "
                                f"{total} needed")
                if self.orders_left[n] <= 0:
                    bits.append(f"shipment capacity of {int(self.cap_orders[n])} used up")
                parts.append(f"{p_.node_ids[n]} ({'; '.join(bits)})")
            return (f"the order must ship whole; after this plan {_names(parts, _NODES_NAMED)} "
                    f"hold{'s' if len(whole) == 1 else ''} every line, but without the "
                    "capacity to ship it")
        if reason == "ship_complete":
            gaps = []
            for n in nodes[:_NODES_NAMED]:
                lacks = []
                seen: dict[int, int] = {}
                for l in p_.lines_of(o):
                    kk = int(p_.line_sku[l])
                    seen[kk] = seen.get(kk, 0) + int(p_.line_qty[l])
                for kk, q in seen.items():
                    if self.stock_left[n, kk] < q:
                        lacks.append(f"{p_.sku_ids[kk]} {int(max(self.stock_left[n, kk], 0))}"
                                     f" of {q}")
                gaps.append(f"{p_.node_ids[n]} has {', '.join(lacks)}")
            more = "; ..." if len(nodes) > _NODES_NAMED else ""
            return ("the order must ship whole, and after this plan no single eligible node "
                    f"holds every line ({'; '.join(gaps)}{more})")
        if reason == "max_shipments":
            limit = int(p_.order_max_shipments[o])
            at = ", ".join(p_.node_ids[n] for n in sorted(used))
            left = ", ".join(f"{p_.node_ids[n]}={int(self.stock_left[n, k])}" for n in nodes
                             if n not in used and self.stock_left[n, k] > 0)
            return (f"the order already uses its {limit} allowed shipment(s) ({at}); the "
                    f"{sku} left after this plan is at other nodes ({left})")
        return self._cost(o, k, backorder.qty, used)

    def _cost(self, o: int, k: int, qty: int, used: set[int]) -> str:
        """A line that could ship: the cheapest way to ship it from what the plan leaves."""
        p_ = self.problem
        penalty = float(p_.order_penalty[o])
        limit = int(p_.order_max_shipments[o])
        need: dict[int, int] = {}
        for l in p_.lines_of(o):
            kk = int(p_.line_sku[l])
            need[kk] = need.get(kk, 0) + int(p_.line_qty[l])
        complete = bool(p_.order_ship_complete[o])
        best = None
        for p in p_.pairs_of(o):
            n = int(p_.pair_node[p])
            if n not in used and (self.orders_left[n] <= 0 or (limit and len(used) >= limit)):
                continue
            if complete:      # the whole order from one node, or nothing
                total = sum(need.values())
                if (self.units_left[n] >= total
                        and all(self.stock_left[n, kk] >= q for kk, q in need.items())):
                    cost = float(p_.pair_ship_cost[p] + p_.pair_unit_cost[p] * total)
                    if best is None or cost / total < best[0] / best[1]:
                        best = (cost, total, n)
                continue
            q = int(min(qty, self.stock_left[n, k], self.units_left[n]))
            if q <= 0:
                continue
            extra = 0.0 if n in used else float(p_.pair_ship_cost[p]) + (
                p_.split_penalty if used else 0.0)
            cost = extra + float(p_.pair_unit_cost[p]) * q
            if best is None or cost / q < best[0] / best[1]:
                best = (cost, q, n)
        text = f"backorder penalty {penalty:.2f} per unit"
        if best is None:
            return f"shipping would cost more than the {text}"
        cost, q, n = best
        what = "the whole order" if complete else f"{q} unit(s)"
        option = (f"shipping {what} from {p_.node_ids[n]} would cost {cost:.2f} "
                  f"({cost / q:.2f} per unit)")
        if cost / q >= penalty:
            return f"{option}, more than the {text}"
        if self.status == "greedy":
            return (f"{option}, less than the {text}, but greedy skipped that node when it "
                    "routed this order: it compares the cost of all the units it can take "
                    "there (with the split penalty) with their penalty, in input order")
        if self.status == "optimal":
            return (f"{option}, less than the {text}, but the batch optimum leaves it "
                    "unshipped")
        return f"{option}, less than the {text}; this plan is {self.not_proven}"


class _Running:
    """Orders (ascending) with a running total of what each took: ``total(o)`` is what
    the orders up to ``o`` took, ``upto(o)`` how many of them there are."""

    def __init__(self, entries: list[tuple[int, int]]):
        self.orders = [o for o, _ in entries]
        self.sums = list(accumulate(q for _, q in entries))

    def upto(self, order: int) -> int:
        return bisect_right(self.orders, order)

    def total(self, order: int) -> int:
        i = self.upto(order)
        return self.sums[i - 1] if i else 0


def explain_plan(problem: RoutingProblem, plan: RoutingPlan) -> dict:
    """The plan's JSON with an ``explanation`` string on every shipment and backorder."""
    explainer = Explainer(problem, plan)
    doc = plan.to_json()
    for entry, shipment in zip(doc["shipments"], plan.shipments):
        entry["explanation"] = explainer.shipment(shipment)
    for entry, backorder in zip(doc["backorders"], plan.backorders):
        entry["explanation"] = explainer.backorder(backorder)
    return doc
