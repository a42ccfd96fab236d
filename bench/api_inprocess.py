"""Per-order cost of ``POST /api/v1/orders`` in one process, without HTTP.

    python bench/api_inprocess.py [--url postgresql+psycopg://...] [--orders 2000]
                                  [--profile out.prof]

Loads the demo world into a throwaway PostgreSQL database and posts orders
through Flask's test client (the whole request path: auth, validation,
idempotency, routing, reservation, writes, the answer), one at a time.
Prints the per-order wall time (p50, mean) and the SQL statements per order.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bench.api import load_world  # noqa: E402
from bench.throwaway import throwaway_database  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get(
        "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--profile", default=None, help="write a cProfile file here")
    args = parser.parse_args()
    with throwaway_database(args.url, "stockroute_apiproc") as url:
        skus, regions, channels, token = load_world(url)
        weights = [1.0 / (i + 1) ** 1.1 for i in range(len(skus))]
        from webapp import create_app
        from webapp.config import Config
        from webapp.extensions import db
        app = create_app(Config(DATABASE_URL=url, SECRET_KEY="bench", LOG_LEVEL="WARNING"))
        client = app.test_client()
        with app.app_context():
            engine = db.engine
        statements = [0]
        event.listen(engine, "before_cursor_execute",
                     lambda *a, **k: statements.__setitem__(0, statements[0] + 1))
        rng = random.Random(1)

        def one() -> float:
            n = rng.choice((1, 1, 2, 2, 3, 4))
            lines = [{"sku": s, "qty": rng.choice((1, 1, 1, 2, 3))}
                     for s in rng.choices(skus, weights, k=n)]
            region, service = rng.choice(regions)
            body = json.dumps({"id": f"B-{uuid.uuid4().hex[:16]}", "region": region,
                               "service": service, "channel": rng.choice(channels),
                               "lines": lines})
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                       "Idempotency-Key": uuid.uuid4().hex}
            t0 = time.perf_counter()
            r = client.post("/api/v1/orders", data=body, headers=headers)
            took = time.perf_counter() - t0
            if r.status_code != 201:
                raise SystemExit(f"{r.status_code} {r.data[:300]!r}")
            return took

        for _ in range(50):  # warm up: caches, pool, code paths
            one()
        statements[0] = 0
        profiler = None
        if args.profile:
            import cProfile
            profiler = cProfile.Profile(time.process_time)  # CPU, not waits
            profiler.enable()
        cpu0 = time.process_time()
        times = [one() for _ in range(args.orders)]
        cpu = (time.process_time() - cpu0) / args.orders
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        with app.app_context():
            db.engine.dispose()
    print(f"{args.orders} orders in process: p50 {statistics.median(times) * 1000:.2f} ms, "
          f"mean {statistics.fmean(times) * 1000:.2f} ms, "
          f"CPU of this process {cpu * 1000:.2f} ms, "
          f"SQL statements/order {statements[0] / args.orders:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
