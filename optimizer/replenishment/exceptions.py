"""Exceptions: every (SKU, node, period) with backlog or below-safety inventory, and the
binding cause where one can be named.

For a shortfall in period t, the orders that could have helped are those of the SKU's
supplier items arriving at the node in some period a ≤ t. The first cause that applies
is reported: no supplier; lead time (no item can arrive by t); MOQ when the presolve removed
every order that could have arrived by t (the smallest legal order alone exceeds the
supplier's or the node's capacity, or the budget: nothing else in the plan is to blame);
then, when the plan's orders leave none of the options left room for its smallest order,
the supplier capacity, receiving capacity or budget that blocks one; MOQ (the minimum order
of every option with room exceeds the whole remaining need); else cost (the plan chose the
shortfall because covering it costs more).
"""

from __future__ import annotations

from collections import defaultdict

from .plan import Order, inventory
from .presolve import order_options
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
    options = order_options(p)
    out: list[dict] = []
    for s, n, t in cells[:MAX_EXCEPTIONS]:
        s, n, t = int(s), int(n), int(t)
        value = int(inv[s, n, t])
        kind = "backlog" if value < 0 else "below_safety"
        qty = -value if value < 0 else int(p.safety_stock[s, n]) - value
        out.append({"sku": p.sku_ids[s], "node": p.node_ids[n], "period": t, "kind": kind,
                    "qty": qty, "detail": _cause(p, s, n, t, items_of[s], used_sup, used_node,
                                                 spend, inv, options)})
    return out


def _cause(p, s, n, t, items, used_sup, used_node, spend, inv, options) -> str:
    sku = p.sku_ids[s]
    if not items:
        return f"lead time: no supplier sells {sku}"
    reachable = [i for i in items if int(p.lead_time[p.item_supplier[i]]) <= t]
    if not reachable:
        i = min(items, key=lambda i: int(p.lead_time[p.item_supplier[i]]))
        u = int(p.item_supplier[i])
        return (f"lead time: the earliest arrival from {p.supplier_ids[u]} is period "
                f"{int(p.lead_time[u])}")
    # the (item, arrival period ≤ t) options the presolve keeps; the others cannot take
    # even their smallest legal order, whatever the rest of the plan does
    open_ = [(i, a) for i in reachable
             for a in range(t, int(p.lead_time[p.item_supplier[i]]) - 1, -1)
             if options.ok(i, n, a - int(p.lead_time[p.item_supplier[i]]))]
    if not open_:
        return _moq_blocks(p, n, t, reachable)
    # a capacity or the budget binds only when it leaves no option that could have helped
    # room for its smallest order; one with room left means the plan chose the shortfall
    blocked = [_blocker(p, n, i, a, used_sup, used_node, spend) for i, a in open_]
    if all(blocked):
        for cause in ("supplier capacity", "receiving capacity", "budget"):
            for b in blocked:
                if b.startswith(cause):
                    return b
    free = sorted({i for (i, _), b in zip(open_, blocked) if not b})
    need = -int(inv[s, n, t]) + int(p.safety_stock[s, n]) + int(p.demand[s, n, t + 1:].sum())
    smallest = min(p.item_min_qty(i) for i in free)
    if smallest > need and any(int(p.item_moq[i]) > int(p.case_pack[s]) for i in free):
        return f"MOQ: the smallest order ({smallest}) exceeds the remaining need ({need})"
    return "cost: covering it costs more than the shortfall"


def _blocker(p, n, i, a, used_sup, used_node, spend) -> str | None:
    """Why option (item i, arrival a at node n) cannot take its smallest order on top of
    the plan's orders, or None when it can."""
    u = int(p.item_supplier[i])
    t = a - int(p.lead_time[u])
    q = p.item_min_qty(i)
    cap = p.supplier_cap(u, t)
    if cap >= 0 and cap - used_sup.get((u, t), 0) < q:
        return f"supplier capacity: {p.supplier_ids[u]} at capacity in period {t}"
    cap = p.receiving_cap(n, a)
    if cap >= 0 and cap - used_node.get((n, a), 0) < q:
        return f"receiving capacity: {p.node_ids[n]} full in period {a}"
    if p.budget is not None and p.budget - spend < float(p.item_unit_cost[i]) * q:
        return f"budget: {p.budget - spend:.2f} left of {p.budget:.2f}"
    return None


def _moq_blocks(p, n, t, reachable) -> str:
    """Every option that could have helped is removed by the presolve: its smallest legal
    order (the MOQ rounded up to the case pack) alone exceeds a capacity or the budget.
    Named for the reachable item with the smallest such order (the one nearest to fitting)."""
    i = min(reachable, key=lambda i: (p.item_min_qty(i), i))
    u = int(p.item_supplier[i])
    L = int(p.lead_time[u])
    q = p.item_min_qty(i)
    what = f"MOQ: the smallest order of {p.sku_ids[p.item_sku[i]]} from {p.supplier_ids[u]} ({q})"
    caps = [p.supplier_cap(u, a - L) for a in range(L, t + 1)]
    if any(0 <= c < q for c in caps):
        c = min(c for c in caps if c >= 0)
        return f"{what} exceeds the capacity of {p.supplier_ids[u]} ({c} per period)"
    recv = [p.receiving_cap(n, a) for a in range(L, t + 1)]
    if any(0 <= c < q for c in recv):
        c = min(c for c in recv if c >= 0)
        return f"{what} exceeds the receiving capacity of {p.node_ids[n]} ({c} per period)"
    cost = float(p.item_unit_cost[i]) * q
    return f"{what} costs {cost:.2f}, more than the budget ({float(p.budget):.2f})"
