"""An in-memory ledger with the live ledger's movement rules.

The simulation never touches the database, but it moves stock with the same
``Movement`` kinds, the same (from, to) table and the same never-negative rule
as ``ledger.posting``: a posting that would drive a bucket below zero is
refused whole.
"""

from __future__ import annotations

from collections import defaultdict

from ledger.errors import InsufficientStock
from ledger.movements import ACCOUNTS, BUCKETS, Movement, position_deltas


class MemoryLedger:
    def __init__(self) -> None:
        self.positions: dict[tuple[str, str], dict[str, int]] = defaultdict(
            lambda: dict.fromkeys(BUCKETS, 0))
        self.accounts: dict[str, int] = dict.fromkeys(ACCOUNTS, 0)
        self.movements = 0

    def post(self, movements: list[Movement]) -> None:
        if not movements:
            return
        deltas = position_deltas(movements)
        shortages = []
        for key, delta in deltas.items():
            have = self.positions[key]
            for bucket, d in delta.items():
                if d < 0 and have[bucket] + d < 0:
                    shortages.append({"sku": key[0], "node": key[1], "bucket": bucket,
                                      "have": have[bucket], "need": -d})
        if shortages:
            raise InsufficientStock(shortages)
        for key, delta in deltas.items():
            have = self.positions[key]
            for bucket, d in delta.items():
                if d:
                    have[bucket] += d
        for m in movements:
            if m.from_bucket in ACCOUNTS:
                self.accounts[m.from_bucket] -= m.qty
            if m.to_bucket in ACCOUNTS:
                self.accounts[m.to_bucket] += m.qty
        self.movements += len(movements)

    def get(self, sku: str, node: str, bucket: str) -> int:
        pos = self.positions.get((sku, node))
        return pos[bucket] if pos else 0

    def conserved(self) -> bool:
        """Every unit in a bucket came from an account: the books balance."""
        held = sum(sum(p.values()) for p in self.positions.values())
        return held + sum(self.accounts.values()) == 0
