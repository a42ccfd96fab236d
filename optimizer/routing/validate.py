"""A checker independent of every solver: the six rules and the cost model, from the contract.

It reads only the validated contract document (``problem.source``) and the
plan's JSON, never the solver's index arrays, so a bug in the indexing shared
by the solvers cannot hide from it.
"""

from __future__ import annotations

import math
from collections import defaultdict

from pydantic import ValidationError

from .plan import REASONS, STATUSES, RoutingPlan
from .problem import RoutingProblem, eligible_lane, order_max_shipments, order_penalty

_REL_TOL = 1e-6


class PlanViolation(ValueError):
    """A plan breaks the contract; ``violations`` lists each problem found."""

    def __init__(self, violations: list[str]):
        self.violations = violations
        shown = "; ".join(violations[:20])
        more = f" (and {len(violations) - 20} more)" if len(violations) > 20 else ""
        super().__init__(f"plan violates the routing contract: {shown}{more}")


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=_REL_TOL, abs_tol=1e-4)


def _field_path(loc: tuple) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "plan"


def check_plan_document(data) -> None:
    """The plan document's shape: every field present and of the contract's type (strict:
    ``"0"`` is not a line index, ``1.0`` not a quantity), every reason and status one of the
    contract's. Raises PlanViolation naming each offending field path."""
    from .schema import PlanOut   # the contract's plan model (imports this package's plan)

    if not isinstance(data, dict):
        raise PlanViolation([f"plan: must be a JSON object, got {type(data).__name__}"])
    try:
        PlanOut.model_validate(data)
    except ValidationError as exc:
        raise PlanViolation([f"{_field_path(e['loc'])}: {e['msg']}"
                             for e in exc.errors()]) from None
    numbers = [(name, data[name]) for name in ("objective", "bound", "gap", "solve_seconds")]
    numbers += [(f"cost.{name}", value) for name, value in data["cost"].items()]
    bad = [f"{name}: must be a finite number, got {value!r}" for name, value in numbers
           if not math.isfinite(value)]
    if bad:
        raise PlanViolation(bad)


def validate_plan(problem: RoutingProblem, plan: RoutingPlan | dict) -> dict[str, float]:
    """Check all six rules and the cost; return the recomputed cost terms or raise PlanViolation.

    ``plan`` is a RoutingPlan or its JSON document (possibly hand-edited, possibly with
    explanations); a document of the wrong shape is a PlanViolation naming the fields."""
    doc = problem.source
    data = plan.to_json() if isinstance(plan, RoutingPlan) else plan
    check_plan_document(data)
    bad: list[str] = []
    nodes = {n.id: n for n in doc.nodes}
    orders = {o.id: o for o in doc.orders}
    lanes = {(l.node, l.region, l.service): l for l in doc.lanes}
    stock = {(r.node, r.sku): r.available for r in doc.inventory}

    shipped = defaultdict(int)           # (order, line) -> units
    node_sku_units = defaultdict(int)    # (node, sku) -> units
    node_units = defaultdict(int)
    node_shipments = defaultdict(int)
    order_nodes = defaultdict(set)
    cost = {"shipment": 0.0, "unit": 0.0, "split": 0.0, "backorder": 0.0}
    for i, s in enumerate(data["shipments"]):
        order, node_id = orders.get(s["order"]), s["node"]
        where = f"shipments[{i}] ({s['order']}, {node_id})"
        if order is None or node_id not in nodes:
            bad.append(f"{where}: unknown order or node")
            continue
        if node_id in order_nodes[order.id]:
            bad.append(f"{where}: second entry for the same (order, node)")
        lane, why = eligible_lane(doc, lanes, order, node_id)
        if lane is None:
            bad.append(f"{where}: rule 4, node not eligible: {why}")
            continue
        if s["transit_days"] != lane.transit_days:
            bad.append(f"{where}: transit_days {s['transit_days']} != lane's {lane.transit_days}")
        units = 0
        for j, sl in enumerate(s["lines"]):
            idx, qty = sl["line"], sl["qty"]
            if not (isinstance(idx, int) and 0 <= idx < len(order.lines)):
                bad.append(f"{where}.lines[{j}]: no line {idx!r}")
                continue
            if sl["sku"] != order.lines[idx].sku:
                bad.append(f"{where}.lines[{j}]: sku {sl['sku']!r} is not line {idx}'s")
            if not (isinstance(qty, int) and qty > 0):
                bad.append(f"{where}.lines[{j}]: qty must be a positive integer, got {qty!r}")
                continue
            shipped[(order.id, idx)] += qty
            node_sku_units[(node_id, order.lines[idx].sku)] += qty
            units += qty
            cost["unit"] += qty * (lane.cost_per_unit + nodes[node_id].handling_cost_per_unit)
        if units == 0:
            bad.append(f"{where}: a shipment must ship at least one unit")
            continue
        order_nodes[order.id].add(node_id)
        node_units[node_id] += units
        node_shipments[node_id] += 1
        cost["shipment"] += lane.cost_per_shipment + nodes[node_id].handling_cost_per_order

    backordered = defaultdict(int)
    for i, b in enumerate(data["backorders"]):
        order = orders.get(b["order"])
        if order is None or not (0 <= b["line"] < len(order.lines)):
            bad.append(f"backorders[{i}]: unknown order or line")
            continue
        if (order.id, b["line"]) in backordered:
            bad.append(f"backorders[{i}]: second entry for the same line")
        if b["reason"] not in REASONS:
            bad.append(f"backorders[{i}]: unknown reason {b['reason']!r}")
        if b["sku"] != order.lines[b["line"]].sku or b["qty"] <= 0:
            bad.append(f"backorders[{i}]: wrong sku or non-positive qty")
        backordered[(order.id, b["line"])] += b["qty"]

    for order in doc.orders:
        n_ship = len(order_nodes[order.id])
        for idx, line in enumerate(order.lines):
            got, back = shipped[(order.id, idx)], backordered[(order.id, idx)]
            if got + back != line.qty:                                                # rule 1
                bad.append(f"rule 1: order {order.id} line {idx}: shipped {got} + backordered "
                           f"{back} != qty {line.qty}")
            cost["backorder"] += (line.qty - got) * order_penalty(doc.policy, order)
        limit = order_max_shipments(doc.policy, order)
        if limit is not None and n_ship > limit:                                      # rule 5
            bad.append(f"rule 5: order {order.id} has {n_ship} shipments, at most {limit}")
        if order.ship_complete and n_ship:                                            # rule 6
            whole = n_ship == 1 and all(shipped[(order.id, i)] == l.qty
                                        for i, l in enumerate(order.lines))
            if not whole:
                bad.append(f"rule 6: ship-complete order {order.id} is not shipped whole "
                           "from one node")
        cost["split"] += doc.policy.split_penalty * max(0, n_ship - 1)
    for (node_id, sku), units in node_sku_units.items():                             # rule 2
        if units > stock.get((node_id, sku), 0):
            bad.append(f"rule 2: node {node_id} ships {units} of {sku}, "
                       f"available {stock.get((node_id, sku), 0)}")
    for node_id, node in nodes.items():                                               # rule 3
        if node.capacity_units is not None and node_units[node_id] > node.capacity_units:
            bad.append(f"rule 3: node {node_id} ships {node_units[node_id]} units, "
                       f"capacity {node.capacity_units}")
        if node.capacity_orders is not None and node_shipments[node_id] > node.capacity_orders:
            bad.append(f"rule 3: node {node_id} makes {node_shipments[node_id]} shipments, "
                       f"capacity {node.capacity_orders}")

    objective = sum(cost.values())
    if data["status"] not in STATUSES:
        bad.append(f"unknown status {data['status']!r}")
    for term, value in cost.items():
        if not _close(data["cost"][term], value):
            bad.append(f"cost.{term} is {data['cost'][term]}, recomputed {value}")
    if not _close(data["objective"], objective):
        bad.append(f"objective is {data['objective']}, recomputed {objective}")
    if data["bound"] > data["objective"] + 1e-6 * max(1.0, abs(objective)):
        bad.append(f"bound {data['bound']} exceeds objective {data['objective']}")
    gap = (data["objective"] - data["bound"]) / max(1.0, abs(data["objective"]))
    if not math.isclose(data["gap"], gap, abs_tol=1e-6):
        bad.append(f"gap is {data['gap']}, recomputed {gap}")
    if data["status"] == "optimal" and data["bound"] != data["objective"]:
        bad.append("an optimal plan must have bound == objective")
    if bad:
        raise PlanViolation(bad)
    return cost
