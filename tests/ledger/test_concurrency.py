"""Concurrency: no overselling, no deadlocks, no double application, on real databases."""

from __future__ import annotations

import multiprocessing as mp
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from ledger import queries
from ledger.audit import audit
from ledger.db import make_engine, read_only, session_factory, unit_of_work
from ledger.errors import InsufficientStock
from ledger.movements import Movement
from ledger.posting import post
from tests.conftest import ONLY_POSTGRES, ONLY_SQLITE
from tests.ledger.helpers import make_world

HOT = tuple(f"HOT-{i}" for i in range(5))
UNITS_PER_SKU = 1_000
ATTEMPTS = 10_000


def _attempt_reservations(sessions, attempts: int, seed: int) -> tuple[int, int]:
    rng = random.Random(seed)
    ok = refused = 0
    for _ in range(attempts):
        try:
            with unit_of_work(sessions) as s:
                post(s, [Movement("reserve", rng.choice(HOT), 1, "N1")])
            ok += 1
        except InsufficientStock:
            refused += 1
    return ok, refused


def _process_worker(url: str, attempts: int, seed: int, out) -> None:
    engine = make_engine(url)
    out.put(_attempt_reservations(session_factory(engine), attempts, seed))
    engine.dispose()


def _check_exactly_all_reserved(sessions, ok: int, refused: int) -> None:
    assert ok == UNITS_PER_SKU * len(HOT)
    assert ok + refused == ATTEMPTS
    with read_only(sessions) as s:
        for sku in HOT:
            (b,) = queries.balances(s, sku=sku, node="N1")
            assert (b.available, b.reserved) == (0, UNITS_PER_SKU)
        assert audit(s, documents=False).clean  # reservations of no order


@pytest.mark.slow
@ONLY_POSTGRES
def test_sixteen_clients_racing_for_hot_skus_never_oversell_on_postgres(sessions):
    make_world(sessions, skus=HOT, nodes=("N1",), stock=UNITS_PER_SKU)
    per = ATTEMPTS // 16
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda i: _attempt_reservations(sessions, per, i), range(16)))
    _check_exactly_all_reserved(sessions, sum(r[0] for r in results), sum(r[1] for r in results))


@pytest.mark.slow
@ONLY_SQLITE
def test_four_processes_racing_for_hot_skus_never_oversell_on_sqlite(sessions, database_url):
    make_world(sessions, skus=HOT, nodes=("N1",), stock=UNITS_PER_SKU)
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_process_worker, args=(database_url, ATTEMPTS // 4, i, out))
             for i in range(4)]
    for p in procs:
        p.start()
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    _check_exactly_all_reserved(sessions, sum(r[0] for r in results), sum(r[1] for r in results))


@pytest.mark.slow
def test_multi_line_postings_in_shuffled_sku_order_do_not_deadlock(sessions):
    skus = tuple(f"S{i}" for i in range(8))
    make_world(sessions, skus=skus, nodes=("N1", "N2"), stock=10_000)
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(60):
            lines = rng.sample(skus, 5)  # a different lock order each time, if we let it
            moves = [Movement("reserve", sku, 1, rng.choice(("N1", "N2"))) for sku in lines]
            moves.append(Movement("transfer_out", lines[0], 1, "N1", to_node="N2"))
            try:
                with unit_of_work(sessions) as s:
                    post(s, moves)
            except BaseException as exc:  # a deadlock error would land here
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    with read_only(sessions) as s:
        assert audit(s, documents=False).clean  # reservations of no order
        reserved = sum(b.reserved for b in queries.balances(s))
    assert reserved == 8 * 60 * 5


@pytest.mark.slow
def test_an_idempotency_storm_applies_each_posting_exactly_once(sessions):
    make_world(sessions, skus=("A",), nodes=("N1",))
    keys = [f"storm-{i}" for i in range(2_000)]
    sends = [k for k in keys for _ in range(3)]
    random.Random(1).shuffle(sends)  # repeats of a key arrive close together and concurrently
    replays = []

    def send(key: str) -> None:
        with unit_of_work(sessions) as s:
            result = post(s, [Movement("count_gain", "A", 1, "N1", doc_id=key)],
                          idempotency_key=key)
        replays.append(result.replayed)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(send, sends))
    assert replays.count(False) == 2_000 and replays.count(True) == 4_000
    with read_only(sessions) as s:
        (b,) = queries.balances(s, sku="A")
        assert b.available == 2_000
        assert audit(s, documents=False).clean  # reservations of no order
