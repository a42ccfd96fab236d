"""Read-only inventory: balances, ATP and inbound per node; movement history."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from ledger import queries
from ledger.db import read_only
from webapp.api import bp
from webapp.api.auth import requires
from webapp.api.openapi import spec
from webapp.api.params import NextBeforeId, PageQuery
from webapp.extensions import db


class InboundLine(BaseModel):
    date: dt.date
    qty: int


class InTransitLine(BaseModel):
    from_node: str
    qty: int


class NodeInventory(BaseModel):
    node: str
    available: int
    reserved: int
    hold: int
    inspection: int
    inbound: int
    on_hand: int
    atp: int = Field(description="available − promise buffer, never below 0")
    inbound_by_date: list[InboundLine] = Field(description="open PO quantities by expected date")
    in_transit: list[InTransitLine] = Field(
        default_factory=list,
        description="units transferred to this node and not yet received, per sending node; "
                    "inbound = open PO quantities + these")


class InventoryOut(BaseModel):
    sku: str
    nodes: list[NodeInventory]


class MovementsQuery(PageQuery):
    """``?limit=&before_id=`` (movements older than that id)."""


class Side(BaseModel):
    node: str | None
    bucket: str | None


class MovementOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    id: int
    txn_id: str
    kind: str
    qty: int
    from_: Side = Field(alias="from")
    to: Side
    doc_type: str | None
    doc_id: str | None
    actor: str | None
    note: str | None
    created_at: str | None


class MovementsPage(BaseModel):
    sku: str
    node: str
    items: list[MovementOut]
    next_before_id: NextBeforeId


@bp.get("/inventory/<sku>")
@requires("inventory:read")
@spec(summary="Stock of a SKU per node: buckets, ATP and inbound by date",
      response=InventoryOut, tags=("inventory",))
def get_inventory(sku: str) -> InventoryOut:
    with read_only(db.sessions) as session:
        rows = {b.node: b for b in queries.balances(session, sku=sku)}
        atp = queries.atp(session, sku)
        inbound = queries.inbound_schedule(session, sku)
        transit: dict[str, list[InTransitLine]] = {}
        for t in queries.in_transit(session, sku=sku):
            transit.setdefault(t["to_node"], []).append(
                InTransitLine(from_node=t["from_node"], qty=t["qty"]))
    nodes = []
    for code in sorted(set(rows) | set(inbound)):
        b = rows.get(code) or queries.Balance(sku, code, 0, 0, 0, 0, 0)
        nodes.append(NodeInventory(
            node=code, available=b.available, reserved=b.reserved, hold=b.hold,
            inspection=b.inspection, inbound=b.inbound, on_hand=b.on_hand,
            atp=atp.get(code, 0),
            inbound_by_date=[InboundLine(date=d, qty=q) for d, q in inbound.get(code, [])],
            in_transit=transit.get(code, [])))
    return InventoryOut(sku=sku, nodes=nodes)


@bp.get("/inventory/<sku>/<node>/movements")
@requires("inventory:read")
@spec(summary="Movements of a SKU at a node, newest first, paged by before_id",
      query=MovementsQuery, response=MovementsPage, tags=("inventory",))
def get_movements(sku: str, node: str, query: MovementsQuery) -> MovementsPage:
    with read_only(db.sessions) as session:
        # one extra row tells whether another page exists
        rows = queries.history(session, sku, node, limit=query.limit + 1,
                               before_id=query.before_id)
    more = len(rows) > query.limit
    items = [MovementOut.model_validate(r) for r in rows[:query.limit]]
    return MovementsPage(sku=sku, node=node, items=items,
                         next_before_id=items[-1].id if more and items else None)
