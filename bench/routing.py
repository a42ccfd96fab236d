"""Routing benchmark: the optimal strategy side by side with greedy on the same seeded batch.

    .venv/bin/python bench/routing.py [--quick] [--seed N]
    .venv/bin/python bench/routing.py --proof-seeds 0,1,2 [--seed N] [--limit 30]

Each batch instance runs in its own child process so peak memory (ru_maxrss, which
includes HiGHS's native memory) is measured per instance. Single-order routing
is timed in process, per decision (``route_order``) and end to end (parse + route +
JSON), on one-order problems carrying only the order's SKUs' ATP, as the service
builds them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from optimizer.routing import parse_problem, route_order, solve, validate_plan  # noqa: E402
from optimizer.routing.generate import generate_problem  # noqa: E402
from optimizer.routing.model import build_model  # noqa: E402

WORKERS = 2
BATCHES = [  # orders, nodes, SKUs, time limit (s), target
    (500, 8, 200, 5.0, "proven optimal (gap <= 0.01%) in <= 5 s"),
    (2_000, 12, 600, 15.0, "gap <= 0.5% in <= 15 s"),
    (10_000, 20, 2_000, 60.0, "proven gap <= 2% in <= 60 s, peak RSS <= 2 GB"),
]
QUICK = [(200, 6, 80, 3.0, "smoke"), (500, 8, 200, 5.0, "proven optimal in <= 5 s")]


def run_batch(orders: int, nodes: int, skus: int, time_limit_s: float, seed: int) -> dict:
    problem = parse_problem(generate_problem(orders, nodes, skus, seed=seed))
    start = time.perf_counter()
    model = build_model(problem)
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    greedy = solve(problem, strategy="greedy", workers=WORKERS, seed=seed)
    greedy_s = time.perf_counter() - start
    validate_plan(problem, greedy)
    start = time.perf_counter()
    plan = solve(problem, strategy="optimal", time_limit_s=time_limit_s, workers=WORKERS,
                 seed=seed)
    optimal_s = time.perf_counter() - start
    validate_plan(problem, plan)
    return {
        "orders": orders, "nodes": nodes, "skus": skus, "lines": problem.n_lines,
        "variables": model.n_variables, "constraints": model.n_constraints,
        "build_ms": build_s * 1000,
        "time_limit_s": time_limit_s, "seconds": optimal_s, "status": plan.status,
        "objective": plan.objective, "bound": plan.bound, "gap": plan.gap,
        "greedy_objective": greedy.objective, "greedy_seconds": greedy_s,
        "ratio": plan.objective / greedy.objective if greedy.objective else 1.0,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def proof_times(instance_seeds: list[int], solver_seeds: list[int], limit: float) -> None:
    """500-order instances solved with each solver seed: how long ``solve()`` takes to
    prove each (gap <= 0.01%), or the gap it reaches within ``limit``; then a summary."""
    times = []
    for instance_seed in instance_seeds:
        problem = parse_problem(generate_problem(500, 8, 200, seed=instance_seed))
        for solver_seed in solver_seeds:
            start = time.perf_counter()
            plan = solve(problem, strategy="optimal", time_limit_s=limit, workers=WORKERS,
                         seed=solver_seed)
            seconds = time.perf_counter() - start
            proven = plan.gap <= 1e-4
            times.append(seconds if proven else float("inf"))
            print(f"500 orders, instance seed {instance_seed}, solver seed {solver_seed}: "
                  f"{'proven' if proven else 'not proven'} in {seconds:.2f} s, objective "
                  f"{plan.objective:.2f}, bound {plan.bound:.2f}, gap {100 * plan.gap:.4f}%",
                  flush=True)
    print(f"{len(times)} solves: proven within 5 s {sum(t <= 5 for t in times)}, within "
          f"{limit:g} s {sum(t < float('inf') for t in times)}; median time to proof "
          f"{statistics.median(times):.2f} s (not proven counted as longest)")


def one_order_documents(count: int, seed: int) -> list[dict]:
    docs = []
    for i in range(count):
        doc = generate_problem(1, 20, 2_000, seed=seed * 100_000 + i, max_lines=5)
        skus = {line["sku"] for line in doc["orders"][0]["lines"]}
        doc["inventory"] = [row for row in doc["inventory"] if row["sku"] in skus]
        docs.append(doc)
    return docs


def run_single(count: int, seed: int) -> dict:
    docs = one_order_documents(count, seed)
    decision, end_to_end = [], []
    for doc in docs:
        start = time.perf_counter()
        problem = parse_problem(doc)
        mid = time.perf_counter()
        plan = route_order(problem)
        done = time.perf_counter()
        plan.to_json()
        end_to_end.append(time.perf_counter() - start)
        decision.append(done - mid)
        validate_plan(problem, plan)

    def pct(values, q):
        values = sorted(values)
        return values[min(len(values) - 1, int(q * len(values)))] * 1000

    return {"orders": count, "median_ms": statistics.median(decision) * 1000,
            "p99_ms": pct(decision, 0.99), "e2e_median_ms": statistics.median(end_to_end) * 1000,
            "e2e_p99_ms": pct(end_to_end, 0.99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small instances only")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--proof-seeds", help="only: prove the 500-order instance with "
                        "each of these solver seeds (comma-separated)")
    parser.add_argument("--instances", help="with --proof-seeds: these instance seeds "
                        "(comma-separated) instead of --seed")
    parser.add_argument("--limit", type=float, default=30.0,
                        help="time limit per solve with --proof-seeds (s)")
    args = parser.parse_args()
    if args.proof_seeds:
        instances = ([int(x) for x in args.instances.split(",")] if args.instances
                     else [args.seed])
        proof_times(instances, [int(x) for x in args.proof_seeds.split(",")], args.limit)
        return
    if args.child:
        print(json.dumps(run_batch(*json.loads(args.child), seed=args.seed)))
        return
    load = os.getloadavg()
    print(f"routing benchmark: seed {args.seed}, {WORKERS} workers, {os.cpu_count()} CPUs, "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    header = (f"{'orders':>7} {'nodes':>5} {'vars':>8} {'limit s':>7} {'time s':>7} "
              f"{'status':>8} {'objective':>12} {'bound':>12} {'gap %':>7} "
              f"{'greedy obj':>12} {'opt/greedy':>10} {'peak MB':>8} {'build ms':>8}  target")
    print(header)
    for orders, nodes, skus, limit, target in (QUICK if args.quick else BATCHES):
        spec = json.dumps([orders, nodes, skus, limit])
        out = subprocess.run([sys.executable, __file__, "--child", spec, "--seed",
                              str(args.seed)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['orders']:>7} {r['nodes']:>5} {r['variables']:>8} {r['time_limit_s']:>7.0f} "
              f"{r['seconds']:>7.2f} {r['status']:>8} {r['objective']:>12.2f} "
              f"{r['bound']:>12.2f} {100 * r['gap']:>7.3f} {r['greedy_objective']:>12.2f} "
              f"{r['ratio']:>10.4f} {r['peak_rss_mb']:>8.0f} {r['build_ms']:>8.1f}  {target}",
              flush=True)
    s = run_single(200 if args.quick else 1000, args.seed)
    print(f"single order (1-5 lines, 20 nodes), {s['orders']} decisions: median "
          f"{s['median_ms']:.3f} ms, p99 {s['p99_ms']:.3f} ms per decision; end to end "
          f"(parse + route + JSON) median {s['e2e_median_ms']:.3f} ms, p99 "
          f"{s['e2e_p99_ms']:.3f} ms  (target: median <= 2 ms, p99 <= 10 ms)")


if __name__ == "__main__":
    main()
