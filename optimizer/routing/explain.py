"""Plain-language reasons a planner can read: why this node, why not shipped."""

from __future__ import annotations

from .plan import RoutingPlan
from .problem import RoutingProblem, eligible_lane

_REASON_TEXT = {
    "no_stock": "no eligible node has {sku} left (stock at eligible nodes: {stock})",
    "capacity": "{sku} is in stock at eligible nodes, but their unit or shipment capacity is "
                "used up ({nodes})",
    "no_eligible_node": "no node may ship this order: {why}",
    "ship_complete": "the order must ship complete, and no single eligible node holds every "
                     "line",
    "max_shipments": "the order already uses its {limit} allowed shipment(s); the stock left "
                     "is at other nodes",
    "cost": "shipping would cost more than the backorder penalty of {penalty:.2f} per unit",
}


def _index(problem: RoutingProblem):
    orders = {oid: i for i, oid in enumerate(problem.order_ids)}
    nodes = {nid: i for i, nid in enumerate(problem.node_ids)}
    skus = {sid: i for i, sid in enumerate(problem.sku_ids)}
    return orders, nodes, skus


def explain_shipment(problem: RoutingProblem, shipment) -> str:
    orders, nodes, skus = _index(problem)
    o, n = orders[shipment.order], nodes[shipment.node]
    units = sum(l.qty for l in shipment.lines)
    need = {}
    for l in shipment.lines:
        need[skus[l.sku]] = need.get(skus[l.sku], 0) + l.qty
    here = None
    others = []
    for p in problem.pairs_of(o):
        m = int(problem.pair_node[p])
        cost = float(problem.pair_ship_cost[p] + problem.pair_unit_cost[p] * units)
        if m == n:
            here = cost
        elif all(problem.stock[m, k] >= q for k, q in need.items()):
            others.append((cost, problem.node_ids[m]))
    text = f"{shipment.node} ships {units} unit(s) for {here:.2f}"
    if not others:
        return text + "; no other eligible node holds these units"
    cost, name = min(others)
    if cost >= here:
        return text + f"; next-best eligible node {name} would cost {cost:.2f}"
    return (text + f"; {name} would cost {cost:.2f} alone, but its stock or capacity serves "
            "other orders better in this batch")


def explain_backorder(problem: RoutingProblem, backorder) -> str:
    orders, _, skus = _index(problem)
    o = orders[backorder.order]
    order = problem.source.orders[o]
    k = skus[backorder.sku]
    nodes = [int(problem.pair_node[p]) for p in problem.pairs_of(o)]
    lanes = {(l.node, l.region, l.service): l for l in problem.source.lanes}
    why = "; ".join(f"{nid}: {eligible_lane(problem.source, lanes, order, nid)[1]}"
                    for nid in problem.node_ids[:5])
    return _REASON_TEXT[backorder.reason].format(
        sku=backorder.sku,
        stock=", ".join(f"{problem.node_ids[n]}={int(problem.stock[n, k])}" for n in nodes)
        or "none",
        nodes=", ".join(problem.node_ids[n] for n in nodes if problem.stock[n, k] > 0),
        why=why + ("; ..." if problem.n_nodes > 5 else ""),
        limit=int(problem.order_max_shipments[o]),
        penalty=float(problem.order_penalty[o]),
    )


def explain_plan(problem: RoutingProblem, plan: RoutingPlan) -> dict:
    """The plan's JSON with an ``explanation`` string on every shipment and backorder."""
    doc = plan.to_json()
    for entry, shipment in zip(doc["shipments"], plan.shipments):
        entry["explanation"] = explain_shipment(problem, shipment)
    for entry, backorder in zip(doc["backorders"], plan.backorders):
        entry["explanation"] = explain_backorder(problem, backorder)
    return doc
