"""Replenishment benchmark: optimal strategy side by side with min/max on seeded problems.

    .venv/bin/python bench/replenishment.py [--quick]

Each instance runs in its own subprocess (peak memory = that process's ru_maxrss). Prints
size, time, objective, bound, gap, min/max objective and the ratio, then the forecast's
held-back error against a naive forecast.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

INSTANCES = [  # skus, nodes, periods, suppliers, time limit s, target gap, target s
    (20, 2, 13, 3, 9.0, 0.005, 10),
    (500, 4, 13, 5, 28.0, 0.01, 30),
    (5000, 5, 13, 10, 110.0, 0.02, 120),
]
QUICK = [(20, 2, 13, 3, 5.0, 0.005, 10), (100, 2, 13, 3, 10.0, 0.01, 30)]


def run_one(skus, nodes, periods, suppliers, time_limit_s, seed=1, workers=2) -> dict:
    from optimizer.replenishment import parse_problem, solve, validate_plan
    from optimizer.replenishment.generate import generate_problem

    doc = generate_problem(skus, nodes, periods, suppliers, seed=seed)
    start = time.perf_counter()
    problem = parse_problem(doc)
    minmax = solve(problem, strategy="minmax").to_json()
    t0 = time.perf_counter()
    plan = solve(problem, time_limit_s=time_limit_s, workers=workers, seed=0)
    seconds = time.perf_counter() - t0
    body = plan.to_json()
    validate_plan(problem, body)
    validate_plan(problem, minmax)
    return {"skus": skus, "nodes": nodes, "periods": periods, "suppliers": suppliers,
            "seconds": seconds, "parse_seconds": t0 - start, "status": body["status"],
            "objective": body["objective"], "bound": body["bound"], "gap": body["gap"],
            "minmax": minmax["objective"], "ratio": body["objective"] / minmax["objective"],
            "stats": plan.stats,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def forecast_figures(seed=7, n_series=500) -> dict:
    """Held-back error on synthetic daily history: three years, weekly buckets, 13 held back."""
    import numpy as np

    from optimizer.forecast import holdout_error

    rng = np.random.default_rng(seed)
    weeks = 156   # three years, so two full seasons remain after the held-back weeks
    t = np.arange(weeks)
    series = {}
    for k in range(n_series):
        rate = rng.lognormal(2.5, 1.0)
        season = 1 + 0.35 * np.sin(2 * np.pi * t / 52 + rng.uniform(0, 2 * np.pi))
        trend = 1 + rng.normal(0, 0.003) * t
        promo = np.ones(weeks)
        promo[rng.integers(0, weeks, 3)] = rng.uniform(1.5, 2.5, 3)
        daily = rng.poisson(np.repeat(rate * season * trend * promo / 7, 7).clip(0))
        series[(f"S{k}", "N")] = daily.reshape(weeks, 7).sum(axis=1)
    err = holdout_error(series, 13, season_length=52)
    return {"series": err.series, "mape": err.mape, "wape": err.wape,
            "naive_mape": err.naive_mape, "naive_wape": err.naive_wape}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(*json.loads(args.one))))
        return
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2-core machine)")
    print(f"{'instance':<28}{'time s':>8}{'objective':>13}{'bound':>13}{'gap':>8}"
          f"{'minmax':>13}{'ratio':>7}{'peak MB':>9}  target")
    for skus, nodes, periods, sups, tl, gap_target, s_target in (QUICK if args.quick
                                                                   else INSTANCES):
        out = subprocess.run([sys.executable, __file__, "--one",
                              json.dumps([skus, nodes, periods, sups, tl])],
                             capture_output=True, text=True)
        if out.returncode:
            print(f"{skus}x{nodes}x{periods} failed:\n{out.stderr[-2000:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        met = r["gap"] <= gap_target and r["seconds"] <= s_target
        name = f"{skus} SKUs x {nodes} nodes x {periods}, {sups} sup"
        print(f"{name:<28}{r['seconds']:>8.1f}{r['objective']:>13.1f}{r['bound']:>13.1f}"
              f"{100 * r['gap']:>7.2f}%{r['minmax']:>13.1f}{r['ratio']:>7.3f}"
              f"{r['peak_mb']:>9.0f}  gap ≤ {100 * gap_target:g}% in ≤ {s_target} s: "
              f"{'met' if met else 'NOT met'}  [{r['status']}, {r['stats'].get('variables')} vars]")
    f = forecast_figures()
    print(f"forecast on {f['series']} series, 13 weeks held back: "
          f"MAPE {100 * f['mape']:.1f}% WAPE {100 * f['wape']:.1f}% | naive (last week): "
          f"MAPE {100 * f['naive_mape']:.1f}% WAPE {100 * f['naive_wape']:.1f}%")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
