"""The replenishment plan: orders, their cost under the contract's model, and its JSON."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .problem import ReplenishmentProblem

STATUSES = ("optimal", "feasible", "minmax")
KINDS = ("backlog", "below_safety")


@dataclass(frozen=True)
class Order:
    item: int          # index into the problem's supplier items
    node: int
    order_period: int
    qty: int


@dataclass(frozen=True)
class Cost:
    purchase: float
    ordering: float
    holding: float
    backlog: float
    safety: float

    @property
    def total(self) -> float:
        return self.purchase + self.ordering + self.holding + self.backlog + self.safety


def receipts(problem: ReplenishmentProblem, orders: list[Order]) -> np.ndarray:
    """Units of planned orders arriving per [sku, node, period]."""
    out = np.zeros(problem.shape, dtype=np.int64)
    for o in orders:
        s = problem.item_sku[o.item]
        a = o.order_period + problem.lead_time[problem.item_supplier[o.item]]
        out[s, o.node, a] += o.qty
    return out


def inventory(problem: ReplenishmentProblem, orders: list[Order]) -> np.ndarray:
    """End-of-period inventory [sku, node, period] (negative = backlog)."""
    flow = problem.inbound + receipts(problem, orders) - problem.demand
    return problem.on_hand[:, :, None] + np.cumsum(flow, axis=2)


def plan_cost(problem: ReplenishmentProblem, orders: list[Order]) -> Cost:
    inv = inventory(problem, orders)
    purchase = sum(float(problem.item_unit_cost[o.item]) * o.qty for o in orders)
    slots = {(int(problem.item_supplier[o.item]), o.node, o.order_period) for o in orders}
    ordering = sum(float(problem.fixed_order_cost[u]) for u, _, _ in slots)
    pos = np.maximum(inv, 0)
    holding = float((problem.holding_cost[:, None, None] * pos).sum())
    backlog = float((problem.backlog_cost[:, None, None] * np.maximum(-inv, 0)).sum())
    short = np.maximum(problem.safety_stock[:, :, None] - pos, 0)
    safety = float(problem.safety_stock_penalty * short.sum())
    return Cost(purchase, ordering, holding, backlog, safety)


@dataclass
class ReplenishmentPlan:
    problem: ReplenishmentProblem
    status: str
    orders: list[Order]
    bound: float
    solve_seconds: float
    exceptions: list[dict] = field(default_factory=list)
    stats: dict = field(default_factory=dict)   # solver details, not part of the JSON

    @property
    def cost(self) -> Cost:
        return plan_cost(self.problem, self.orders)

    @property
    def objective(self) -> float:
        return self.cost.total

    def to_json(self) -> dict:
        p = self.problem
        cost = self.cost
        objective = cost.total
        bound = min(self.bound, objective)
        orders = sorted(self.orders, key=lambda o: (o.order_period, int(p.item_supplier[o.item]),
                                                    int(p.item_sku[o.item]), o.node))
        inv = inventory(p, self.orders)
        rec = p.inbound + receipts(p, self.orders)
        S, N, T = p.shape
        projection = [
            {"sku": p.sku_ids[s], "node": p.node_ids[n], "period": t,
             "receipts": int(rec[s, n, t]), "demand": int(p.demand[s, n, t]),
             "inventory": int(inv[s, n, t]), "safety_stock": int(p.safety_stock[s, n])}
            for s in range(S) for n in range(N) for t in range(T)]
        return {
            "status": self.status,
            "objective": round(objective, 6),
            "bound": round(bound, 6),
            "gap": round((objective - bound) / max(1.0, abs(objective)), 9),
            "solve_seconds": round(self.solve_seconds, 3),
            "cost": {"purchase": round(cost.purchase, 6), "ordering": round(cost.ordering, 6),
                     "holding": round(cost.holding, 6), "backlog": round(cost.backlog, 6),
                     "safety": round(cost.safety, 6)},
            "orders": [{"supplier": p.supplier_ids[p.item_supplier[o.item]],
                        "sku": p.sku_ids[p.item_sku[o.item]], "node": p.node_ids[o.node],
                        "order_period": o.order_period,
                        "arrival_period": o.order_period
                        + int(p.lead_time[p.item_supplier[o.item]]),
                        "qty": int(o.qty), "unit_cost": float(p.item_unit_cost[o.item])}
                       for o in orders],
            "projection": projection,
            "exceptions": list(self.exceptions),
        }
