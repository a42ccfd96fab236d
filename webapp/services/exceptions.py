"""The exceptions queue: list with filters and paging, acknowledge, snooze,
resolve, and act (re-route, cancel the order, expedite the PO)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ledger.errors import InvalidValue, LedgerError, NotFound
from ledger.models import EXCEPTION_STATUSES, SEVERITIES, ExceptionItem, utcnow
from webapp.services.orders import InvalidTransition
from webapp.services.paging import older_than

MAX_PAGE = 501  # the API page size (500) plus the row that tells whether more exist


def view(e: ExceptionItem) -> dict:
    return {"id": e.id, "kind": e.kind, "severity": e.severity, "status": e.status,
            "message": e.message, "order": e.order_code, "sku": e.sku_code, "node": e.node_code,
            "purchase_order": e.po_code, "details": e.details,
            "created_at": e.created_at.isoformat(),
            "snoozed_until": e.snoozed_until.isoformat() if e.snoozed_until else None,
            "resolved_by": e.resolved_by,
            "resolved_at": e.resolved_at.isoformat() if e.resolved_at else None,
            "resolution": e.resolution}


def list_exceptions(session: Session, *, kind: str | None = None, severity: str | None = None,
                    status: str | None = None, node: str | None = None, sku: str | None = None,
                    min_age_hours: float | None = None, limit: int = 50,
                    before_id: int | None = None, now: dt.datetime | None = None) -> list[dict]:
    if severity and severity not in SEVERITIES:
        raise LedgerError(f"severity must be one of {', '.join(SEVERITIES)}", field="severity")
    if status and status not in EXCEPTION_STATUSES:
        raise LedgerError(f"status must be one of {', '.join(EXCEPTION_STATUSES)}",
                          field="status")
    now = now or utcnow()
    stmt = select(ExceptionItem).order_by(ExceptionItem.id.desc()).limit(
        max(1, min(limit, MAX_PAGE)))
    if status == "open":  # snoozed entries whose time has come are open again
        stmt = stmt.where(or_(ExceptionItem.status == "open",
                              (ExceptionItem.status == "snoozed")
                              & (ExceptionItem.snoozed_until <= now)))
    elif status:
        stmt = stmt.where(ExceptionItem.status == status)
    for column, value in ((ExceptionItem.kind, kind), (ExceptionItem.severity, severity),
                          (ExceptionItem.node_code, node), (ExceptionItem.sku_code, sku)):
        if value:
            stmt = stmt.where(column == value)
    if min_age_hours is not None:
        stmt = stmt.where(ExceptionItem.created_at <= now - dt.timedelta(hours=min_age_hours))
    if before_id is not None:
        stmt = stmt.where(older_than(ExceptionItem.id, before_id))
    return [view(e) for e in session.scalars(stmt)]


def _get(session: Session, exception_id: int, *, lock: bool = True) -> ExceptionItem:
    e = session.get(ExceptionItem, exception_id, with_for_update=lock)
    if e is None:
        raise NotFound(f"unknown exception {exception_id}", field="id")
    return e


def acknowledge(session: Session, exception_id: int, *, actor: str) -> dict:
    e = _get(session, exception_id)
    if e.status == "resolved":
        raise InvalidTransition("a resolved exception cannot be acknowledged", field="status")
    e.status, e.resolved_by = "acknowledged", None
    e.details = {**(e.details or {}), "acknowledged_by": actor,
                 "acknowledged_at": utcnow().isoformat()}
    return view(e)


def snooze(session: Session, exception_id: int, *, until: dt.datetime, actor: str,
           now: dt.datetime | None = None) -> dict:
    if until.tzinfo is None:
        raise LedgerError("until needs a UTC offset", field="until")
    try:   # stored in UTC, where it must still be a datetime
        until = until.astimezone(dt.timezone.utc)
    except OverflowError:
        raise InvalidValue(f"until {until.isoformat()} is outside the years 1-9999 in UTC",
                           field="until") from None
    now = now or utcnow()
    if until <= now:
        raise InvalidValue(f"until must be in the future; {until.isoformat()} is not after "
                           f"{now.isoformat(timespec='seconds')}", field="until")
    e = _get(session, exception_id)
    if e.status == "resolved":
        raise InvalidTransition("a resolved exception cannot be snoozed", field="status")
    e.status, e.snoozed_until = "snoozed", until
    e.details = {**(e.details or {}), "snoozed_by": actor}
    return view(e)


def resolve(session: Session, exception_id: int, *, actor: str, note: str) -> dict:
    if not note or len(note) > 2000:
        raise LedgerError("a resolution note of 1-2000 characters is required", field="note")
    e = _get(session, exception_id)
    e.status, e.resolved_by, e.resolved_at, e.resolution = "resolved", actor, utcnow(), note
    return view(e)
