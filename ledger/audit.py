"""The audit: every balance must equal the sum of its journal rows, and the
balances that documents own must agree with those documents.

* journal: every bucket of every (SKU, node) equals the sum of its movements,
  and the units in transit to each node equal the transfers out minus in;
* documents (``documents=True``, the default), exact equalities per (SKU, node):

  - ``reserved`` equals the units of the open shipments (``planned`` or
    ``released``, not yet shipped) that hold reservations there: routing
    reserves exactly a shipment's lines, and releasing, shipping, cancelling
    and re-optimising move those same units out again;
  - ``inbound`` equals the units still expected on open purchase-order lines
    (the PO ``placed`` or ``partially_received``; per line
    ``max(0, qty_ordered - qty_received)``) plus the units in transit to the
    node (its routes in ``in_transit``, themselves checked against the
    journal above). Placing books ``qty_ordered``; a receipt takes what it covers of the
    line's open quantity, and books any over-receipt as placed first, so an
    over-received line holds nothing (hence the ``max``); an under-receipt
    leaves the rest open until more arrives, a short close or a cancellation
    takes it out (``po_cancelled``) and the PO leaves the open statuses. So
    the relation is exact through partial, over and under receipts;
  - ``inspection`` equals the units of returns received and not yet
    dispositioned (status ``received``; the SKU of the returned order line,
    the return's node): receiving a return books its whole quantity there and
    its one disposition (restock, scrap, quarantine) takes all of it out.
    Purchase-order receipts go to ``available``, never to inspection.

  ``hold`` is not checked against documents: holds have none (``hold`` and
  ``unhold`` are plain postings, allowed on the command line and over HTTP,
  with no document to match), and although a quarantined return moves its
  units into ``hold``, a later ``unhold`` may release them while the return
  stays ``quarantined``, so returns give neither an equality nor a bound.
  ``available`` belongs to no document either. Both are still checked
  against the journal.

  A movement posted around the documents (``stockroute ledger post … --force``:
  a ``release`` with no cancelled shipment, a ``receive`` with no PO receipt, a
  ``restock`` of no return) keeps the journal consistent but breaks these.

With ``documents=False`` (ledgers written without documents: benchmarks,
ledger-only tests) only the journal is checked, and ``inbound`` must be at
least the units in transit to the node (the rest would be purchase orders).

Each check is one grouped query over the database (no per-row round trips).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from functools import reduce

from sqlalchemy import Select, func, literal, select, union_all
from sqlalchemy.orm import Session

from ledger.models import (
    InTransit, Node, OrderLine, PurchaseOrder, PurchaseOrderLine, Return, Shipment,
    ShipmentLine, Sku, StockPosition,
)
from ledger.movements import BUCKETS
from ledger.queries import balances, in_transit, journal_balances, journal_in_transit

OPEN_SHIPMENT_STATUSES = ("planned", "released")
OPEN_PO_STATUSES = ("placed", "partially_received")
RETURN_IN_INSPECTION = "received"


@dataclass(frozen=True)
class Difference:
    sku: str
    node: str
    bucket: str
    balance: int
    journal: int  # what the balance is checked against (see ``against``)
    against: str = "journal"
    # When ``journal`` is a sum of several document figures: (label, units) each.
    parts: tuple[tuple[str, int], ...] = ()

    def __str__(self) -> str:
        if self.against == "in transit":
            return (f"{self.sku}@{self.node} inbound: balance {self.balance} is below the "
                    f"{self.journal} unit(s) in transit to it "
                    f"(short {self.journal - self.balance})")
        if self.parts:
            figure = (" + ".join(f"{label} {units}" for label, units in self.parts)
                      + f" = {self.journal}")
        else:
            figure = f"{self.against} {self.journal}"
        return (f"{self.sku}@{self.node} {self.bucket}: balance {self.balance}, "
                f"{figure} (diff {self.balance - self.journal:+d})")


@dataclass(frozen=True)
class AuditReport:
    positions_checked: int
    differences: tuple[Difference, ...]

    @property
    def clean(self) -> bool:
        return not self.differences


def audit(session: Session, *, documents: bool = True) -> AuditReport:
    """Check balances against the journal and, with ``documents``, ``reserved``,
    ``inbound`` and ``inspection`` against open shipments, open purchase-order
    lines plus units in transit, and returns awaiting disposition (see the
    module's docstring). ``documents=False`` is for ledgers written without
    documents (benchmarks, ledger-only tests)."""
    stored = {(b.sku, b.node): b for b in balances(session)}
    journal = {(b.sku, b.node): b for b in journal_balances(session)}
    diffs = []
    for key in sorted(stored.keys() | journal.keys()):
        s, j = stored.get(key), journal.get(key)
        for bucket in BUCKETS:
            sv = getattr(s, bucket) if s else 0
            jv = getattr(j, bucket) if j else 0
            if sv != jv:
                diffs.append(Difference(key[0], key[1], bucket, sv, jv))
    diffs += _in_transit_differences(session)
    if documents:
        diffs += _reserved_vs_open_shipments(session)
        diffs += _inbound_vs_open_pos_and_transit(session)
        diffs += _inspection_vs_received_returns(session)
    else:
        diffs += _inbound_below_in_transit(session)
    return AuditReport(len(stored.keys() | journal.keys()), tuple(diffs))


def _in_transit_differences(session: Session) -> list[Difference]:
    """Units in transit to each node, summed over routes, must equal the journal's."""
    stored: dict[tuple[str, str], int] = {}
    for row in in_transit(session):
        key = (row["sku"], row["to_node"])
        stored[key] = stored.get(key, 0) + row["qty"]
    journal = journal_in_transit(session)
    return [Difference(sku, node, "in_transit", stored.get((sku, node), 0),
                       journal.get((sku, node), 0))
            for sku, node in sorted(stored.keys() | journal.keys())
            if stored.get((sku, node), 0) != journal.get((sku, node), 0)]


# --------------------------------------------------------------------------- documents

def _open_shipment_lines():
    """(sku_id, node_id, qty) per line of an open shipment: units reserved for it."""
    return (select(OrderLine.sku_id, Shipment.node_id, ShipmentLine.qty)
            .select_from(ShipmentLine)
            .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
            .join(OrderLine, OrderLine.id == ShipmentLine.order_line_id)
            .where(Shipment.status.in_(OPEN_SHIPMENT_STATUSES)))


def _open_po_lines():
    """(sku_id, node_id, qty) per open purchase-order line: its units still expected.
    An over-received line expects nothing (its extra was booked as placed)."""
    L, PO = PurchaseOrderLine, PurchaseOrder
    return (select(L.sku_id, PO.node_id, L.qty_ordered - L.qty_received)
            .select_from(L).join(PO, PO.id == L.purchase_order_id)
            .where(PO.status.in_(OPEN_PO_STATUSES), L.qty_ordered > L.qty_received))


def _transit_routes():
    """(sku_id, node_id, qty) per route with units in transit to the node."""
    T = InTransit
    return select(T.sku_id, T.to_node_id, T.qty).where(T.qty > 0)


def _returns_in_inspection():
    """(sku_id, node_id, qty) per return received and not yet dispositioned."""
    return (select(OrderLine.sku_id, Return.node_id, Return.qty)
            .select_from(Return).join(OrderLine, OrderLine.id == Return.order_line_id)
            .where(Return.status == RETURN_IN_INSPECTION))


def open_shipment_units(session: Session) -> dict[tuple[str, str], int]:
    """Units of open shipments per (SKU, node): what orders hold reserved there."""
    lines = _open_shipment_lines().subquery()
    stmt = (select(Sku.code, Node.code, func.sum(lines.c.qty))
            .select_from(lines)
            .join(Sku, Sku.id == lines.c.sku_id).join(Node, Node.id == lines.c.node_id)
            .group_by(Sku.code, Node.code))
    return {(s, n): int(q) for s, n, q in session.execute(stmt)}


def _bucket_vs_documents(session: Session, bucket: str,
                         sources: list[tuple[str, Select]]) -> list[Difference]:
    """Per (SKU, node), ``bucket``'s balance against the sum of the document units
    that each source selects as (sku_id, node_id, qty) rows, in one grouped query
    (the balances and every source's rows side by side in a UNION ALL): a
    difference wherever they differ, whichever side is missing."""
    P = StockPosition
    labels = [label for label, _ in sources]
    zero = literal(0)

    def columns(sku_id, node_id, balance, figures):
        return [sku_id.label("sku_id"), node_id.label("node_id"), balance.label("balance"),
                *(f.label(f"d{j}") for j, f in enumerate(figures))]

    held = getattr(P, bucket)
    parts = [select(*columns(P.sku_id, P.node_id, held, [zero] * len(sources)))
             .where(held != 0)]
    for i, (_label, stmt) in enumerate(sources):
        sku_id, node_id, qty = stmt.subquery().c
        figures = [qty if j == i else zero for j in range(len(sources))]
        parts.append(select(*columns(sku_id, node_id, zero, figures)))
    u = union_all(*parts).subquery()
    balance = func.sum(u.c.balance)
    sums = [func.sum(u.c[f"d{j}"]) for j in range(len(sources))]
    differing = (select(u.c.sku_id, u.c.node_id, balance.label("balance"),
                        *(f.label(f"d{j}") for j, f in enumerate(sums)))
                 .group_by(u.c.sku_id, u.c.node_id)
                 .having(balance != reduce(operator.add, sums)).subquery())
    stmt = (select(Sku.code, Node.code, differing.c.balance,
                   *(differing.c[f"d{j}"] for j in range(len(sources))))
            .select_from(differing).join(Sku, Sku.id == differing.c.sku_id)
            .join(Node, Node.id == differing.c.node_id).order_by(Sku.code, Node.code))
    out = []
    for sku, node, held_units, *figures in session.execute(stmt):
        figures = [int(f) for f in figures]
        out.append(Difference(sku, node, bucket, int(held_units), sum(figures),
                              against=" + ".join(labels),
                              parts=tuple(zip(labels, figures)) if len(sources) > 1 else ()))
    return out


def _reserved_vs_open_shipments(session: Session) -> list[Difference]:
    """Reservations are made and released only with shipments (an order routed,
    released, shipped, cancelled or re-optimised): per (SKU, node), ``reserved``
    must equal the units of its open shipments."""
    return _bucket_vs_documents(session, "reserved",
                                [("open shipments", _open_shipment_lines())])


def _inbound_vs_open_pos_and_transit(session: Session) -> list[Difference]:
    """``inbound`` holds the units still expected on open purchase-order lines and
    the units in transit to the node by transfer, and nothing else: per (SKU,
    node) it must equal their sum (see the module's docstring for why receipts,
    over, under or closed short, keep this exact)."""
    return _bucket_vs_documents(session, "inbound",
                                [("open purchase orders", _open_po_lines()),
                                 ("in transit", _transit_routes())])


def _inspection_vs_received_returns(session: Session) -> list[Difference]:
    """Only returns fill ``inspection`` (``return_received``) and only their
    dispositions empty it: per (SKU, node) it must equal the units of the
    returns received there and not yet restocked, scrapped or quarantined."""
    return _bucket_vs_documents(session, "inspection",
                                [("returns awaiting disposition", _returns_in_inspection())])


def _inbound_below_in_transit(session: Session) -> list[Difference]:
    """Without documents: ``inbound`` holds purchase-order units and the units in
    transit to the node, so never fewer than the latter."""
    P, T = StockPosition, InTransit
    transit = (select(T.sku_id, T.to_node_id, func.sum(T.qty).label("qty"))
               .group_by(T.sku_id, T.to_node_id).subquery())
    stmt = (select(Sku.code, Node.code, func.coalesce(P.inbound, 0), transit.c.qty)
            .select_from(transit)
            .outerjoin(P, (P.sku_id == transit.c.sku_id) & (P.node_id == transit.c.to_node_id))
            .join(Sku, Sku.id == transit.c.sku_id).join(Node, Node.id == transit.c.to_node_id)
            .where(func.coalesce(P.inbound, 0) < transit.c.qty)
            .order_by(Sku.code, Node.code))
    return [Difference(s, n, "inbound", int(inbound), int(qty), against="in transit")
            for s, n, inbound, qty in session.execute(stmt)]
