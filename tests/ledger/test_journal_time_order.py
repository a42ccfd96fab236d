"""History by time: per position, the journal's time order is the order in which
postings were applied, and every balance "as of" an instant is one that existed.

Movements are stamped after the posting's row locks are held, once per database
transaction; these tests fail when a stamp is taken before the lock wait or when
the postings of one transaction carry different stamps.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time

from sqlalchemy import select

from ledger import queries
from ledger.db import read_only, unit_of_work
from ledger.errors import InsufficientStock
from ledger.models import MovementRow, Node, Sku
from ledger.movements import BUCKETS, Movement
from ledger.posting import lock_positions, post
from tests.conftest import ONLY_POSTGRES
from tests.ledger.helpers import make_world

M = MovementRow


def _journal(sessions, sku: str, node: str) -> list:
    with read_only(sessions) as s:
        sku_id = s.scalar(select(Sku.id).where(Sku.code == sku))
        node_id = s.scalar(select(Node.id).where(Node.code == node))
        return s.execute(select(M.id, M.kind, M.qty, M.from_node_id, M.from_bucket,
                                M.to_node_id, M.to_bucket, M.created_at).where(
            M.sku_id == sku_id, (M.from_node_id == node_id) | (M.to_node_id == node_id))
            .order_by(M.id)).all()


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def assert_time_order_is_application_order(sessions, sku: str, node: str) -> None:
    """Ids follow the order of application at a position (each row is inserted
    under the position's row lock); the stamps must follow it too, and every
    prefix of the journal in time order must leave every bucket non-negative."""
    rows = _journal(sessions, sku, node)
    stamps = [_as_utc(r.created_at) for r in rows]
    inverted = [(a.id, b.id) for a, b, sa, sb in zip(rows, rows[1:], stamps, stamps[1:])
                if sb < sa]
    assert not inverted, f"movements stamped before earlier ones: {inverted[:5]}"
    with read_only(sessions) as s:
        node_id = s.scalar(select(Node.id).where(Node.code == node))
    balance = dict.fromkeys(BUCKETS, 0)
    for r, stamp in sorted(zip(rows, stamps), key=lambda p: (p[1], p[0].id)):
        if r.from_node_id == node_id and r.from_bucket in BUCKETS:
            balance[r.from_bucket] -= r.qty
        if r.to_node_id == node_id and r.to_bucket in BUCKETS:
            balance[r.to_bucket] += r.qty
        assert min(balance.values()) >= 0, f"negative prefix at movement {r.id}: {balance}"


@ONLY_POSTGRES
def test_a_posting_that_waited_for_the_row_lock_is_stamped_after_the_holder(sessions):
    """Two reservations of the last unit wait while the holder of the row lock
    adds one: stamped before their wait, both would sort before the gain and
    the journal would show ``available`` at -1."""
    make_world(sessions, skus=("A",), nodes=("N1",), stock=1)
    with read_only(sessions) as s:
        sku_id = s.scalar(select(Sku.id).where(Sku.code == "A"))
    errors: list[BaseException] = []

    def reserve_one():
        try:
            with unit_of_work(sessions) as s:
                post(s, [Movement("reserve", "A", 1, "N1")])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    waiters = [threading.Thread(target=reserve_one) for _ in range(2)]
    with unit_of_work(sessions) as holder:
        lock_positions(holder, [sku_id])
        for w in waiters:
            w.start()
        time.sleep(0.5)  # both waiters are blocked on the row lock by now
        post(holder, [Movement("count_gain", "A", 1, "N1")])
    for w in waiters:
        w.join(10)
    assert not errors, errors
    rows = _journal(sessions, "A", "N1")
    assert [r.kind for r in rows] == ["count_gain", "count_gain", "reserve", "reserve"]
    assert_time_order_is_application_order(sessions, "A", "N1")
    with read_only(sessions) as s:
        for r in rows:
            (b,) = queries.balances_as_of(s, _as_utc(r.created_at), sku="A", node="N1")
            assert min(b.available, b.reserved) >= 0, (r.id, b)


def test_all_postings_of_one_transaction_share_one_stamp(sessions):
    """A reoptimisation releases and re-reserves in two postings of one
    transaction: no instant may show the units released but not yet re-reserved."""
    make_world(sessions, skus=("A",), nodes=("N1", "N2"), stock=5)
    with unit_of_work(sessions) as s:
        post(s, [Movement("reserve", "A", 3, "N1")])
    with unit_of_work(sessions) as s:
        post(s, [Movement("release", "A", 3, "N1")])
        time.sleep(0.01)
        post(s, [Movement("reserve", "A", 3, "N2")])
        time.sleep(0.01)
        post(s, [Movement("reserve", "A", 2, "N1"), Movement("hold", "A", 1, "N1")])
    rows = _journal(sessions, "A", "N1")[-3:] + _journal(sessions, "A", "N2")[-1:]
    assert {r.kind for r in rows} == {"release", "reserve", "hold"}
    assert len({_as_utc(r.created_at) for r in rows}) == 1
    stamp = _as_utc(rows[0].created_at)
    with read_only(sessions) as s:
        before = {b.node: b for b in queries.balances_as_of(
            s, stamp - dt.timedelta(microseconds=1), sku="A")}
        after = {b.node: b for b in queries.balances_as_of(s, stamp, sku="A")}
    assert (before["N1"].available, before["N1"].reserved) == (2, 3)
    assert (before["N2"].available, before["N2"].reserved) == (5, 0)
    assert (after["N1"].available, after["N1"].reserved, after["N1"].hold) == (2, 2, 1)
    assert (after["N2"].available, after["N2"].reserved) == (2, 3)


def test_a_rolled_back_savepoint_does_not_leave_its_stamp_behind(sessions):
    """Its movements are gone (and on PostgreSQL the row locks taken in it): a
    later posting of the transaction must not reuse its stamp."""
    make_world(sessions, skus=("A",), nodes=("N1",), stock=1)
    with unit_of_work(sessions) as s:
        try:
            with s.begin_nested():
                post(s, [Movement("count_gain", "A", 1, "N1")])
                undone = _as_utc(s.scalar(select(M.created_at).order_by(M.id.desc()).limit(1)))
                raise InsufficientStock([])
        except InsufficientStock:
            pass
        time.sleep(0.02)
        post(s, [Movement("reserve", "A", 1, "N1")])
    reserve = _journal(sessions, "A", "N1")[-1]
    assert reserve.kind == "reserve"
    assert _as_utc(reserve.created_at) - undone >= dt.timedelta(milliseconds=20)


@ONLY_POSTGRES
def test_a_later_posting_at_a_position_locked_after_the_stamp_gets_a_fresh_one(sessions):
    """Transaction 1 posts at N1 (stamp fixed), another transaction then posts at
    N2 and commits, then transaction 1 posts at N2: reusing its first stamp would
    put its N2 movement before the other's, so it must take a fresh one."""
    make_world(sessions, skus=("A",), nodes=("N1", "N2"), stock=2)
    with unit_of_work(sessions) as s:
        post(s, [Movement("reserve", "A", 1, "N1")])
        time.sleep(0.01)
        with unit_of_work(sessions) as other:
            post(other, [Movement("reserve", "A", 2, "N2")])
        time.sleep(0.01)
        post(s, [Movement("release", "A", 1, "N1"), Movement("count_gain", "A", 1, "N2")])
    assert_time_order_is_application_order(sessions, "A", "N1")
    assert_time_order_is_application_order(sessions, "A", "N2")
    n2 = _journal(sessions, "A", "N2")
    assert [r.kind for r in n2] == ["count_gain", "reserve", "count_gain"]
    assert _as_utc(n2[2].created_at) > _as_utc(n2[1].created_at)


def test_concurrent_posters_cancellers_and_counters_keep_history_consistent(sessions):
    """The reported repro, shortened: order posters, cancellers and counters on
    one position; every journal prefix in time order stays non-negative."""
    make_world(sessions, skus=("A",), nodes=("N1",), stock=20)
    stop = time.monotonic() + 3
    errors: list[BaseException] = []

    def worker(kind: str, seed: int):
        rng = random.Random(seed)
        try:
            while time.monotonic() < stop:
                try:
                    with unit_of_work(sessions) as s:
                        if kind == "order":
                            post(s, [Movement("reserve", "A", rng.randint(1, 3), "N1")])
                        elif kind == "cancel":
                            post(s, [Movement("release", "A", 1, "N1")])
                        else:
                            post(s, [Movement(rng.choice(("count_gain", "count_loss")),
                                              "A", rng.randint(1, 2), "N1")])
                except InsufficientStock:
                    pass
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k, i)) for i, k in
               enumerate(["order"] * 4 + ["cancel"] * 2 + ["count"] * 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert len(_journal(sessions, "A", "N1")) > 20
    assert_time_order_is_application_order(sessions, "A", "N1")
