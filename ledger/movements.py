"""The movement table and the pure arithmetic of postings.

Every change to stock is a movement of a quantity of one SKU from one place to
another. A place is either a bucket at a node or an external account. Each
movement kind has exactly one legal (from, to) pair; this module is the single
source of that table (the database CHECK constraint is generated from it too).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Mapping

from ledger.errors import InvalidMovement

BUCKETS: tuple[str, ...] = ("available", "reserved", "hold", "inspection", "inbound")
ACCOUNTS: tuple[str, ...] = ("supplier", "customer", "adjustment", "scrap")

# kind -> (from place, to place). A place in BUCKETS lives at a node.
KINDS: Mapping[str, tuple[str, str]] = {
    "po_placed": ("supplier", "inbound"),
    "receive": ("inbound", "available"),
    "po_cancelled": ("inbound", "supplier"),
    "reserve": ("available", "reserved"),
    "release": ("reserved", "available"),
    "ship": ("reserved", "customer"),
    "return_received": ("customer", "inspection"),
    "restock": ("inspection", "available"),
    "scrap": ("inspection", "scrap"),
    "quarantine": ("inspection", "hold"),
    "hold": ("available", "hold"),
    "unhold": ("hold", "available"),
    "count_gain": ("adjustment", "available"),
    "count_loss": ("available", "adjustment"),
    "transfer_out": ("available", "inbound"),
    "transfer_in": ("inbound", "available"),
}

MAX_QTY = 10**12
MAX_MOVEMENTS_PER_POSTING = 10_000


@dataclass(frozen=True, slots=True)
class Movement:
    """One movement, in codes. ``to_node`` differs from ``node`` only for transfers out;
    ``source_node`` is set only for transfers in: the node that shipped the units, whose
    transfer to ``node`` must still have them in transit."""

    kind: str
    sku: str
    qty: int
    node: str
    to_node: str | None = None
    from_bucket: str | None = None
    to_bucket: str | None = None
    doc_type: str | None = None
    doc_id: str | None = None
    note: str | None = None
    source_node: str | None = None

    def __post_init__(self) -> None:
        legal = KINDS.get(self.kind)
        if legal is None:
            raise InvalidMovement(f"unknown movement kind {self.kind!r}", field="kind")
        # Explicit buckets are optional; when given they must match the table.
        if self.from_bucket is None:
            object.__setattr__(self, "from_bucket", legal[0])
        if self.to_bucket is None:
            object.__setattr__(self, "to_bucket", legal[1])
        if (self.from_bucket, self.to_bucket) != legal:
            raise InvalidMovement(
                f"{self.kind} moves {legal[0]} -> {legal[1]}, not "
                f"{self.from_bucket} -> {self.to_bucket}",
                field="from_bucket",
            )
        if isinstance(self.qty, bool) or not isinstance(self.qty, int):
            raise InvalidMovement("qty must be an integer", field="qty")
        if not 0 < self.qty <= MAX_QTY:
            raise InvalidMovement(f"qty must be between 1 and {MAX_QTY}", field="qty")
        for name in ("sku", "node"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value or len(value) > 128:
                raise InvalidMovement(f"{name} must be a non-empty code", field=name)
        if self.kind == "transfer_out":
            if not self.to_node or self.to_node == self.node:
                raise InvalidMovement("transfer_out needs a to_node other than node",
                                      field="to_node")
        elif self.to_node not in (None, self.node):
            raise InvalidMovement(f"{self.kind} stays at one node; to_node must be empty",
                                  field="to_node")
        if self.to_node is None:
            object.__setattr__(self, "to_node", self.node)
        if self.kind == "transfer_in":
            if (not isinstance(self.source_node, str) or not self.source_node
                    or len(self.source_node) > 128 or self.source_node == self.node):
                raise InvalidMovement("transfer_in needs the from_node that shipped the "
                                      "units, other than node", field="from_node")
        elif self.source_node is not None:
            raise InvalidMovement(f"only transfer_in names a from_node, not {self.kind}",
                                  field="from_node")

    @property
    def from_node(self) -> str | None:
        return self.node if self.from_bucket in BUCKETS else None

    @property
    def dest_node(self) -> str | None:
        return self.to_node if self.to_bucket in BUCKETS else None


def position_deltas(movements: Iterable[Movement]) -> dict[tuple[str, str], dict[str, int]]:
    """Net change per (sku, node) and bucket. External accounts are not positions."""
    deltas: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(BUCKETS, 0))
    for m in movements:
        if m.from_bucket in BUCKETS:
            deltas[(m.sku, m.node)][m.from_bucket] -= m.qty
        if m.to_bucket in BUCKETS:
            deltas[(m.sku, m.to_node)][m.to_bucket] += m.qty
    return dict(deltas)


def transit_deltas(movements: Iterable[Movement]) -> dict[tuple[str, str, str], int]:
    """Net change of units in transit per (sku, from node, to node).

    A transfer out puts units in transit on its route; a transfer in takes them
    off the route it names. Inbound at a node is its open purchase orders plus
    what is in transit to it, so a receipt can only take units actually sent.
    """
    deltas: dict[tuple[str, str, str], int] = defaultdict(int)
    for m in movements:
        if m.kind == "transfer_out":
            deltas[(m.sku, m.node, m.to_node)] += m.qty
        elif m.kind == "transfer_in":
            deltas[(m.sku, m.source_node, m.node)] -= m.qty
    return {route: d for route, d in deltas.items() if d}


def legal_pairs_sql() -> str:
    """SQL boolean expression true only for legal (kind, from_bucket, to_bucket)."""
    parts = [
        f"(kind = '{k}' AND from_bucket = '{f}' AND to_bucket = '{t}')"
        for k, (f, t) in KINDS.items()
    ]
    return " OR ".join(parts)
