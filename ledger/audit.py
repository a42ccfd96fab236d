"""The audit: every balance must equal the sum of its journal rows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ledger.movements import BUCKETS
from ledger.queries import balances, journal_balances


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
    return AuditReport(len(stored.keys() | journal.keys()), tuple(diffs))
