"""Build routing-contract problems from the ledger's master data and ATP.

The optimizer never sees a database row: this module reads nodes, lanes,
channels and available-to-promise and writes the contract's JSON document,
which ``optimizer.routing`` parses and validates like any other input.
"""

from __future__ import annotations

import datetime as dt
import time
import weakref
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ledger.models import Channel, Lane, Node, Order, Shipment, ShipmentLine
from ledger.queries import atp_table


def _f(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


def node_documents(session: Session, *, day: dt.date | None = None) -> list[dict]:
    """Active nodes with the capacity left today (per-day capacity minus today's shipments)."""
    day = day or dt.datetime.now(dt.timezone.utc).date()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.timezone.utc)
    used = dict(
        (node_id, (int(units or 0), int(shipments or 0)))
        for node_id, units, shipments in session.execute(
            select(Shipment.node_id, func.sum(ShipmentLine.qty),
                   func.count(func.distinct(Shipment.id)))
            .join(ShipmentLine, ShipmentLine.shipment_id == Shipment.id)
            .where(Shipment.created_at >= start, Shipment.status != "cancelled")
            .group_by(Shipment.node_id))
    )
    docs = []
    for node in session.scalars(select(Node).where(Node.active.is_(True)).order_by(Node.code)):
        units, shipments = used.get(node.id, (0, 0))
        docs.append({
            "id": node.code, "kind": node.kind,
            "capacity_units": (None if node.capacity_units_per_day is None
                               else max(0, node.capacity_units_per_day - units)),
            "capacity_orders": (None if node.capacity_orders_per_day is None
                                else max(0, node.capacity_orders_per_day - shipments)),
            "handling_cost_per_order": _f(node.handling_cost_per_order) or 0.0,
            "handling_cost_per_unit": _f(node.handling_cost_per_unit) or 0.0,
        })
    return docs


def lane_documents(session: Session, regions: Iterable[str] | None = None) -> list[dict]:
    stmt = (select(Lane, Node.code).join(Node, Node.id == Lane.node_id)
            .where(Node.active.is_(True)).order_by(Node.code, Lane.region, Lane.service))
    if regions is not None:
        stmt = stmt.where(Lane.region.in_(sorted(set(regions))))
    return [
        {"node": code, "region": lane.region, "service": lane.service,
         "cost_per_shipment": _f(lane.cost_per_shipment), "cost_per_unit": _f(lane.cost_per_unit),
         "transit_days": lane.transit_days}
        for lane, code in session.execute(stmt)
    ]


def channel_policy(session: Session) -> tuple[dict, dict]:
    """(channel -> allowed node codes, channel -> backorder penalty) from master data."""
    nodes, penalties = {}, {}
    for channel in session.scalars(select(Channel).options(selectinload(Channel.nodes))):
        if channel.nodes:
            nodes[channel.code] = [n.code for n in channel.nodes]
        if channel.backorder_penalty_per_unit is not None:
            penalties[channel.code] = float(channel.backorder_penalty_per_unit)
    return nodes, penalties


def inventory_documents(session: Session, sku_ids: list[int] | None = None) -> list[dict]:
    active = list(session.scalars(select(Node.id).where(Node.active.is_(True))))
    return [{"node": node, "sku": sku, "available": qty}
            for node, sku, qty in atp_table(session, node_ids=active, sku_ids=sku_ids)]


def order_document(order: Order, lines: list[tuple[object, int]] | None = None) -> dict:
    """The contract's order object; ``lines`` = (order line, qty) pairs to route
    (default: every line in full)."""
    lines = lines if lines is not None else [(line, line.qty) for line in order.lines]
    return {
        "id": order.code, "region": order.region, "service": order.service,
        "channel": order.channel.code, "ship_complete": order.ship_complete,
        "max_shipments": order.max_shipments, "max_transit_days": order.max_transit_days,
        "backorder_penalty_per_unit": _f(order.backorder_penalty_per_unit),
        "lines": [{"sku": line.sku.code, "qty": qty} for line, qty in lines],
    }


MASTER_TTL_S = 5.0  # master data and node capacity use, as real-time routing sees them
_master: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class MasterData:
    """What real-time routing reads besides ATP, as of ``read_at``."""

    expires: float
    nodes: list[dict]             # active nodes, with the capacity left today
    lanes: list[dict]
    channel_nodes: dict[str, list[str]]
    channel_penalty: dict[str, float]
    node_ids: dict[str, int]      # active node code -> id
    node_codes: dict[int, str]    # active node id -> code
    node_docs: dict[str, dict]    # active node code -> its document
    channel_ids: dict[str, int]   # channel code -> id
    served: frozenset[tuple[str, str]]  # (region, service) pairs some lane serves, any node


def master_data(session: Session, *, refresh: bool = False) -> MasterData:
    """Nodes with capacity left today, lanes, channel policy and code -> id maps.

    Read at most every ``MASTER_TTL_S`` per process (or when ``refresh``: a
    caller that misses a code asks again before refusing it): these change
    rarely, and summing today's shipments per node for every order would cost
    more than routing it. Node capacity in real-time routing is therefore up
    to that many seconds stale; batch re-optimisation reads it fresh.
    """
    engine = session.get_bind()
    now = time.monotonic()
    hit = _master.get(engine)
    if refresh or hit is None or hit.expires < now:
        channel_nodes, channel_penalty = channel_policy(session)
        nodes = node_documents(session)
        node_ids = {code: id_ for code, id_ in session.execute(
            select(Node.code, Node.id).where(Node.active.is_(True)))}
        hit = MasterData(
            expires=now + MASTER_TTL_S, nodes=nodes, lanes=lane_documents(session),
            channel_nodes=channel_nodes, channel_penalty=channel_penalty, node_ids=node_ids,
            node_codes={id_: code for code, id_ in node_ids.items()},
            node_docs={n["id"]: n for n in nodes},
            channel_ids={code: id_ for code, id_ in session.execute(
                select(Channel.code, Channel.id))},
            served=frozenset(tuple(row) for row in session.execute(
                select(Lane.region, Lane.service).distinct())))
        _master[engine] = hit
    return hit


def _master_data(session: Session) -> tuple[list[dict], list[dict], dict, dict]:
    """(nodes with capacity left today, lanes, channel nodes, channel penalties)."""
    m = master_data(session)
    return m.nodes, m.lanes, m.channel_nodes, m.channel_penalty


def build_problem(session: Session, order_docs: list[dict], *, sku_ids: list[int] | None,
                  time_limit_s: float, strategy: str = "optimal",
                  split_penalty: float = 0.0, default_backorder_penalty: float = 1000.0,
                  fresh: bool = False) -> dict:
    if fresh:
        nodes, lanes = node_documents(session), lane_documents(session)
        channel_nodes, channel_penalty = channel_policy(session)
    else:
        nodes, lanes, channel_nodes, channel_penalty = _master_data(session)
    regions = {o["region"] for o in order_docs}
    return {
        "nodes": nodes,
        "inventory": inventory_documents(session, sku_ids),
        "lanes": [l for l in lanes if l["region"] in regions],
        "orders": order_docs,
        "policy": {
            "split_penalty": split_penalty,
            "backorder_penalty_per_unit": default_backorder_penalty,
            "channel_backorder_penalty": channel_penalty,
            "channel_nodes": channel_nodes,
            "max_shipments_per_order": None,
            "time_limit_seconds": time_limit_s,
            "strategy": strategy,
        },
    }
