"""Read side of the ledger: balances now and as of any instant, ATP, history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, literal, select, union_all
from sqlalchemy.orm import Session

from ledger.errors import NotFound
from ledger.models import (
    InTransit, MovementRow, Node, PurchaseOrder, PurchaseOrderLine, Sku, SkuNodeSetting, StockPosition,
)
from ledger.movements import BUCKETS

MAX_PAGE = 1000

P = StockPosition.__table__
M = MovementRow.__table__


@dataclass(frozen=True)
class Balance:
    sku: str
    node: str
    available: int
    reserved: int
    hold: int
    inspection: int
    inbound: int

    @property
    def on_hand(self) -> int:
        return self.available + self.reserved + self.hold + self.inspection

    def to_dict(self) -> dict:
        return {"sku": self.sku, "node": self.node,
                **{b: getattr(self, b) for b in BUCKETS}, "on_hand": self.on_hand}


def _sku_id(session: Session, code: str) -> int:
    sku_id = session.scalar(select(Sku.id).where(Sku.code == code))
    if sku_id is None:
        raise NotFound(f"unknown sku {code!r}", field="sku")
    return sku_id


def _node_id(session: Session, code: str) -> int:
    node_id = session.scalar(select(Node.id).where(Node.code == code))
    if node_id is None:
        raise NotFound(f"unknown node {code!r}", field="node")
    return node_id


def balances(session: Session, *, sku: str | None = None, node: str | None = None) -> list[Balance]:
    """Current balances, one row per (sku, node) that has ever held stock."""
    stmt = (select(Sku.code, Node.code, *[P.c[b] for b in BUCKETS])
            .join(Sku, Sku.id == P.c.sku_id).join(Node, Node.id == P.c.node_id)
            .order_by(Sku.code, Node.code))
    if sku is not None:
        stmt = stmt.where(P.c.sku_id == _sku_id(session, sku))
    if node is not None:
        stmt = stmt.where(P.c.node_id == _node_id(session, node))
    return [Balance(*row) for row in session.execute(stmt)]


def _journal_entries(as_of: dt.datetime | None = None):
    """Signed journal entries per (sku, node, bucket): +qty into, −qty out of."""
    incoming = select(M.c.sku_id, M.c.to_node_id.label("node_id"),
                      M.c.to_bucket.label("bucket"), M.c.qty.label("qty"), M.c.created_at,
                      M.c.id).where(M.c.to_node_id.is_not(None))
    outgoing = select(M.c.sku_id, M.c.from_node_id.label("node_id"),
                      M.c.from_bucket.label("bucket"), (-M.c.qty).label("qty"), M.c.created_at,
                      M.c.id).where(M.c.from_node_id.is_not(None))
    if as_of is not None:
        incoming = incoming.where(M.c.created_at <= as_of)
        outgoing = outgoing.where(M.c.created_at <= as_of)
    return union_all(incoming, outgoing).subquery("entries")


def journal_balances(session: Session, *, as_of: dt.datetime | None = None,
                     sku: str | None = None, node: str | None = None) -> list[Balance]:
    """Balances recomputed from the journal alone, optionally as of a past instant."""
    e = _journal_entries(as_of)
    cols = [func.coalesce(func.sum(case((e.c.bucket == b, e.c.qty), else_=literal(0))), 0)
            for b in BUCKETS]
    stmt = (select(Sku.code, Node.code, *cols)
            .select_from(e).join(Sku, Sku.id == e.c.sku_id).join(Node, Node.id == e.c.node_id)
            .group_by(Sku.code, Node.code).order_by(Sku.code, Node.code))
    if sku is not None:
        stmt = stmt.where(e.c.sku_id == _sku_id(session, sku))
    if node is not None:
        stmt = stmt.where(e.c.node_id == _node_id(session, node))
    return [Balance(r[0], r[1], *(int(v) for v in r[2:])) for r in session.execute(stmt)]


def balances_as_of(session: Session, at: dt.datetime, *, sku: str | None = None,
                   node: str | None = None) -> list[Balance]:
    """Balances from every movement stamped at or before ``at``. Movements are
    stamped after their posting's row locks, one stamp per transaction, so per
    position the journal in (created_at, id) order is the order of application
    and the result is a state that existed (a transaction is in or out whole)."""
    if at.tzinfo is None:
        raise ValueError("as-of instants must be timezone-aware")
    # Stored instants are UTC (SQLite keeps them without an offset).
    return journal_balances(session, as_of=at.astimezone(dt.timezone.utc), sku=sku, node=node)


def atp(session: Session, sku: str, *, node: str | None = None) -> dict[str, int]:
    """Available-to-promise per node: ``available − promise_buffer``, never below 0."""
    sku_id = _sku_id(session, sku)
    S = SkuNodeSetting
    stmt = (select(Node.code, P.c.available, func.coalesce(S.promise_buffer, 0))
            .select_from(P).join(Node, Node.id == P.c.node_id)
            .outerjoin(S, (S.sku_id == P.c.sku_id) & (S.node_id == P.c.node_id))
            .where(P.c.sku_id == sku_id).order_by(Node.code))
    if node is not None:
        stmt = stmt.where(P.c.node_id == _node_id(session, node))
    return {code: max(0, available - buffer) for code, available, buffer in session.execute(stmt)}


def atp_table(session: Session, *, node_ids: list[int] | None = None,
              sku_ids: list[int] | None = None) -> list[tuple[str, str, int]]:
    """(node code, sku code, ATP) for every position with ATP > 0: the routing inventory."""
    S = SkuNodeSetting
    value = P.c.available - func.coalesce(S.promise_buffer, 0)
    stmt = (select(Node.code, Sku.code, value)
            .select_from(P).join(Node, Node.id == P.c.node_id).join(Sku, Sku.id == P.c.sku_id)
            .outerjoin(S, (S.sku_id == P.c.sku_id) & (S.node_id == P.c.node_id))
            .where(value > 0))
    if node_ids is not None:
        stmt = stmt.where(P.c.node_id.in_(node_ids))
    if sku_ids is not None:
        stmt = stmt.where(P.c.sku_id.in_(sku_ids))
    return [(n, s, int(q)) for n, s, q in session.execute(stmt)]


def inbound_schedule(session: Session, sku: str, *, node: str | None = None
                     ) -> dict[str, list[tuple[dt.date, int]]]:
    """Open purchase-order quantities per node by expected date."""
    sku_id = _sku_id(session, sku)
    L = PurchaseOrderLine
    stmt = (select(Node.code, L.expected_date,
                   func.sum(L.qty_ordered - L.qty_received))
            .join(PurchaseOrder, PurchaseOrder.id == L.purchase_order_id)
            .join(Node, Node.id == PurchaseOrder.node_id)
            .where(L.sku_id == sku_id, L.qty_ordered > L.qty_received,
                   PurchaseOrder.status.in_(("placed", "partially_received")))
            .group_by(Node.code, L.expected_date).order_by(Node.code, L.expected_date))
    if node is not None:
        stmt = stmt.where(PurchaseOrder.node_id == _node_id(session, node))
    out: dict[str, list[tuple[dt.date, int]]] = {}
    for code, day, qty in session.execute(stmt):
        out.setdefault(code, []).append((day, int(qty)))
    return out


def in_transit(session: Session, *, sku: str | None = None) -> list[dict]:
    """Units sent between nodes and not yet received, per (sku, from node, to node)."""
    T, Src, Dst = InTransit, Node.__table__.alias("src"), Node.__table__.alias("dst")
    stmt = (select(Sku.code, Src.c.code, Dst.c.code, T.qty)
            .join(Sku, Sku.id == T.sku_id).join(Src, Src.c.id == T.from_node_id)
            .join(Dst, Dst.c.id == T.to_node_id).where(T.qty > 0)
            .order_by(Sku.code, Dst.c.code, Src.c.code))
    if sku is not None:
        stmt = stmt.where(T.sku_id == _sku_id(session, sku))
    return [{"sku": s, "from_node": a, "to_node": b, "qty": int(q)}
            for s, a, b, q in session.execute(stmt)]


def journal_in_transit(session: Session) -> dict[tuple[str, str], int]:
    """Units in transit to each (sku, node) by the journal: transfers out to it minus
    transfers in at it (receipts from before 0006 do not name their route)."""
    signed = case((M.c.kind == "transfer_out", M.c.qty), else_=-M.c.qty)
    stmt = (select(Sku.code, Node.code, func.sum(signed))
            .select_from(M).join(Sku, Sku.id == M.c.sku_id).join(Node, Node.id == M.c.to_node_id)
            .where(M.c.kind.in_(("transfer_out", "transfer_in")))
            .group_by(Sku.code, Node.code))
    return {(s, n): int(q) for s, n, q in session.execute(stmt)}


def time_phased_atp(session: Session, sku: str, dates: list[dt.date], *,
                    node: str | None = None) -> dict[str, list[dict]]:
    """ATP per node at each date: today's ATP plus inbound expected by then."""
    now = atp(session, sku, node=node)
    schedule = inbound_schedule(session, sku, node=node)
    out: dict[str, list[dict]] = {}
    for code in sorted(set(now) | set(schedule)):
        rows = []
        for day in sorted(dates):
            arriving = sum(q for d, q in schedule.get(code, []) if d <= day)
            rows.append({"date": day.isoformat(), "atp": now.get(code, 0) + arriving,
                         "inbound_by_then": arriving})
        out[code] = rows
    return out


def history(session: Session, sku: str, node: str, *, limit: int = 100,
            before_id: int | None = None) -> list[dict]:
    """Movements of a SKU touching a node, newest first; page with ``before_id``."""
    limit = max(1, min(limit, MAX_PAGE))
    sku_id, node_id = _sku_id(session, sku), _node_id(session, node)
    stmt = (select(M).where(M.c.sku_id == sku_id,
                            (M.c.from_node_id == node_id) | (M.c.to_node_id == node_id))
            .order_by(M.c.id.desc()).limit(limit))
    if before_id is not None:
        stmt = stmt.where(M.c.id < before_id)
    nodes = dict(session.execute(select(Node.id, Node.code)).all())
    return [
        {"id": r.id, "txn_id": r.txn_id, "kind": r.kind, "qty": r.qty,
         "from": {"node": nodes.get(r.from_node_id), "bucket": r.from_bucket},
         "to": {"node": nodes.get(r.to_node_id), "bucket": r.to_bucket},
         "doc_type": r.doc_type, "doc_id": r.doc_id, "actor": r.actor, "note": r.note,
         "created_at": r.created_at.isoformat() if r.created_at else None}
        for r in session.execute(stmt)
    ]


def node_summary(session: Session) -> list[dict]:
    """Per node: SKUs stocked and units per bucket (for the overview page)."""
    stmt = (select(Node.code, Node.name, Node.kind, Node.region, Node.active,
                   func.count(P.c.sku_id), *[func.coalesce(func.sum(P.c[b]), 0) for b in BUCKETS])
            .select_from(Node).outerjoin(P, P.c.node_id == Node.id)
            .group_by(Node.id).order_by(Node.code))
    return [
        {"code": r[0], "name": r[1], "kind": r[2], "region": r[3], "active": r[4],
         "skus": r[5], **{b: int(v) for b, v in zip(BUCKETS, r[6:])}}
        for r in session.execute(stmt)
    ]


def stock_overview(session: Session, *, limit: int = 50) -> list[dict]:
    """SKUs with the most units available across nodes."""
    limit = max(1, min(limit, MAX_PAGE))
    stmt = (select(Sku.code, Sku.name, Sku.category,
                   *[func.sum(P.c[b]) for b in BUCKETS])
            .join(P, P.c.sku_id == Sku.id).group_by(Sku.id)
            .order_by(func.sum(P.c.available).desc(), Sku.code).limit(limit))
    return [{"code": r[0], "name": r[1], "category": r[2],
             **{b: int(v) for b, v in zip(BUCKETS, r[3:])}} for r in session.execute(stmt)]


def external_account_totals(session: Session, sku: str | None = None) -> dict[str, int]:
    """Net flow into each external account (negative = the account gave stock)."""
    totals: dict[str, int] = {}
    stmt_in = select(M.c.to_bucket, func.sum(M.c.qty)).where(M.c.to_node_id.is_(None))
    stmt_out = select(M.c.from_bucket, func.sum(M.c.qty)).where(M.c.from_node_id.is_(None))
    if sku is not None:
        sku_id = _sku_id(session, sku)
        stmt_in, stmt_out = stmt_in.where(M.c.sku_id == sku_id), stmt_out.where(M.c.sku_id == sku_id)
    for account, qty in session.execute(stmt_in.group_by(M.c.to_bucket)):
        totals[account] = totals.get(account, 0) + int(qty)
    for account, qty in session.execute(stmt_out.group_by(M.c.from_bucket)):
        totals[account] = totals.get(account, 0) - int(qty)
    return totals
