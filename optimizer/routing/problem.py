"""The routing problem: contract-level parsing and validation, then an immutable index form.

``ProblemIn`` (pydantic, ``extra="forbid"``, strict types) is the contract's JSON
document; ``parse_problem`` validates it, checks cross references, and builds a
``RoutingProblem``: frozen, index-based, with numpy arrays the solvers read.
Nothing is solved on bad input: every problem found is collected and raised
as one ``RoutingInputError`` naming each field path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal, Mapping

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

# Limits (TIGER_STYLE: put a limit on everything). Documented in docs/routing.md.
MAX_NODES = 200
MAX_ORDERS = 20_000
MAX_LINES_PER_ORDER = 50
MAX_LINES = 100_000
MAX_INVENTORY_ROWS = 1_000_000
MAX_LANES = 100_000
MAX_QTY = 1_000_000_000
MAX_COST = 1e9
MAX_TIME_LIMIT_S = 3600.0
MAX_TRANSIT_DAYS = 365

Id = Annotated[str, Field(min_length=1, max_length=128)]
Qty = Annotated[int, Field(ge=0, le=MAX_QTY)]
Cost = Annotated[float, Field(ge=0, le=MAX_COST, allow_inf_nan=False)]
Days = Annotated[int, Field(ge=0, le=MAX_TRANSIT_DAYS)]
Strategy = Literal["optimal", "greedy"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class NodeIn(_Model):
    id: Id
    kind: Literal["warehouse", "3pl", "store", "dropship"] = "warehouse"
    capacity_units: Qty | None = None
    capacity_orders: Qty | None = None
    handling_cost_per_order: Cost = 0.0
    handling_cost_per_unit: Cost = 0.0


class InventoryIn(_Model):
    node: Id
    sku: Id
    available: Qty


class LaneIn(_Model):
    node: Id
    region: Id
    service: Id
    cost_per_shipment: Cost = 0.0
    cost_per_unit: Cost = 0.0
    transit_days: Days = 0


class LineIn(_Model):
    sku: Id
    qty: Qty


class OrderIn(_Model):
    id: Id
    region: Id
    service: Id = "standard"
    channel: Id = "web"
    ship_complete: bool = False
    max_shipments: Annotated[int, Field(ge=1, le=MAX_NODES)] | None = None
    max_transit_days: Days | None = None
    backorder_penalty_per_unit: Cost | None = None
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=MAX_LINES_PER_ORDER)]


class PolicyIn(_Model):
    split_penalty: Cost = 0.0
    backorder_penalty_per_unit: Cost = 1000.0
    channel_backorder_penalty: dict[Id, Cost] = Field(default_factory=dict)
    channel_nodes: dict[Id, list[Id]] = Field(default_factory=dict)
    max_shipments_per_order: Annotated[int, Field(ge=1, le=MAX_NODES)] | None = None
    time_limit_seconds: Annotated[float, Field(gt=0, le=MAX_TIME_LIMIT_S,
                                               allow_inf_nan=False)] = 10.0
    strategy: Strategy = "optimal"


class ProblemIn(_Model):
    nodes: Annotated[list[NodeIn], Field(min_length=1, max_length=MAX_NODES)]
    inventory: Annotated[list[InventoryIn], Field(max_length=MAX_INVENTORY_ROWS)] = Field(
        default_factory=list)
    lanes: Annotated[list[LaneIn], Field(max_length=MAX_LANES)] = Field(default_factory=list)
    orders: Annotated[list[OrderIn], Field(max_length=MAX_ORDERS)]
    policy: PolicyIn = Field(default_factory=PolicyIn)


class RoutingInputError(ValueError):
    """Bad routing input. ``errors`` lists ``{"field": "orders[3].lines[0].qty", "message": ...}``."""

    def __init__(self, errors: list[dict[str, str]]):
        self.errors = errors
        shown = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:20])
        more = f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""
        super().__init__(f"invalid routing problem: {shown}{more}")


def _field_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path or "(document)"


def _cross_reference_errors(nodes: list[tuple[int, NodeIn]],
                            inventory: list[tuple[int, InventoryIn]],
                            lanes: list[tuple[int, LaneIn]], orders: list[tuple[int, OrderIn]],
                            channel_nodes: Mapping[str, list[str]],
                            more_node_ids: set[str] = frozenset(),
                            nodes_unreadable: bool = False) -> list[dict[str, str]]:
    """Duplicates and references among the items given as (index in the document, item).

    On a document with field errors these are only the items that validated, so one run
    reports both kinds; ``more_node_ids`` are ids of nodes that failed validation for other
    reasons, so references to them are not reported as unknown; with ``nodes_unreadable``
    (``nodes`` is not a list, or too long: reported on its own) no node id is known, and
    references to nodes are not checked.
    """
    errors: list[dict[str, str]] = []

    def err(field: str, message: str) -> None:
        errors.append({"field": field, "message": message})

    node_ids: set[str] = set()
    for i, node in nodes:
        if node.id in node_ids:
            err(f"nodes[{i}].id", f"duplicate node id {node.id!r}")
        node_ids.add(node.id)
    known_nodes = node_ids | set(more_node_ids)

    def unknown(node: str) -> bool:
        return not nodes_unreadable and node not in known_nodes
    seen_stock: set[tuple[str, str]] = set()
    for i, row in inventory:
        if unknown(row.node):
            err(f"inventory[{i}].node", f"unknown node {row.node!r}")
        if (row.node, row.sku) in seen_stock:
            err(f"inventory[{i}]", f"duplicate inventory row for ({row.node!r}, {row.sku!r})")
        seen_stock.add((row.node, row.sku))
    seen_lanes: set[tuple[str, str, str]] = set()
    for i, lane in lanes:
        if unknown(lane.node):
            err(f"lanes[{i}].node", f"unknown node {lane.node!r}")
        key = (lane.node, lane.region, lane.service)
        if key in seen_lanes:
            err(f"lanes[{i}]", f"duplicate lane {key!r}")
        seen_lanes.add(key)
    order_ids: set[str] = set()
    n_lines = 0
    for i, order in orders:
        if order.id in order_ids:
            err(f"orders[{i}].id", f"duplicate order id {order.id!r}")
        order_ids.add(order.id)
        n_lines += len(order.lines)
    if n_lines > MAX_LINES:
        err("orders", f"{n_lines} lines in total; at most {MAX_LINES} per solve")
    for channel, allowed in channel_nodes.items():
        for j, node in enumerate(allowed):
            if unknown(node):
                err(f"policy.channel_nodes.{channel}[{j}]", f"unknown node {node!r}")
    return errors


_SECTION_LIMITS = {"nodes": MAX_NODES, "inventory": MAX_INVENTORY_ROWS, "lanes": MAX_LANES,
                   "orders": MAX_ORDERS}


def _readable(data: Mapping, name: str) -> bool:
    """Whether ``data[name]`` is a list within its limit (otherwise that is reported on
    its own, and none of its items is known)."""
    items = data.get(name)
    return isinstance(items, list) and len(items) <= _SECTION_LIMITS[name]


def _valid_items(data: Mapping, name: str, model: type[_Model]) -> list[tuple[int, Any]]:
    """(index, item) for each item of the list ``data[name]`` that validates on its own
    (none when it is not a list or is over its limit: that is reported already)."""
    if not _readable(data, name):
        return []
    items = data[name]
    out = []
    for i, item in enumerate(items):
        try:
            out.append((i, model.model_validate(item)))
        except ValidationError:
            pass
    return out


def _partial_reference_errors(data: Mapping) -> list[dict[str, str]]:
    """The cross-reference checks on the parts of an invalid document that did validate."""
    nodes = _valid_items(data, "nodes", NodeIn)
    raw_nodes = data.get("nodes") if isinstance(data.get("nodes"), list) else []
    valid = {i for i, _ in nodes}
    more_ids = {n["id"] for i, n in enumerate(raw_nodes)
                if i not in valid and isinstance(n, Mapping) and isinstance(n.get("id"), str)}
    channel_nodes: Mapping[str, list[str]] = {}
    policy = data.get("policy")
    if isinstance(policy, Mapping) and "channel_nodes" in policy:
        try:
            channel_nodes = PolicyIn.model_validate(
                {"channel_nodes": policy["channel_nodes"]}).channel_nodes
        except ValidationError:
            pass
    return _cross_reference_errors(
        nodes, _valid_items(data, "inventory", InventoryIn), _valid_items(data, "lanes", LaneIn),
        _valid_items(data, "orders", OrderIn), channel_nodes, more_ids,
        nodes_unreadable=not _readable(data, "nodes"))


def validate_document(data: Any) -> ProblemIn:
    """Validate a contract document (a dict, as parsed from JSON); raise ``RoutingInputError``.

    Every problem at once: field errors, and the cross-reference checks (unknown nodes,
    duplicates) on the parts of the document that validated."""
    if isinstance(data, ProblemIn):
        doc = data
    else:
        if not isinstance(data, Mapping):
            raise RoutingInputError([{"field": "(document)", "message": "expected a JSON object"}])
        try:
            doc = ProblemIn.model_validate(data)
        except ValidationError as exc:
            raise RoutingInputError([
                {"field": _field_path(e["loc"]), "message": e["msg"]} for e in exc.errors()
            ] + _partial_reference_errors(data)) from None
    errors = _cross_reference_errors(
        list(enumerate(doc.nodes)), list(enumerate(doc.inventory)), list(enumerate(doc.lanes)),
        list(enumerate(doc.orders)), doc.policy.channel_nodes)
    if errors:
        raise RoutingInputError(errors)
    return doc


@dataclass(frozen=True, slots=True, eq=False)
class RoutingProblem:
    """Validated, immutable, index-based routing problem.

    Nodes, SKUs, orders and lines are numbered; ``pair_*`` arrays list the
    eligible (order, node) pairs (rule 4 already applied) grouped by order,
    with their per-shipment and per-unit cost. Arrays are read-only.
    """

    source: ProblemIn
    node_ids: tuple[str, ...]
    sku_ids: tuple[str, ...]                # SKUs named by some order line
    order_ids: tuple[str, ...]
    stock: np.ndarray                       # [node, sku] available units
    cap_units: np.ndarray                   # [node]; -1 = unlimited
    cap_orders: np.ndarray                  # [node]; -1 = unlimited
    order_line_start: np.ndarray            # [order + 1] offsets into lines
    line_order: np.ndarray                  # [line] order index
    line_sku: np.ndarray                    # [line] sku index
    line_qty: np.ndarray                    # [line] units ordered
    order_penalty: np.ndarray               # [order] backorder cost per unit
    order_ship_complete: np.ndarray         # [order] bool
    order_max_shipments: np.ndarray         # [order]; 0 = no limit
    order_pair_start: np.ndarray            # [order + 1] offsets into pairs
    pair_node: np.ndarray                   # [pair] node index
    pair_ship_cost: np.ndarray              # [pair] lane per-shipment + node per-order
    pair_unit_cost: np.ndarray              # [pair] lane per-unit + node per-unit
    pair_transit_days: np.ndarray           # [pair]
    split_penalty: float
    time_limit_s: float
    strategy: str

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_orders(self) -> int:
        return len(self.order_ids)

    @property
    def n_lines(self) -> int:
        return len(self.line_qty)

    def lines_of(self, order: int) -> range:
        return range(int(self.order_line_start[order]), int(self.order_line_start[order + 1]))

    def pairs_of(self, order: int) -> range:
        return range(int(self.order_pair_start[order]), int(self.order_pair_start[order + 1]))


def _readonly(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def order_penalty(policy: PolicyIn, order: OrderIn) -> float:
    """The order's backorder cost per unit: its own, else its channel's, else the policy's."""
    if order.backorder_penalty_per_unit is not None:
        return order.backorder_penalty_per_unit
    return policy.channel_backorder_penalty.get(order.channel, policy.backorder_penalty_per_unit)


def order_max_shipments(policy: PolicyIn, order: OrderIn) -> int | None:
    return order.max_shipments if order.max_shipments is not None else policy.max_shipments_per_order


def eligible_lane(doc: ProblemIn, lanes: Mapping[tuple[str, str, str], LaneIn],
                  order: OrderIn, node_id: str) -> tuple[LaneIn | None, str | None]:
    """Rule 4 for one (order, node): the lane to use, or why the node is not eligible."""
    lane = lanes.get((node_id, order.region, order.service))
    if lane is None:
        return None, f"no lane for region {order.region!r}, service {order.service!r}"
    if order.max_transit_days is not None and lane.transit_days > order.max_transit_days:
        return None, (f"transit {lane.transit_days} days exceeds the order's limit of "
                      f"{order.max_transit_days}")
    allowed = doc.policy.channel_nodes.get(order.channel)
    if allowed is not None and node_id not in allowed:
        return None, f"channel {order.channel!r} may not use this node"
    return lane, None


def build_problem(doc: ProblemIn) -> RoutingProblem:
    """Index the validated document for the solvers."""
    node_ids = tuple(n.id for n in doc.nodes)
    node_index = {nid: i for i, nid in enumerate(node_ids)}
    sku_index: dict[str, int] = {}
    for order in doc.orders:
        for line in order.lines:
            sku_index.setdefault(line.sku, len(sku_index))
    stock = np.zeros((len(node_ids), len(sku_index)), dtype=np.int64)
    for row in doc.inventory:
        k = sku_index.get(row.sku)
        if k is not None:
            stock[node_index[row.node], k] = row.available
    lanes_by_key: dict[tuple[str, str], list[tuple[int, LaneIn]]] = {}
    for lane in doc.lanes:
        lanes_by_key.setdefault((lane.region, lane.service), []).append(
            (node_index[lane.node], lane))
    for entries in lanes_by_key.values():
        entries.sort(key=lambda e: e[0])
    channel_sets = {c: {node_index[n] for n in ns} for c, ns in doc.policy.channel_nodes.items()}

    line_start, line_order, line_sku, line_qty = [0], [], [], []
    pen, ship_complete, max_ship = [], [], []
    pair_start, pair_node, pair_ship, pair_unit, pair_days = [0], [], [], [], []
    for o, order in enumerate(doc.orders):
        for line in order.lines:
            line_order.append(o)
            line_sku.append(sku_index[line.sku])
            line_qty.append(line.qty)
        line_start.append(len(line_qty))
        pen.append(order_penalty(doc.policy, order))
        ship_complete.append(order.ship_complete)
        max_ship.append(order_max_shipments(doc.policy, order) or 0)
        allowed = channel_sets.get(order.channel)
        for n, lane in lanes_by_key.get((order.region, order.service), ()):
            if order.max_transit_days is not None and lane.transit_days > order.max_transit_days:
                continue
            if allowed is not None and n not in allowed:
                continue
            node = doc.nodes[n]
            pair_node.append(n)
            pair_ship.append(lane.cost_per_shipment + node.handling_cost_per_order)
            pair_unit.append(lane.cost_per_unit + node.handling_cost_per_unit)
            pair_days.append(lane.transit_days)
        pair_start.append(len(pair_node))

    def arr(values, dtype) -> np.ndarray:
        return _readonly(np.asarray(values, dtype=dtype))

    return RoutingProblem(
        source=doc,
        node_ids=node_ids,
        sku_ids=tuple(sku_index),
        order_ids=tuple(o.id for o in doc.orders),
        stock=_readonly(stock),
        cap_units=arr([-1 if n.capacity_units is None else n.capacity_units for n in doc.nodes],
                      np.int64),
        cap_orders=arr([-1 if n.capacity_orders is None else n.capacity_orders
                        for n in doc.nodes], np.int64),
        order_line_start=arr(line_start, np.int64),
        line_order=arr(line_order, np.int64),
        line_sku=arr(line_sku, np.int64),
        line_qty=arr(line_qty, np.int64),
        order_penalty=arr(pen, np.float64),
        order_ship_complete=arr(ship_complete, bool),
        order_max_shipments=arr(max_ship, np.int64),
        order_pair_start=arr(pair_start, np.int64),
        pair_node=arr(pair_node, np.int64),
        pair_ship_cost=arr(pair_ship, np.float64),
        pair_unit_cost=arr(pair_unit, np.float64),
        pair_transit_days=arr(pair_days, np.int64),
        split_penalty=doc.policy.split_penalty,
        time_limit_s=doc.policy.time_limit_seconds,
        strategy=doc.policy.strategy,
    )


def parse_problem(data: Any) -> RoutingProblem:
    """Validate a contract document and build the immutable problem; raise ``RoutingInputError``."""
    return build_problem(validate_document(data))
