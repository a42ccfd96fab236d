"""The audit: every balance must equal the sum of its journal rows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ledger.movements import BUCKETS
from ledger.queries import balances, in_transit, journal_balances, journal_in_transit


@dataclass(frozen=True)
class Difference:
    sku: str
    node: str
    bucket: str
    balance: int
    journal: int

    def __str__(self) -> str:
        return (f"{self.sku}@{self.node} {self.bucket}: balance {self.balance}, "
                f"journal {self.journal} (diff {self.balance - self.journal:+d})")


@dataclass(frozen=True)
class AuditReport:
    positions_checked: int
    differences: tuple[Difference, ...]

    @property
    def clean(self) -> bool:
        return not self.differences


def audit(session: Session) -> AuditReport:
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
