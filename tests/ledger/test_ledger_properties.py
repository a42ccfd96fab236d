"""Property-based: random sequences of movements keep every ledger invariant."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from ledger import master, queries
from ledger.audit import audit
from ledger.db import read_only, unit_of_work
from ledger.errors import InsufficientStock
from ledger.movements import BUCKETS, KINDS, Movement, position_deltas, transit_deltas
from ledger.posting import post

NODES = ("N1", "N2")
_namespace = itertools.count()


def run_machine(sessions) -> None:
    class LedgerMachine(RuleBasedStateMachine):
        """Drives the real ledger and a dictionary model side by side."""

        @initialize()
        def setup(self):
            ns = next(_namespace)
            self.skus = (f"P{ns}-A", f"P{ns}-B")
            with unit_of_work(sessions) as s:
                master.upsert_skus(s, [{"code": c, "name": c} for c in self.skus])
                master.upsert_nodes(s, [{"code": n, "name": n, "region": "NE"} for n in NODES])
            self.model = {(k, n): dict.fromkeys(BUCKETS, 0) for k in self.skus for n in NODES}
            self.transit = {(k, a, b): 0 for k in self.skus for a in NODES for b in NODES if a != b}

        @rule(data=st.data(), kinds=st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=3))
        def post_movements(self, data, kinds):
            moves = []
            for kind in kinds:
                node = data.draw(st.sampled_from(NODES))
                other = NODES[1 - NODES.index(node)]
                moves.append(Movement(
                    kind, data.draw(st.sampled_from(self.skus)), data.draw(st.integers(1, 6)),
                    node, to_node=other if kind == "transfer_out" else None,
                    source_node=other if kind == "transfer_in" else None))
            expected = {key: dict(v) for key, v in self.model.items()}
            for key, delta in position_deltas(moves).items():
                for b, d in delta.items():
                    expected[key][b] += d
            transit = dict(self.transit)
            for route, d in transit_deltas(moves).items():
                transit[route] += d
            fits = (all(v >= 0 for row in expected.values() for v in row.values())
                    and all(v >= 0 for v in transit.values()))
            try:
                with unit_of_work(sessions) as s:
                    post(s, moves)
            except InsufficientStock:  # NotInTransit included
                assert not fits, "refused although the stock was there"
                return
            assert fits, "accepted although a bucket would go negative"
            self.model, self.transit = expected, transit

        @invariant()
        def balances_match_the_model_and_the_journal(self):
            if not hasattr(self, "skus"):
                return
            with read_only(sessions) as s:
                for sku in self.skus:
                    got = {(b.sku, b.node): b for b in queries.balances(s, sku=sku)}
                    for node in NODES:
                        row = got.get((sku, node))
                        have = {b: getattr(row, b) if row else 0 for b in BUCKETS}
                        assert have == self.model[(sku, node)]
                        assert min(have.values()) >= 0
                    # Conservation: what the buckets hold, the accounts gave.
                    held = sum(sum(self.model[(sku, n)].values()) for n in NODES)
                    assert held + sum(queries.external_account_totals(s, sku=sku).values()) == 0
                    stored = {(r["sku"], r["from_node"], r["to_node"]): r["qty"]
                              for r in queries.in_transit(s, sku=sku)}
                    assert stored == {k: v for k, v in self.transit.items()
                                      if k[0] == sku and v}
                    for node in NODES:  # inbound holds at least what is in transit to it
                        assert self.model[(sku, node)]["inbound"] >= sum(
                            v for (k, _, b), v in self.transit.items() if k == sku and b == node)
                assert audit(s, documents=False).clean  # no orders behind reserves

    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=25, stateful_step_count=12, deadline=None, derandomize=True,
        suppress_health_check=list(HealthCheck)))


@pytest.mark.slow
def test_random_movement_sequences_keep_every_invariant(sessions):
    run_machine(sessions)
