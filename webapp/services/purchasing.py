"""Purchase orders: proposals reviewed, edited and approved in bulk, receipts
(partial, over and under), cancellation, and late/short detection."""

from __future__ import annotations

import datetime as dt
from typing import Iterable

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ledger.errors import InvalidValue, LedgerError, NotFound
from ledger.models import ExceptionItem, PurchaseOrder, PurchaseOrderLine, utcnow
from ledger.movements import Movement
from ledger.posting import post
from webapp.services.orders import InvalidTransition
from webapp.services.paging import older_than

MAX_BULK = 500
# A line may be received up to this share of its ordered quantity beyond it (at
# least one unit): suppliers round to full cases. More needs allow_over_receipt.
OVER_RECEIPT_TOLERANCE_PCT = 10


class ReceiptLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str = Field(min_length=1, max_length=128)
    qty: int = Field(gt=0, le=10_000_000)


class ReceiptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=1000)
    close: bool = False  # True: nothing more will come; the rest is cancelled
    # True: accept more than the over-receipt tolerance (the supplier really sent it)
    allow_over_receipt: bool = False


class EditLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str = Field(min_length=1, max_length=128)
    qty: int = Field(gt=0, le=10_000_000)


def _po(session: Session, code: str, *, lock: bool = True) -> PurchaseOrder:
    stmt = select(PurchaseOrder).where(PurchaseOrder.code == code).options(
        selectinload(PurchaseOrder.lines).selectinload(PurchaseOrderLine.sku),
        selectinload(PurchaseOrder.supplier), selectinload(PurchaseOrder.node))
    po = session.scalar(stmt.with_for_update(of=PurchaseOrder) if lock else stmt)
    if po is None:
        raise NotFound(f"unknown purchase order {code!r}", field="code")
    return po


def po_view(po: PurchaseOrder) -> dict:
    return {
        "id": po.id, "code": po.code, "status": po.status, "supplier": po.supplier.code,
        "node": po.node.code, "expected_date": po.expected_date.isoformat(),
        "created_by": po.created_by, "note": po.note,
        "placed_at": po.placed_at.isoformat() if po.placed_at else None,
        "lines": [{"sku": l.sku.code, "qty_ordered": l.qty_ordered,
                   "qty_received": l.qty_received, "unit_cost": float(l.unit_cost),
                   "expected_date": l.expected_date.isoformat()} for l in po.lines],
        "value": float(sum(l.unit_cost * l.qty_ordered for l in po.lines)),
    }


def list_purchase_orders(session: Session, *, status: str | None = None, limit: int = 50,
                         before_id: int | None = None, offset: int = 0) -> list[dict]:
    """Newest first, paged by ``before_id`` (``offset`` still skips rows, for old clients)."""
    stmt = (select(PurchaseOrder).options(
        selectinload(PurchaseOrder.lines).selectinload(PurchaseOrderLine.sku),
        selectinload(PurchaseOrder.supplier), selectinload(PurchaseOrder.node))
        .order_by(PurchaseOrder.id.desc())
        .limit(max(1, min(limit, 501))).offset(max(0, offset)))
    if status:
        stmt = stmt.where(PurchaseOrder.status == status)
    if before_id is not None:
        stmt = stmt.where(older_than(PurchaseOrder.id, before_id))
    return [po_view(po) for po in session.scalars(stmt)]


def edit_proposal(session: Session, code: str, lines: list[EditLineIn], *, actor: str,
                  expected_date: dt.date | None = None, today: dt.date | None = None) -> dict:
    """Change quantities or the date of a draft (not to a past date); an edited draft is
    the planner's, not the plan's."""
    po = _po(session, code)
    if po.status != "draft":
        raise InvalidTransition(f"{code} is {po.status}; only drafts can be edited",
                                field="status")
    today = today or utcnow().date()
    if expected_date is not None and expected_date < today:
        raise InvalidValue(f"{expected_date} is in the past (today is {today})",
                           field="expected_date")
    by_sku = {l.sku.code: l for l in po.lines}
    for i, edit in enumerate(lines):
        if edit.sku not in by_sku:
            raise LedgerError(f"{code} has no line for {edit.sku!r}", field=f"lines[{i}].sku")
        by_sku[edit.sku].qty_ordered = edit.qty
    if expected_date is not None:
        po.expected_date = expected_date
        for l in po.lines:
            l.expected_date = expected_date
    po.created_by = actor
    session.flush()
    return po_view(po)


def approve(session: Session, codes: Iterable[str], *, actor: str) -> list[dict]:
    """Place drafts in bulk: each line becomes inbound stock (``po_placed``), all or nothing."""
    codes = list(dict.fromkeys(codes))
    if not codes or len(codes) > MAX_BULK:
        raise LedgerError(f"approve 1 to {MAX_BULK} purchase orders at a time", field="codes")
    pos = [_po(session, c) for c in sorted(codes)]
    not_draft = [p.code for p in pos if p.status != "draft"]
    if not_draft:
        raise InvalidTransition(f"not drafts: {', '.join(not_draft)}", field="codes")
    moves = [Movement("po_placed", l.sku.code, l.qty_ordered, po.node.code,
                      doc_type="purchase_order", doc_id=po.code) for po in pos for l in po.lines]
    post(session, moves, actor=actor)
    now = utcnow()
    for po in pos:
        po.status, po.placed_at = "placed", now
    session.flush()
    return [po_view(po) for po in pos]


def over_receipt_tolerance(qty_ordered: int) -> int:
    """Units a line may be received beyond its ordered quantity without the flag."""
    return max(1, -(-qty_ordered * OVER_RECEIPT_TOLERANCE_PCT // 100))


def receive(session: Session, code: str, receipt: ReceiptIn, *, actor: str,
            threshold_pct: float = 5.0) -> dict:
    """Receive units against a placed PO. Over-receipts within the tolerance (or
    beyond it with ``allow_over_receipt``) are accepted (the extra units are
    booked as placed first, so the journal stays exact) and raise an exception;
    larger ones are refused. Short closes cancel the rest and raise one too."""
    po = _po(session, code)
    if po.status not in ("placed", "partially_received"):
        raise InvalidTransition(f"{code} is {po.status}; nothing to receive", field="status")
    lines = {l.sku.code: l for l in po.lines}
    moves: list[Movement] = []
    for i, r in enumerate(receipt.lines):
        line = lines.get(r.sku)
        if line is None:
            raise LedgerError(f"{code} has no line for {r.sku!r}", field=f"lines[{i}].sku")
        open_qty = line.qty_ordered - line.qty_received
        allowed = open_qty + over_receipt_tolerance(line.qty_ordered)
        if r.qty > allowed and not receipt.allow_over_receipt:
            raise InvalidValue(
                f"{code}: {r.sku} has {max(0, open_qty)} open of {line.qty_ordered} ordered; "
                f"at most {max(0, allowed)} can be received (over-receipt tolerance "
                f"{OVER_RECEIPT_TOLERANCE_PCT}%); send allow_over_receipt: true if "
                f"{r.qty} really arrived", field=f"lines[{i}].qty")
        extra = max(0, r.qty - max(0, open_qty))
        if extra:
            moves.append(Movement("po_placed", r.sku, extra, po.node.code,
                                  doc_type="purchase_order", doc_id=code, note="over-receipt"))
            _exception(session, "po_over_receipt", po, r.sku,
                       f"{code}: {r.sku} received {extra} more than ordered", "info")
        moves.append(Movement("receive", r.sku, r.qty, po.node.code,
                              doc_type="purchase_order", doc_id=code))
        line.qty_received += r.qty
    if receipt.close:
        for line in po.lines:
            short = line.qty_ordered - line.qty_received
            if short > 0:
                moves.append(Movement("po_cancelled", line.sku.code, short, po.node.code,
                                      doc_type="purchase_order", doc_id=code,
                                      note="short close"))
                if short * 100 > threshold_pct * line.qty_ordered:
                    _exception(session, "po_short", po, line.sku.code,
                               f"{code}: {line.sku.code} closed {short} short of "
                               f"{line.qty_ordered}", "warning")
    post(session, moves, actor=actor)
    done = receipt.close or all(l.qty_received >= l.qty_ordered for l in po.lines)
    po.status = "received" if done else "partially_received"
    session.flush()
    return po_view(po)


def cancel(session: Session, code: str, *, actor: str) -> dict:
    po = _po(session, code)
    if po.status == "draft":
        po.status = "cancelled"
        session.flush()
        return po_view(po)
    if po.status not in ("placed", "partially_received"):
        raise InvalidTransition(f"{code} is {po.status}; it cannot be cancelled", field="status")
    moves = [Movement("po_cancelled", l.sku.code, l.qty_ordered - l.qty_received, po.node.code,
                      doc_type="purchase_order", doc_id=code)
             for l in po.lines if l.qty_ordered > l.qty_received]
    if moves:
        post(session, moves, actor=actor)
    po.status = "cancelled"
    session.flush()
    return po_view(po)


def expedite(session: Session, code: str, new_date: dt.date, *, actor: str,
             today: dt.date | None = None) -> dict:
    """Record an earlier expected date: before the current one, and not in the past."""
    po = _po(session, code)
    if po.status not in ("draft", "placed", "partially_received"):
        raise InvalidTransition(f"{code} is {po.status}", field="status")
    today = today or utcnow().date()
    if new_date < today:
        raise InvalidValue(f"{new_date} is in the past (today is {today})",
                           field="expected_date")
    if new_date >= po.expected_date:
        raise InvalidValue(f"expediting records an earlier date: {new_date} is not before "
                           f"{code}'s expected date {po.expected_date}", field="expected_date")
    po.expected_date = new_date
    for l in po.lines:
        if l.qty_received < l.qty_ordered:
            l.expected_date = new_date
    po.note = ((po.note + "; ") if po.note else "") + f"expedited to {new_date} by {actor}"
    session.flush()
    return po_view(po)


def detect_late(session: Session, *, today: dt.date) -> int:
    """Raise one exception per open PO past its expected date (deduplicated)."""
    n = 0
    for po in session.scalars(select(PurchaseOrder).where(
            PurchaseOrder.status.in_(("placed", "partially_received")),
            PurchaseOrder.expected_date < today)):
        days = (today - po.expected_date).days
        n += _exception(session, "po_late", po, None,
                        f"{po.code} is {days} day(s) late", "critical" if days > 7 else "warning")
    session.flush()
    return n


def _exception(session: Session, kind: str, po: PurchaseOrder, sku: str | None, message: str,
               severity: str) -> int:
    key = f"{kind}:{po.code}:{sku or ''}"
    if session.scalar(select(ExceptionItem.id).where(ExceptionItem.dedupe_key == key)):
        return 0
    session.add(ExceptionItem(kind=kind, severity=severity, message=message, po_code=po.code,
                              sku_code=sku, node_code=po.node.code, dedupe_key=key))
    return 1
