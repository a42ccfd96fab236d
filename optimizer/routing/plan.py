"""The routing plan: result objects, the cost model, backorder reasons, and the contract JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from .problem import RoutingProblem

STATUSES = ("optimal", "feasible", "greedy")
REASONS = ("no_stock", "capacity", "no_eligible_node", "ship_complete", "max_shipments", "cost")
_DIGITS = 6  # money in the JSON is rounded to micro-units


@dataclass(frozen=True, slots=True)
class ShipmentLine:
    line: int
    sku: str
    qty: int


@dataclass(frozen=True, slots=True)
class Shipment:
    order: str
    node: str
    transit_days: int
    lines: tuple[ShipmentLine, ...]


@dataclass(frozen=True, slots=True)
class Backorder:
    order: str
    line: int
    sku: str
    qty: int
    reason: str


@dataclass(frozen=True, slots=True)
class Cost:
    shipment: float
    unit: float
    split: float
    backorder: float

    @property
    def total(self) -> float:
        return self.shipment + self.unit + self.split + self.backorder


@dataclass(frozen=True, slots=True)
class RoutingPlan:
    """A plan in the contract's terms; ``allocation`` keeps (line, node, qty) in index form."""

    status: str
    objective: float
    bound: float
    gap: float
    solve_seconds: float
    cost: Cost
    shipments: tuple[Shipment, ...]
    backorders: tuple[Backorder, ...]
    allocation: tuple[tuple[int, int, int], ...] = field(repr=False, default=())

    def to_json(self) -> dict:
        """Exactly the contract's plan document."""
        return {
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "solve_seconds": self.solve_seconds,
            "cost": {"shipment": self.cost.shipment, "unit": self.cost.unit,
                     "split": self.cost.split, "backorder": self.cost.backorder},
            "shipments": [
                {"order": s.order, "node": s.node, "transit_days": s.transit_days,
                 "lines": [{"line": l.line, "sku": l.sku, "qty": l.qty} for l in s.lines]}
                for s in self.shipments
            ],
            "backorders": [
                {"order": b.order, "line": b.line, "sku": b.sku, "qty": b.qty, "reason": b.reason}
                for b in self.backorders
            ],
        }


_LOOKUPS: list[tuple[RoutingProblem, np.ndarray]] = []   # the last few problems' tables


def _pair_table(problem: RoutingProblem) -> np.ndarray:
    """[order, node] -> eligible pair index, -1 where the node is not eligible."""
    for known, table in _LOOKUPS:
        if known is problem:
            return table
    table = np.full((problem.n_orders, problem.n_nodes), -1, dtype=np.int64)
    counts = np.diff(problem.order_pair_start)
    table[np.repeat(np.arange(problem.n_orders), counts), problem.pair_node] = np.arange(
        len(problem.pair_node))
    _LOOKUPS.insert(0, (problem, table))
    del _LOOKUPS[4:]
    return table


def _pair_index(problem: RoutingProblem, order: int, node: int) -> int:
    p = int(_pair_table(problem)[order, node])
    if p < 0:
        raise ValueError(f"node {problem.node_ids[node]!r} is not eligible for order "
                         f"{problem.order_ids[order]!r}")
    return p


def allocation_matrix(problem: RoutingProblem,
                      allocation: Iterable[tuple[int, int, int]]) -> dict[int, dict[int, int]]:
    """{line: {node: qty}} with zero quantities dropped."""
    shipped: dict[int, dict[int, int]] = {}
    for line, node, qty in allocation:
        if qty:
            per_node = shipped.setdefault(int(line), {})
            per_node[int(node)] = per_node.get(int(node), 0) + int(qty)
    return shipped


def allocation_cost(problem: RoutingProblem, allocation: Iterable[tuple[int, int, int]]) -> Cost:
    """The contract's cost model applied to an allocation (index form)."""
    a = np.array(allocation if isinstance(allocation, (list, tuple)) else list(allocation),
                 dtype=np.int64).reshape(-1, 3)
    a = a[a[:, 2] != 0]
    lines, nodes, qty = a[:, 0], a[:, 1], a[:, 2]
    orders = np.asarray(problem.line_order, dtype=np.int64)[lines]
    pairs = _pair_table(problem)[orders, nodes]
    if np.any(pairs < 0):
        bad = int(np.flatnonzero(pairs < 0)[0])
        _pair_index(problem, int(orders[bad]), int(nodes[bad]))   # raises
    unit_cost = float(np.dot(qty, problem.pair_unit_cost[pairs]))
    used = np.unique(pairs)
    ship_cost = float(problem.pair_ship_cost[used].sum())
    pair_order = np.repeat(np.arange(problem.n_orders), np.diff(problem.order_pair_start))
    per_order = np.bincount(pair_order[used], minlength=problem.n_orders)
    split = float(problem.split_penalty * np.maximum(per_order - 1, 0).sum())
    shipped_units = np.bincount(lines, weights=qty, minlength=problem.n_lines)
    missing = problem.line_qty - shipped_units
    backorder = float(np.dot(missing, problem.order_penalty[problem.line_order]))
    return Cost(ship_cost, unit_cost, split, backorder)


class _Residual:
    """Stock and capacity left after a plan, for backorder reasons."""

    def __init__(self, problem: RoutingProblem, a: np.ndarray):
        """``a``: the allocation as an array of (line, node, qty) rows."""
        self.stock = problem.stock.copy()
        big = np.iinfo(np.int64).max // 4
        self.units = np.where(problem.cap_units < 0, big, problem.cap_units).astype(np.int64)
        self.orders = np.where(problem.cap_orders < 0, big, problem.cap_orders).astype(np.int64)
        lines, nodes, qty = a[:, 0], a[:, 1], a[:, 2]
        orders = np.asarray(problem.line_order, dtype=np.int64)[lines]
        np.subtract.at(self.stock, (nodes, np.asarray(problem.line_sku)[lines]), qty)
        np.subtract.at(self.units, nodes, qty)
        pairs = np.unique(orders * problem.n_nodes + nodes)
        np.subtract.at(self.orders, pairs % problem.n_nodes, 1)
        self.order_nodes: dict[int, set[int]] = {}
        for key in pairs.tolist():
            self.order_nodes.setdefault(key // problem.n_nodes, set()).add(
                key % problem.n_nodes)


def backorder_reason(problem: RoutingProblem, residual: _Residual, line: int) -> str:
    """The most specific reason a line has unshipped units, judged on what the plan left over."""
    order, sku = int(problem.line_order[line]), int(problem.line_sku[line])
    nodes = [int(problem.pair_node[p]) for p in problem.pairs_of(order)]
    if not nodes:
        return "no_eligible_node"
    used = residual.order_nodes.get(order, set())
    if problem.order_ship_complete[order]:
        # It ships all of the SKU from one node or none of it: when the eligible nodes
        # together have less than it needs, not even a split could ship it.
        wanted = sum(int(problem.line_qty[l]) for l in problem.lines_of(order)
                     if problem.line_sku[l] == sku)
        if sum(max(int(residual.stock[n, sku]), 0) for n in nodes) < wanted:
            return "no_stock"
    with_stock = [n for n in nodes if residual.stock[n, sku] > 0]
    if not with_stock:
        return "no_stock"
    open_nodes = [n for n in with_stock
                  if residual.units[n] > 0 and (n in used or residual.orders[n] > 0)]
    if not open_nodes:
        return "capacity"
    if problem.order_ship_complete[order]:
        lines = problem.lines_of(order)
        need: dict[int, int] = {}
        for l in lines:
            need[int(problem.line_sku[l])] = need.get(int(problem.line_sku[l]), 0) + int(
                problem.line_qty[l])
        total = sum(need.values())
        whole = [n for n in nodes if all(residual.stock[n, k] >= q for k, q in need.items())]
        if not whole:
            return "ship_complete"
        if not any(residual.units[n] >= total and residual.orders[n] > 0 for n in whole):
            return "capacity"
        return "cost"
    limit = int(problem.order_max_shipments[order])
    if limit and len(used) >= limit and not any(n in used for n in open_nodes):
        return "max_shipments"
    return "cost"


def make_plan(problem: RoutingProblem, allocation: Iterable[tuple[int, int, int]], *,
              status: str, bound: float | None, solve_seconds: float) -> RoutingPlan:
    """Turn an allocation into the plan: cost terms, shipments, backorders with reasons."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    a = np.array(allocation if isinstance(allocation, (list, tuple)) else list(allocation),
                 dtype=np.int64).reshape(-1, 3)
    a = a[a[:, 2] != 0]
    allocation = tuple(map(tuple, a.tolist()))
    shipped = allocation_matrix(problem, allocation)
    cost = allocation_cost(problem, allocation)
    cost = Cost(*(round(v, _DIGITS) for v in (cost.shipment, cost.unit, cost.split,
                                              cost.backorder)))
    objective = round(cost.total, _DIGITS)
    bound = objective if bound is None else round(min(float(bound), objective), _DIGITS)
    if status == "optimal":
        bound = objective
    gap = round(max(0.0, (objective - bound) / max(1.0, abs(objective))), 9)

    by_order_node: dict[tuple[int, int], list[ShipmentLine]] = {}
    for line in sorted(shipped):
        order = int(problem.line_order[line])
        local = line - int(problem.order_line_start[order])
        for node, qty in shipped[line].items():
            by_order_node.setdefault((order, node), []).append(
                ShipmentLine(local, problem.sku_ids[problem.line_sku[line]], qty))
    shipments = tuple(
        Shipment(problem.order_ids[o], problem.node_ids[n],
                 int(problem.pair_transit_days[_pair_index(problem, o, n)]), tuple(lines))
        for (o, n), lines in sorted(by_order_node.items())
    )
    residual = _Residual(problem, a)
    backorders = []
    short = problem.line_qty - np.bincount(a[:, 0], weights=a[:, 2],
                                           minlength=problem.n_lines).astype(np.int64)
    for line in np.flatnonzero(short > 0).tolist():
        order = int(problem.line_order[line])
        backorders.append(Backorder(
            problem.order_ids[order], line - int(problem.order_line_start[order]),
            problem.sku_ids[problem.line_sku[line]], int(short[line]),
            backorder_reason(problem, residual, line)))
    return RoutingPlan(status, objective, bound, gap, round(solve_seconds, 3), cost, shipments,
                       tuple(backorders), allocation)
