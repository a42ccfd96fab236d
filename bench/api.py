"""Orders per second through the real HTTP stack: gunicorn, Flask, PostgreSQL.

    python bench/api.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]
                        [--clients 32] [--seconds 60] [--workers 4] [--threads 1]
                        [--rate ORDERS_PER_S]

Creates a throwaway PostgreSQL database, loads the demo world, creates an API
token, starts gunicorn (WORKERS workers, THREADS threads each) on a free local
port, and runs CLIENTS concurrent clients posting orders (1-4 lines, SKUs
drawn with a skewed popularity so some are hot) for SECONDS: closed loop (each
client sends its next order when the last is answered: the maximum
throughput) or, with --rate, open loop (the clients together offer RATE
orders/s on a fixed schedule; latency is counted from when each order was
due, so queueing behind a slow answer counts). Prints orders/s, p50/p99
latency, errors, then checks that no unit was oversold (no negative bucket,
reserved = sum of planned shipment lines) and that the audit is clean. In
the same run it measures the ledger-only reservation rate (bench/ledger.py's
ledger client) for comparison.
Targets: >= 300 orders/s, p50 <= 30 ms, p99 <= 150 ms, 0 errors, 0 oversold.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from ledger.audit import audit  # noqa: E402
from ledger.db import make_engine, read_only, session_factory, unit_of_work  # noqa: E402
from ledger.migrate import upgrade  # noqa: E402
from bench.throwaway import throwaway_database  # noqa: E402
from ledger.models import (  # noqa: E402
    Channel, Lane, Shipment, ShipmentLine, Sku, StockPosition)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_world(url: str) -> tuple[list[str], list[tuple[str, str]], list[str], str]:
    from ledger.demo import build_demo_world, load_demo
    from ledger.access import create_token  # (session, name, scopes) -> (row, plaintext)
    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    load_demo(sessions, build_demo_world(7))
    with unit_of_work(sessions) as s:
        _, token = create_token(s, name="bench", scopes=["orders:write", "inventory:read"])
    with read_only(sessions) as s:
        skus = [c for (c,) in s.execute(
            select(Sku.code).join(StockPosition, StockPosition.sku_id == Sku.id)
            .group_by(Sku.code).order_by(func.sum(StockPosition.available).desc()))]
        regions = sorted({(r, v) for r, v in s.execute(select(Lane.region, Lane.service))})
        channels = [c for (c,) in s.execute(select(Channel.code))]
    engine.dispose()
    return skus, regions, channels, token


class Client:
    """One keep-alive connection posting orders, on the shared event loop.

    A lean load generator (raw HTTP/1.1 over asyncio streams, one thread):
    it runs on the same cores as the server, so it should cost little, and a
    single event loop adds no GIL hand-offs to the latencies it measures. It
    reconnects whenever the server closes the connection (gunicorn's sync
    workers close after every response).

    Closed loop (``interval`` None): the next order is sent when the answer
    to the last one arrives. Open loop: order k is due at ``start + offset +
    k * interval``; its latency is counted from when it was due, so time spent
    waiting behind a slow answer is counted too (no coordinated omission).
    """

    def __init__(self, port, token, skus, weights, regions, channels, deadline, seed,
                 interval=None, offset=0.0):
        self.port, self.token = port, token
        self.skus, self.weights, self.regions, self.channels = skus, weights, regions, channels
        self.deadline, self.rng = deadline, random.Random(seed)
        self.interval, self.offset = interval, offset
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.statuses: dict[str, int] = {}

    def request(self) -> bytes:
        n = self.rng.choice((1, 1, 2, 2, 3, 4))
        lines = [{"sku": s, "qty": self.rng.choice((1, 1, 1, 2, 3))}
                 for s in self.rng.choices(self.skus, self.weights, k=n)]
        region, service = self.rng.choice(self.regions)
        body = json.dumps({"id": f"B-{uuid.uuid4().hex[:16]}", "region": region,
                           "service": service, "channel": self.rng.choice(self.channels),
                           "lines": lines}).encode()
        return (f"POST /api/v1/orders HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                f"Authorization: Bearer {self.token}\r\nContent-Type: application/json\r\n"
                f"Idempotency-Key: {uuid.uuid4().hex}\r\nContent-Length: {len(body)}\r\n"
                f"\r\n").encode() + body

    async def run(self, start: float) -> None:
        reader = writer = None
        k = 0
        while True:
            due = time.perf_counter()
            if self.interval is not None:
                due = start + self.offset + k * self.interval
                k += 1
                if due >= self.deadline:
                    break
                wait = due - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
            elif due >= self.deadline:
                break
            message = self.request()
            if self.interval is None:
                due = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.write(message)
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
                lines = head.decode("latin-1").split("\r\n")
                status = int(lines[0].split()[1])
                headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
                if "content-length" in headers:
                    payload = await reader.readexactly(int(headers["content-length"]))
                else:
                    payload = await reader.read()
                if headers.get("connection") == "close" or "content-length" not in headers:
                    writer.close()
                    reader = writer = None
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError,
                    asyncio.LimitOverrunError, ValueError, IndexError) as exc:
                self.errors.append(repr(exc))
                if writer is not None:
                    writer.close()
                reader = writer = None
                continue
            self.latencies.append(time.perf_counter() - due)
            if status != 201:
                self.errors.append(f"{status} {payload[:200]!r}")
            else:
                outcome = json.loads(payload)["status"]
                self.statuses[outcome] = self.statuses.get(outcome, 0) + 1
        if writer is not None:
            writer.close()


async def drive(clients: list[Client], start: float) -> None:
    await asyncio.gather(*(c.run(start) for c in clients))


def tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system) used so far by a process and its children."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == root or int(fields[1]) == root:  # fields[1]: the parent's pid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def pids_cpu_seconds(pids: list[int]) -> dict[int, float]:
    """CPU time (user + system) used so far by each of these processes."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def backend_pids(url: str) -> list[int]:
    """PostgreSQL server processes serving the benchmark database (a local server)."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            me = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            return [pid for (pid,) in conn.exec_driver_sql(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
                if pid != me]
    finally:
        engine.dispose()


def machine_busy_seconds() -> float:
    """CPU time the whole machine has spent not idle (every process, ours or not)."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # minus idle, iowait


def oversold(url: str) -> int:
    """Units reserved beyond what planned shipments hold, plus any negative bucket."""
    engine = make_engine(url)
    with read_only(session_factory(engine)) as s:
        negative = s.scalar(select(func.count()).select_from(StockPosition).where(
            (StockPosition.available < 0) | (StockPosition.reserved < 0)))
        reserved = s.scalar(select(func.coalesce(func.sum(StockPosition.reserved), 0)))
        planned = s.scalar(select(func.coalesce(func.sum(ShipmentLine.qty), 0))
                           .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
                           .where(Shipment.status.in_(("planned", "released"))))
        report = audit(s)
    engine.dispose()
    print(f"reserved units {reserved}, in planned/released shipments {planned}, "
          f"negative buckets {negative}, audit {'clean' if report.clean else 'DIRTY'}")
    return int(negative) + abs(int(reserved) - int(planned)) + (0 if report.clean else 1)


def ledger_only_rate(base_url: str) -> float:
    """bench/ledger.py's hot-SKU reservation rate (16 clients, 10 s) in this same run."""
    from bench.ledger import HOT, ledger_client, run, setup
    with throwaway_database(base_url, "stockroute_apibench_ledger") as url:
        setup(url)
        return run(ledger_client, url, HOT, 16, 10.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get(
        "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per gunicorn worker (more than 1: the gthread worker)")
    parser.add_argument("--rate", type=float, default=None,
                        help="open loop: offer this many orders/s in total (latency is "
                             "counted from when each order was due); default: closed loop")
    args = parser.parse_args()

    with throwaway_database(args.url, "stockroute_apibench") as url:
        return run_against(url, args)


def run_against(url: str, args) -> int:
    server = None
    try:
        print("loading the demo world ...", flush=True)
        skus, regions, channels, token = load_world(url)
        weights = [1.0 / (i + 1) ** 1.1 for i in range(len(skus))]  # skewed: a few hot SKUs
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "WEB_CONCURRENCY": str(args.workers),
               "STOCKROUTE_THREADS": str(args.threads),
               "SECRET_KEY": uuid.uuid4().hex, "STOCKROUTE_LOG_LEVEL": "WARNING"}
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null", "wsgi:app"],
            cwd=ROOT, env=env, start_new_session=True)
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/livez")
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(2)
        # Two seconds of closed-loop traffic first, not counted: the workers open
        # their pools, the driver prepares its statements, the caches fill.
        warm_until = time.perf_counter() + 2
        asyncio.run(drive([Client(port, token, skus, weights, regions, channels, warm_until,
                                  10_000 + i) for i in range(args.clients)],
                          time.perf_counter()))
        pg_pids = backend_pids(url)
        load_before = "%.2f %.2f %.2f" % os.getloadavg()
        started = time.perf_counter()
        deadline = started + args.seconds
        interval = args.clients / args.rate if args.rate else None
        clients = [Client(port, token, skus, weights, regions, channels, deadline, i,
                          interval, (interval or 0) * i / args.clients)
                   for i in range(args.clients)]
        pg_cpu = pids_cpu_seconds(pg_pids)
        server_cpu, machine_cpu = tree_cpu_seconds(server.pid), machine_busy_seconds()
        client_cpu = time.process_time()
        asyncio.run(drive(clients, started))
        elapsed = time.perf_counter() - started
        server_cpu = tree_cpu_seconds(server.pid) - server_cpu
        # backends opened during the run count from zero (a pool growing)
        pg_after = pids_cpu_seconds(backend_pids(url))
        pg_cpu = sum(t - pg_cpu.get(pid, 0.0) for pid, t in pg_after.items())
        machine_cpu = machine_busy_seconds() - machine_cpu
        client_cpu = time.process_time() - client_cpu
        lat = sorted(x for c in clients for x in c.latencies)
        errors = [e for c in clients for e in c.errors]
        statuses: dict[str, int] = {}
        for c in clients:
            for k, v in c.statuses.items():
                statuses[k] = statuses.get(k, 0) + v
        ok = sum(statuses.values())
        p50 = statistics.median(lat) * 1000 if lat else float("nan")
        p99 = lat[int(len(lat) * 0.99) - 1] * 1000 if lat else float("nan")
        mode = (f"open loop, {args.rate:g} orders/s offered" if args.rate
                else "closed loop")
        print(f"gunicorn {args.workers} workers x {args.threads} threads, {args.clients} "
              f"clients, {mode}, {elapsed:.0f} s, {os.cpu_count()} cores, "
              f"load average before {load_before}")
        print(f"orders/s {ok / elapsed:,.1f}   p50 {p50:.1f} ms   p99 {p99:.1f} ms   "
              f"errors {len(errors)}   outcomes {statuses}")
        if lat:
            print("latency ms: " + "  ".join(
                f"p{q:g} {lat[min(len(lat) - 1, int(len(lat) * q / 100))] * 1000:.1f}"
                for q in (10, 90, 95, 99.9)) + f"  max {lat[-1] * 1000:.1f}")
        per = 1000 / max(1, ok + len(errors))
        print(f"CPU per order: gunicorn {server_cpu * per:.2f} ms, PostgreSQL backends "
              f"{pg_cpu * per:.2f} ms, load generator "
              f"{client_cpu * per:.2f} ms, whole machine {machine_cpu * per:.2f} ms "
              f"(database and anything else running included; "
              f"{machine_cpu / elapsed:.2f} of {os.cpu_count()} cores busy)")
        for e in errors[:5]:
            print("  error:", e)
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        server = None
        bad = oversold(url)
        print(f"oversold units: {bad}")
        ledger_rate = ledger_only_rate(args.url)
        print(f"ledger-only reservations/s (16 clients, hot SKUs): {ledger_rate:,.0f}   "
              f"orders/s as a share of it: {ok / elapsed / ledger_rate:.2f}")
        return 0 if not errors and bad == 0 else 1
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
