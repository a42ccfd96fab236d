"""Plain-language reasons a planner can read: why this node, why not shipped."""

from __future__ import annotations

from .plan import Backorder, RoutingPlan, Shipment
from .problem import RoutingProblem, eligible_lane

_REASON_TEXT = {
    "no_stock": "no eligible node has {sku} left (stock at eligible nodes before routing: "
                "{stock})",
    "capacity": "{sku} is in stock at eligible nodes, but their unit or shipment capacity is "
                "used up ({nodes})",
    "no_eligible_node": "no node may ship this order: {why}",
    "ship_complete": "the order must ship complete, and no single eligible node holds every "
                     "line",
    "max_shipments": "the order already uses its {limit} allowed shipment(s); the stock left "
                     "is at other nodes",
    "cost": "shipping would cost more than the backorder penalty of {penalty:.2f} per unit",
}
_NODES_NAMED = 5


class Explainer:
    """Indexes the problem once, then explains any number of plan entries."""

    def __init__(self, problem: RoutingProblem):
        self.problem = problem
        self.orders = {oid: i for i, oid in enumerate(problem.order_ids)}
        self.nodes = {nid: i for i, nid in enumerate(problem.node_ids)}
        self.skus = {sid: i for i, sid in enumerate(problem.sku_ids)}
        self.lanes = {(l.node, l.region, l.service): l for l in problem.source.lanes}

    def shipment(self, shipment: Shipment) -> str:
        """Its cost against the next-best eligible node holding the same units."""
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
            elif all(p_.stock[m, k] >= q for k, q in need.items()):
                others.append((cost, p_.node_ids[m]))
        text = f"{shipment.node} ships {units} unit(s) for {here:.2f}"
        if not others:
            return text + "; no other eligible node holds these units"
        cost, name = min(others)
        if cost >= here:
            return text + f"; next-best eligible node {name} would cost {cost:.2f}"
        return (text + f"; {name} would cost {cost:.2f}, but its stock or capacity serves "
                "other orders better in this batch")

    def backorder(self, backorder: Backorder) -> str:
        """The reason in words, with the stock or the rule behind it."""
        p_ = self.problem
        o = self.orders[backorder.order]
        k = self.skus[backorder.sku]
        nodes = [int(p_.pair_node[p]) for p in p_.pairs_of(o)]
        why = ""
        if backorder.reason == "no_eligible_node":
            order = p_.source.orders[o]
            why = "; ".join(
                f"{nid}: {eligible_lane(p_.source, self.lanes, order, nid)[1]}"
                for nid in p_.node_ids[:_NODES_NAMED])
            why += "; ..." if p_.n_nodes > _NODES_NAMED else ""
        return _REASON_TEXT[backorder.reason].format(
            sku=backorder.sku,
            stock=", ".join(f"{p_.node_ids[n]}={int(p_.stock[n, k])}" for n in nodes),
            nodes=", ".join(p_.node_ids[n] for n in nodes if p_.stock[n, k] > 0),
            why=why,
            limit=int(p_.order_max_shipments[o]),
            penalty=float(p_.order_penalty[o]),
        )


def explain_plan(problem: RoutingProblem, plan: RoutingPlan) -> dict:
    """The plan's JSON with an ``explanation`` string on every shipment and backorder."""
    explainer = Explainer(problem)
    doc = plan.to_json()
    for entry, shipment in zip(doc["shipments"], plan.shipments):
        entry["explanation"] = explainer.shipment(shipment)
    for entry, backorder in zip(doc["backorders"], plan.backorders):
        entry["explanation"] = explainer.backorder(backorder)
    return doc
