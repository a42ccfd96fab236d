"""Returns: authorise (RMA against a shipped line), receive into inspection,
and disposition (restock, scrap, quarantine)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.errors import LedgerError, NotFound
from ledger.models import Node, Order, Return, Shipment, ShipmentLine, utcnow
from ledger.movements import Movement
from ledger.posting import post
from webapp.services.orders import InvalidTransition

DISPOSITIONS = {"restock": "restocked", "scrap": "scrapped", "quarantine": "quarantined"}


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order: str = Field(min_length=1, max_length=128)
    line: int = Field(ge=0)
    qty: int = Field(gt=0, le=1_000_000)
    reason: str = Field(min_length=1, max_length=256)
    node: str | None = Field(default=None, max_length=128)  # default: the node that shipped it


def _view(r: Return) -> dict:
    return {"code": r.code, "order": r.order_line.order.code, "line": r.order_line.line_no,
            "sku": r.order_line.sku.code, "qty": r.qty, "node": r.node.code,
            "reason": r.reason, "status": r.status, "created_at": r.created_at.isoformat(),
            "received_at": r.received_at.isoformat() if r.received_at else None}


def authorise(session: Session, data: ReturnIn, *, actor: str) -> dict:
    """Authorise ``data.qty`` units of a shipped line for return.

    The order's row is locked first (as every lifecycle action does), so two
    concurrent authorisations against the same line are decided one after the
    other: the second sees the first's return and may only take what is left.
    """
    order = session.scalar(select(Order).where(Order.code == data.order).with_for_update())
    if order is None:
        raise NotFound(f"unknown order {data.order!r}", field="order")
    if data.line >= len(order.lines):
        raise LedgerError(f"order {data.order} has no line {data.line}", field="line")
    line = order.lines[data.line]
    shipped = session.execute(
        select(Shipment.node_id, func.sum(ShipmentLine.qty))
        .join(ShipmentLine, ShipmentLine.shipment_id == Shipment.id)
        .where(ShipmentLine.order_line_id == line.id,
               Shipment.status.in_(("shipped", "delivered")))
        .group_by(Shipment.node_id)).all()
    total_shipped = sum(q for _, q in shipped)
    already = session.scalar(select(func.coalesce(func.sum(Return.qty), 0))
                             .where(Return.order_line_id == line.id)) or 0
    if data.qty > total_shipped - already:
        raise LedgerError(f"only {total_shipped - already} unit(s) of line {data.line} were "
                          f"shipped and not yet returned", field="qty")
    if data.node:
        node = session.scalar(select(Node).where(Node.code == data.node))
        if node is None:
            raise LedgerError(f"unknown node {data.node!r}", field="node")
    else:
        node = session.get(Node, max(shipped, key=lambda r: r[1])[0])
    # The code comes from the row's own id, given by the database on insert, so
    # concurrent authorisations never pick the same one (a count of the rows
    # did, and the loser failed on the unique code). Ids only grow, so these
    # codes never meet the older count-based ones, which are at most the ids.
    ret = Return(code=f"RMA-pending-{uuid.uuid4().hex}", order_line=line, node=node,
                 qty=data.qty, reason=data.reason, status="authorised")
    session.add(ret)
    session.flush()
    ret.code = f"RMA-{ret.id:06d}"
    session.flush()
    return _view(ret)


def _load(session: Session, code: str) -> Return:
    ret = session.scalar(select(Return).where(Return.code == code).with_for_update())
    if ret is None:
        raise NotFound(f"unknown return {code!r}", field="code")
    return ret


def receive(session: Session, code: str, *, actor: str) -> dict:
    ret = _load(session, code)
    if ret.status != "authorised":
        raise InvalidTransition(f"{code} is {ret.status}", field="status")
    post(session, [Movement("return_received", ret.order_line.sku.code, ret.qty, ret.node.code,
                            doc_type="return", doc_id=code)], actor=actor)
    ret.status, ret.received_at = "received", utcnow()
    session.flush()
    return _view(ret)


def disposition(session: Session, code: str, action: str, *, actor: str) -> dict:
    if action not in DISPOSITIONS:
        raise LedgerError(f"disposition must be one of {', '.join(DISPOSITIONS)}",
                          field="action")
    ret = _load(session, code)
    if ret.status == "authorised":
        raise InvalidTransition(f"{code} is {ret.status}; receive it first", field="status")
    if ret.status != "received":
        raise InvalidTransition(f"{code} is {ret.status} already; a return takes one "
                                f"disposition", field="status")
    post(session, [Movement(action, ret.order_line.sku.code, ret.qty, ret.node.code,
                            doc_type="return", doc_id=code)], actor=actor)
    ret.status = DISPOSITIONS[action]
    session.flush()
    return _view(ret)
