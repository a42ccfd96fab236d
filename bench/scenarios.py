"""Scenario engine throughput, parallel speed-up, and the product's value in numbers.

    python bench/scenarios.py [--days 30] [--orders-per-day 20000] [--replications 8]
                              [--workers 2] [--wave-limit 1.0] [--compare-greedy]
                              [--skip-value] [--quick]

1. One replication of the demo world, DAYS days at ORDERS_PER_DAY orders a day,
   optimal routing in 4 waves a day with WAVE_LIMIT seconds per wave, on one core
   (target <= 120 s); with --compare-greedy the same replication with greedy routing.
2. REPLICATIONS replications of a smaller run one after another, then with
   WORKERS processes: the parallel time as a share of the sequential time
   (target <= 0.6 with 8 replications on 2 workers).
3. The Black-Friday example's KPIs with optimal routing + optimal replenishment
   side by side with greedy routing + min/max replenishment on the same seeds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scenarios.engine import Simulation  # noqa: E402
from scenarios.runner import run_all, summarise  # noqa: E402
from scenarios.spec import load_scenario, parse_scenario  # noqa: E402
from scenarios.world import world_from_demo  # noqa: E402

KPIS = ("fill_rate_units", "fill_rate_orders", "backorder_units_end", "backorder_value_end",
        "split_shipment_rate", "cost_per_order", "cycle_time_days", "stockout_sku_days",
        "po_spend", "avg_inventory_value", "inventory_turns")


def one_replication(days: int, orders_per_day: int, replenishment: str,
                    wave_limit: float = 1.0, strategy: str = "optimal") -> dict:
    sc = parse_scenario({"name": "bench", "horizon_days": days, "waves_per_day": 4,
                         "demand": {"orders_per_day": orders_per_day},
                         "policies": {"routing": {"strategy": strategy,
                                                  "time_limit_seconds": wave_limit},
                                      "replenishment": {"strategy": replenishment}}})
    world = world_from_demo(7)
    started = time.perf_counter()
    run = Simulation(sc, world, 1).run()
    seconds = time.perf_counter() - started
    print(f"1) {days} days x {orders_per_day:,} orders/day, {strategy} routing "
          f"({wave_limit:g} s per wave), 4 waves/day, replenishment {replenishment}: "
          f"{seconds:.1f} s per replication ({run.kpis['orders']:,} orders, "
          f"{run.kpis['movements']:,} movements; fill rate {run.kpis['fill_rate_units']:.4f}, "
          f"shipping + handling per order {run.kpis['cost_per_order']:.4f}; "
          f"target <= 120 s)", flush=True)
    return {"seconds": seconds, **run.kpis}


def routing_value(days: int, orders_per_day: int, replenishment: str,
                  wave_limit: float) -> None:
    """The same replication with greedy routing: what the optimizer buys at wave scale."""
    greedy = one_replication(days, orders_per_day, replenishment, wave_limit, "greedy")
    print(f"   greedy routing on the same seed: {greedy['seconds']:.1f} s, fill rate "
          f"{greedy['fill_rate_units']:.4f}, per order {greedy['cost_per_order']:.4f}",
          flush=True)


def speedup(replications: int, workers: int, replenishment: str) -> None:
    sc = parse_scenario({"name": "speedup", "horizon_days": 10, "waves_per_day": 4,
                         "demand": {"orders_per_day": 2000}, "replications": replications,
                         "policies": {"routing": {"strategy": "greedy"},
                                      "replenishment": {"strategy": replenishment}}})
    world = world_from_demo(7)
    t0 = time.perf_counter()
    run_all(sc, world=world, workers=1)
    sequential = time.perf_counter() - t0
    t0 = time.perf_counter()
    run_all(sc, world=world, workers=workers)
    parallel = time.perf_counter() - t0
    print(f"2) {replications} replications: one after another {sequential:.1f} s, "
          f"{workers} workers {parallel:.1f} s, ratio {parallel / sequential:.2f} "
          f"(target <= 0.60)", flush=True)


def value(replications: int, workers: int) -> None:
    base = load_scenario(ROOT / "scenarios" / "examples" / "black-friday.yaml")
    data = base.model_dump(by_alias=True, mode="json")
    data["replications"] = replications
    ours = parse_scenario(data)
    data["policies"]["routing"]["strategy"] = "greedy"
    data["policies"]["replenishment"]["strategy"] = "minmax"
    peers = parse_scenario(data)
    world = world_from_demo(7)
    t0 = time.perf_counter()
    a = summarise(run_all(ours, world=world, workers=workers))["base"]["kpis"]
    b = summarise(run_all(peers, world=world, workers=workers))["base"]["kpis"]
    print(f"3) black-friday, {replications} replications on the same seeds "
          f"({time.perf_counter() - t0:.0f} s)")
    print(f"   {'KPI':<24}{'optimal+optimal':>18}{'greedy+minmax':>16}{'difference':>14}")
    for k in KPIS:
        x, y = a[k]["mean"], b[k]["mean"]
        print(f"   {k:<24}{x:>18,.4f}{y:>16,.4f}{x - y:>+14,.4f}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--orders-per-day", type=int, default=20_000)
    p.add_argument("--replications", type=int, default=8)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--replenishment", default="optimal", choices=("optimal", "minmax", "none"))
    p.add_argument("--skip-value", action="store_true")
    p.add_argument("--wave-limit", type=float, default=1.0,
                   help="routing time limit per wave in part 1 (s)")
    p.add_argument("--compare-greedy", action="store_true",
                   help="part 1 again with greedy routing, for the difference")
    p.add_argument("--quick", action="store_true", help="3 days, 4 replications")
    args = p.parse_args()
    if args.quick:
        args.days, args.replications = 3, 4
    print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}", flush=True)
    one_replication(args.days, args.orders_per_day, args.replenishment, args.wave_limit)
    if args.compare_greedy:
        routing_value(args.days, args.orders_per_day, args.replenishment, args.wave_limit)
    speedup(args.replications, args.workers, args.replenishment)
    if not args.skip_value:
        value(args.replications, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
