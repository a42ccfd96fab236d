"""Reservation throughput of the ledger against minimal raw SQL, on PostgreSQL.

    python bench/ledger.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]
                           [--clients 16] [--seconds 10]

Creates a throwaway database next to the one named by --url (or
TEST_DATABASE_URL), loads 5 hot SKUs and 1,000 spread SKUs, then for each
workload (hot, spread) runs CLIENTS processes reserving one unit at a time
for SECONDS: first through the ledger's own API (``ledger.posting.post`` in a
unit of work), then as the same transaction in raw psycopg (a conditional
UPDATE plus a journal INSERT). Prints both rates and the ratio, and audits
the ledger afterwards. Target: ledger >= 50% of the raw rate.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy.engine import make_url  # noqa: E402

from ledger import master  # noqa: E402
from ledger.audit import audit  # noqa: E402
from ledger.db import make_engine, read_only, session_factory, unit_of_work  # noqa: E402
from ledger.errors import InsufficientStock  # noqa: E402
from ledger.migrate import upgrade  # noqa: E402
from ledger.movements import Movement  # noqa: E402
from ledger.posting import post  # noqa: E402
from bench.throwaway import throwaway_database  # noqa: E402

HOT = [f"HOT-{i}" for i in range(5)]
SPREAD = [f"SPR-{i:04d}" for i in range(1000)]
NODE = "DC-1"
STOCK = 10_000_000


def setup(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    with unit_of_work(sessions) as s:
        master.upsert_skus(s, [{"code": c, "name": c} for c in HOT + SPREAD])
        master.upsert_nodes(s, [{"code": NODE, "name": NODE, "region": "NE"}])
    with unit_of_work(sessions) as s:
        post(s, [Movement("count_gain", c, STOCK, NODE) for c in HOT + SPREAD])
    engine.dispose()


def ledger_client(url, skus, seconds, seed, start, out):
    engine = make_engine(url, pool_size=1)
    sessions = session_factory(engine)
    rng = random.Random(seed)
    with unit_of_work(sessions) as s:  # warm the connection and the code cache
        post(s, [Movement("reserve", skus[0], 1, NODE)])
    start.wait()
    n, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        try:
            with unit_of_work(sessions) as s:
                post(s, [Movement("reserve", rng.choice(skus), 1, NODE, doc_type="order",
                                  doc_id="BENCH")], actor="bench")
            n += 1
        except InsufficientStock:
            pass
    out.put(n)
    engine.dispose()


def raw_client(url, skus, seconds, seed, start, out):
    import psycopg
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = psycopg.connect(dsn)
    ids = dict(conn.execute("SELECT code, id FROM skus").fetchall())
    node_id = conn.execute("SELECT id FROM nodes WHERE code = %s", (NODE,)).fetchone()[0]
    conn.commit()
    rng = random.Random(seed)
    start.wait()
    n, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        sku_id = ids[rng.choice(skus)]
        with conn.transaction():
            cur = conn.execute(
                "UPDATE stock_positions SET available = available - 1, reserved = reserved + 1"
                " WHERE sku_id = %s AND node_id = %s AND available >= 1", (sku_id, node_id))
            if cur.rowcount == 1:
                conn.execute(
                    "INSERT INTO movements (txn_id, kind, sku_id, qty, from_node_id, from_bucket,"
                    " to_node_id, to_bucket, doc_type, doc_id, actor, created_at)"
                    " VALUES (%s, 'reserve', %s, 1, %s, 'available', %s, 'reserved', 'order',"
                    " 'BENCH', 'bench', now())", (str(uuid.uuid4()), sku_id, node_id, node_id))
                n += 1
    out.put(n)
    conn.close()


def run(target, url, skus, clients, seconds) -> float:
    ctx = mp.get_context("spawn")
    out, start = ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=target, args=(url, skus, seconds, i, start, out))
             for i in range(clients)]
    for p in procs:
        p.start()
    time.sleep(3 + clients * 0.15)  # let every client connect before the clock starts
    start.set()
    total = sum(out.get(timeout=seconds + 120) for _ in procs)
    for p in procs:
        p.join()
    return total / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get(
        "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()

    with throwaway_database(args.url, "stockroute_bench") as url:
        setup(url)
        print(f"PostgreSQL, {args.clients} client processes, {args.seconds:.0f} s per run, "
              f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
        print(f"{'workload':<10}{'ledger API/s':>14}{'raw SQL/s':>12}{'ratio':>8}")
        for label, skus in (("hot", HOT), ("spread", SPREAD)):
            ledger_rate = run(ledger_client, url, skus, args.clients, args.seconds)
            raw_rate = run(raw_client, url, skus, args.clients, args.seconds)
            print(f"{label:<10}{ledger_rate:>14,.0f}{raw_rate:>12,.0f}"
                  f"{ledger_rate / raw_rate:>8.2f}", flush=True)
        engine = make_engine(url)
        with read_only(session_factory(engine)) as s:
            # The raw baseline writes the same rows as the ledger, so the audit covers both.
            # Reservations here belong to no order: check the journal, not the documents.
            report = audit(s, documents=False)
        engine.dispose()
        print(f"audit: {'clean' if report.clean else f'{len(report.differences)} differences'}"
              f" over {report.positions_checked} positions")
        return 0 if report.clean else 1


if __name__ == "__main__":
    sys.exit(main())
