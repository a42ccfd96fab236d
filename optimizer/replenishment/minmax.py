"""The peer-style baseline: a min/max reorder rule per (SKU, node), one at a time.

Each period t, for each (SKU, node) in a fixed order, with the SKU's cheapest supplier
(ties: shortest lead time): the inventory projected at the arrival period t + L (on hand,
open and planned receipts, minus demand) is compared with the reorder point (safety stock
plus the demand of the lead time); below it, order up to a maximum covering a review
period as well, rounded up to case pack and MOQ. Supplier capacity, receiving capacity and
budget are enforced first come, first served: an order is cut (rounded down to case
pack) to what is left, and dropped below the MOQ.
"""

from __future__ import annotations

import math
import time

import numpy as np

from .plan import Order, ReplenishmentPlan
from .problem import ReplenishmentProblem


def _chosen_items(problem: ReplenishmentProblem) -> list[int | None]:
    best: list[int | None] = []
    for items in problem.items_of_sku():
        ok = [i for i in items if problem.lead_time[problem.item_supplier[i]] <= problem.periods - 1]
        best.append(min(ok, key=lambda i: (float(problem.item_unit_cost[i]),
                                           int(problem.lead_time[problem.item_supplier[i]]), i))
                    if ok else None)
    return best


def minmax_orders(problem: ReplenishmentProblem) -> list[Order]:
    p = problem
    S, N, T = p.shape
    R = p.review_periods
    chosen = _chosen_items(p)
    U = len(p.supplier_ids)
    sup_left = {(u, t): (p.supplier_cap(u, t) if p.supplier_cap(u, t) >= 0 else math.inf)
                for u in range(U) for t in range(T)}
    recv_left = {(n, t): (p.receiving_cap(n, t) if p.receiving_cap(n, t) >= 0 else math.inf)
                 for n in range(N) for t in range(T)}
    budget_left = math.inf if p.budget is None else max(0.0, float(p.budget))
    cum_demand = np.cumsum(p.demand, axis=2)
    supply = p.inbound.copy()          # receipts per [s, n, t], planned ones added as we go
    orders: list[Order] = []
    for t in range(T):
        for s in range(S):
            i = chosen[s]
            if i is None:
                continue
            u = int(p.item_supplier[i])
            L = int(p.lead_time[u])
            a = t + L
            if a > T - 1:
                continue
            cp = int(p.case_pack[s])
            min_qty = p.item_min_qty(i)
            unit = float(p.item_unit_cost[i])
            for n in range(N):
                projected = int(p.on_hand[s, n]) + int(supply[s, n, :a + 1].sum()) \
                    - int(cum_demand[s, n, a])
                ss = int(p.safety_stock[s, n])
                # position − lead-time demand < safety stock  ⇔  projected at arrival < ss
                if projected >= ss:
                    continue
                end = min(T - 1, a + R)
                review_demand = int(cum_demand[s, n, end]) - int(cum_demand[s, n, a])
                want = ss + review_demand - projected
                if want <= 0:
                    continue
                qty = max(min_qty, cp * math.ceil(want / cp))
                room = min(sup_left[(u, t)], recv_left[(n, a)],
                           budget_left / unit if unit > 0 else math.inf)
                if qty > room:
                    qty = cp * int(room // cp)
                    if qty < min_qty:
                        continue
                orders.append(Order(i, n, t, qty))
                supply[s, n, a] += qty
                sup_left[(u, t)] -= qty
                recv_left[(n, a)] -= qty
                budget_left -= unit * qty
    return orders


def solve_minmax(problem: ReplenishmentProblem) -> ReplenishmentPlan:
    start = time.perf_counter()
    orders = minmax_orders(problem)
    plan = ReplenishmentPlan(problem, "minmax", orders, bound=0.0,
                             solve_seconds=time.perf_counter() - start)
    return plan
