"""Exceptions: every (SKU, node, period) with backlog or below-safety inventory, and the
binding cause where one can be named.

For a shortfall in period t, the orders that could have helped are those of the SKU's
supplier items arriving at the node in some period a ≤ t. The first cause that applies
is reported: no supplier; lead time (no item can arrive by t); then, over the periods that
could have helped, supplier capacity used up, receiving capacity used up, budget left
below one minimum order, MOQ (the minimum order exceeds the whole remaining need); else
cost (the plan chose the shortfall because covering it costs more).
"""

from __future__ import annotations

from collections import defaultdict

from .plan import Order, inventory
from .problem import ReplenishmentProblem

MAX_EXCEPTIONS = 200_000


def explain_exceptions(p: ReplenishmentProblem, orders: list[Order]) -> list[dict]:
    inv = inventory(p, orders)
    S, N, T = p.shape
    ss = p.safety_stock[:, :, None]
    backlog = inv < 0
    below = (inv >= 0) & (inv < ss)
    cells = list(zip(*((backlog | below).nonzero())))
    if not cells:
        return []
    used_sup: dict[tuple[int, int], int] = defaultdict(int)
    used_node: dict[tuple[int, int], int] = defaultdict(int)
    spend = 0.0
    for o in orders:
        u = int(p.item_supplier[o.item])
        used_sup[(u, o.order_period)] += o.qty
        used_node[(o.node, o.order_period + int(p.lead_time[u]))] += o.qty
        spend += float(p.item_unit_cost[o.item]) * o.qty
    items_of = p.items_of_sku()
    out: list[dict] = []
    for s, n, t in cells[:MAX_EXCEPTIONS]:
        s, n, t = int(s), int(n), int(t)
        value = int(inv[s, n, t])
        kind = "backlog" if value < 0 else "below_safety"
        qty = -value if value < 0 else int(p.safety_stock[s, n]) - value
        out.append({"sku": p.sku_ids[s], "node": p.node_ids[n], "period": t, "kind": kind,
                    "qty": qty, "detail": _cause(p, s, n, t, items_of[s], used_sup, used_node,
                                                 spend, inv)})
    return out


def _cause(p, s, n, t, items, used_sup, used_node, spend, inv) -> str:
    sku = p.sku_ids[s]
    if not items:
        return f"lead time: no supplier sells {sku}"
    reachable = [i for i in items if int(p.lead_time[p.item_supplier[i]]) <= t]
    if not reachable:
        i = min(items, key=lambda i: int(p.lead_time[p.item_supplier[i]]))
        u = int(p.item_supplier[i])
        return (f"lead time: the earliest arrival from {p.supplier_ids[u]} is period "
                f"{int(p.lead_time[u])}")
    for i in reachable:
        u = int(p.item_supplier[i])
        L = int(p.lead_time[u])
        cap = int(p.supplier_capacity[u])
        if cap >= 0:
            for a in range(t, L - 1, -1):
                room = cap - used_sup.get((u, a - L), 0)
                if room < p.item_min_qty(i):
                    return f"supplier capacity: {p.supplier_ids[u]} at capacity in period {a - L}"
    for i in reachable:
        L = int(p.lead_time[p.item_supplier[i]])
        cap = int(p.receiving_capacity[n])
        if cap >= 0:
            for a in range(t, L - 1, -1):
                if cap - used_node.get((n, a), 0) < p.item_min_qty(i):
                    return (f"receiving capacity: {p.node_ids[n]} full in period {a}")
    if p.budget is not None:
        cheapest = min(float(p.item_unit_cost[i]) * p.item_min_qty(i) for i in reachable)
        if p.budget - spend < cheapest:
            return f"budget: {p.budget - spend:.2f} left of {p.budget:.2f}"
    need = -int(inv[s, n, t]) + int(p.safety_stock[s, n]) + int(p.demand[s, n, t + 1:].sum())
    smallest = min(p.item_min_qty(i) for i in reachable)
    if smallest > need and any(int(p.item_moq[i]) > int(p.case_pack[s]) for i in reachable):
        return f"MOQ: the smallest order ({smallest}) exceeds the remaining need ({need})"
    return "cost: covering it costs more than the shortfall"
