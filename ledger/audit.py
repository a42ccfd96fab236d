"""The audit: every balance must equal the sum of its journal rows, and the
balances that documents own must agree with those documents.

* journal: every bucket of every (SKU, node) equals the sum of its movements,
  and the units in transit to each node equal the transfers out minus in;
* documents (``documents=True``, the default): ``reserved`` equals the units of
  the open shipments (``planned`` or ``released``, not yet shipped) that hold
  reservations there, and ``inbound`` is at least the units in transit to the
  node (the rest of ``inbound`` is purchase-order units). A movement posted
  around the documents (a ``release`` with no cancelled shipment, say) keeps
  the journal consistent but breaks these.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.models import InTransit, Node, OrderLine, Shipment, ShipmentLine, Sku, StockPosition
from ledger.movements import BUCKETS
from ledger.queries import balances, in_transit, journal_balances, journal_in_transit

OPEN_SHIPMENT_STATUSES = ("planned", "released")


@dataclass(frozen=True)
class Difference:
    sku: str
    node: str
    bucket: str
    balance: int
    journal: int  # what the balance is checked against (see ``against``)
    against: str = "journal"

    def __str__(self) -> str:
        if self.against == "in transit":
            return (f"{self.sku}@{self.node} inbound: balance {self.balance} is below the "
                    f"{self.journal} unit(s) in transit to it "
                    f"(short {self.journal - self.balance})")
        return (f"{self.sku}@{self.node} {self.bucket}: balance {self.balance}, "
                f"{self.against} {self.journal} (diff {self.balance - self.journal:+d})")


@dataclass(frozen=True)
class AuditReport:
    positions_checked: int
    differences: tuple[Difference, ...]

    @property
    def clean(self) -> bool:
        return not self.differences


def audit(session: Session, *, documents: bool = True) -> AuditReport:
    """Check balances against the journal and, with ``documents``, against open
    shipments and units in transit. ``documents=False`` is for ledgers written
    without documents (benchmarks, ledger-only tests)."""
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
        diffs += _reserved_vs_open_shipments(session, stored)
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


def open_shipment_units(session: Session) -> dict[tuple[str, str], int]:
    """Units of open shipments per (SKU, node): what orders hold reserved there."""
    stmt = (select(Sku.code, Node.code, func.sum(ShipmentLine.qty))
            .select_from(ShipmentLine)
            .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
            .join(OrderLine, OrderLine.id == ShipmentLine.order_line_id)
            .join(Sku, Sku.id == OrderLine.sku_id).join(Node, Node.id == Shipment.node_id)
            .where(Shipment.status.in_(OPEN_SHIPMENT_STATUSES))
            .group_by(Sku.code, Node.code))
    return {(s, n): int(q) for s, n, q in session.execute(stmt)}


def _reserved_vs_open_shipments(session: Session, stored: dict) -> list[Difference]:
    """Reservations are made and released only with shipments (an order routed,
    released, shipped, cancelled or re-optimised): per (SKU, node), ``reserved``
    must equal the units of its open shipments."""
    shipments = open_shipment_units(session)
    out = []
    for key in sorted(stored.keys() | shipments.keys()):
        reserved = stored[key].reserved if key in stored else 0
        units = shipments.get(key, 0)
        if reserved != units:
            out.append(Difference(key[0], key[1], "reserved", reserved, units,
                                  against="open shipments"))
    return out


def _inbound_below_in_transit(session: Session) -> list[Difference]:
    """``inbound`` holds purchase-order units and the units in transit to the node:
    never fewer than the latter."""
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
