"""Warehouse postings: cycle counts, holds and transfers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from ledger import queries
from ledger.errors import LedgerError
from ledger.models import ExceptionItem
from ledger.movements import Movement
from ledger.posting import lock_positions, post, CodeCache

COUNT_DISCREPANCY_PCT = 5.0


class CountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str = Field(min_length=1, max_length=128)
    node: str = Field(min_length=1, max_length=128)
    counted: int = Field(ge=0, le=10**9)  # units found available on the shelf


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str = Field(min_length=1, max_length=128)
    node: str = Field(min_length=1, max_length=128)
    qty: int = Field(gt=0, le=10**9)
    release: bool = False
    reason: str | None = Field(default=None, max_length=256)


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str = Field(min_length=1, max_length=128)
    from_node: str = Field(min_length=1, max_length=128)
    to_node: str = Field(min_length=1, max_length=128)
    qty: int = Field(gt=0, le=10**9)


def cycle_count(session: Session, data: CountIn, *, actor: str) -> dict:
    """Bring ``available`` to the counted number with a count gain or loss.

    The answer names the ``count_discrepancy`` exception a large difference
    raises (``exception``, else null). A count is not a plain posting: what it
    posts depends on the stock when it runs, so its idempotency key is checked
    against the request, not the movement (``webapp.api.keys``), and it takes
    no ledger-posting key.
    """
    conn = session.connection()
    skus, _nodes = CodeCache.for_connection(conn).resolve(conn, {data.sku}, {data.node})
    lock_positions(session, [skus[data.sku]])
    rows = queries.balances(session, sku=data.sku, node=data.node)
    before = rows[0].available if rows else 0
    diff = data.counted - before
    result = {"sku": data.sku, "node": data.node, "before": before, "counted": data.counted,
              "difference": diff, "movement": None, "exception": None}
    if diff == 0:
        return result
    kind = "count_gain" if diff > 0 else "count_loss"
    posting = post(session, [Movement(kind, data.sku, abs(diff), data.node, doc_type="count")],
                   actor=actor)
    result["movement"] = {"kind": kind, "qty": abs(diff), **posting.to_dict()}
    if before and abs(diff) * 100 > COUNT_DISCREPANCY_PCT * before or (not before and diff):
        item = ExceptionItem(
            kind="count_discrepancy", severity="warning", sku_code=data.sku, node_code=data.node,
            message=f"count of {data.sku} at {data.node}: {data.counted} found, "
                    f"{before} expected ({diff:+d})",
            details={"before": before, "counted": data.counted})
        session.add(item)
        session.flush()
        result["exception"] = {"id": item.id, "kind": item.kind, "severity": item.severity,
                               "message": item.message}
    return result


def hold(session: Session, data: HoldIn, *, actor: str, key: str | None = None) -> dict:
    kind = "unhold" if data.release else "hold"
    posting = post(session, [Movement(kind, data.sku, data.qty, data.node, doc_type="hold",
                                      note=data.reason)], actor=actor, idempotency_key=key)
    return {"kind": kind, **posting.to_dict()}


def transfer(session: Session, data: TransferIn, *, actor: str, key: str | None = None) -> dict:
    if data.from_node == data.to_node:
        raise LedgerError("a transfer needs two different nodes", field="to_node")
    posting = post(session, [Movement("transfer_out", data.sku, data.qty, data.from_node,
                                      to_node=data.to_node, doc_type="transfer")],
                   actor=actor, idempotency_key=key)
    return {"kind": "transfer_out", **posting.to_dict()}


def receive_transfer(session: Session, data: TransferIn, *, actor: str,
                     key: str | None = None) -> dict:
    """Receive units sent from ``from_node``: only what that route has in transit
    (``NotInTransit`` otherwise), never a purchase order's inbound units."""
    if data.from_node == data.to_node:
        raise LedgerError("a transfer needs two different nodes", field="from_node")
    posting = post(session, [Movement("transfer_in", data.sku, data.qty, data.to_node,
                                      source_node=data.from_node, doc_type="transfer")],
                   actor=actor, idempotency_key=key)
    return {"kind": "transfer_in", **posting.to_dict()}
