"""Replications and sweeps, one after another or in parallel.

Work goes to any ``concurrent.futures`` executor: a local process pool, or a
Dask cluster's executor (``distributed.Client(address).get_executor()``) —
the same interface, so the same code runs on one machine or many.
"""

from __future__ import annotations

import json
import multiprocessing
import queue as queue_module
import statistics
from concurrent.futures import FIRST_COMPLETED, Executor, ProcessPoolExecutor, wait
from dataclasses import asdict
from typing import Callable

from scenarios.engine import Run, simulate
from scenarios.spec import Scenario, ScenarioError, expand_sweep, world_errors
from scenarios.world import World, world_from_demo


# In a local pool's worker processes: where each simulated day is reported.
_DAYS = None


def _report_days_to(days) -> None:
    global _DAYS
    _DAYS = days


def _one(args: tuple, on_day: Callable[[], None] | None = None) -> dict:
    scenario_json, world, seed = args
    scenario = Scenario.model_validate_json(scenario_json)
    world = world or world_from_demo(scenario.start.demo_seed or 7, scenario.start.n_skus)
    if on_day is None and _DAYS is not None:
        on_day = lambda: _DAYS.put(1)  # noqa: E731
    progress = (lambda day, days: on_day()) if on_day is not None else None
    return asdict(simulate(scenario, world, seed, progress))


def jobs_for(scenario: Scenario, replications: int | None = None) -> list[tuple[dict, Scenario, int]]:
    """(sweep parameters, scenario, seed) for every run the file asks for."""
    n = replications or scenario.replications
    return [(params, point, scenario.seed + r)
            for params, point in expand_sweep(scenario) for r in range(n)]


def check_jobs(scenario: Scenario, world: World | None = None,
               replications: int | None = None) -> list[tuple[dict, Scenario, int]]:
    """``jobs_for``, after checking every sweep point against its starting world (the demo
    world of its ``start`` when ``world`` is None): raise ScenarioError naming each field
    that names a node, supplier, region, SKU, category or channel the world lacks (an error
    found only in some sweep points says in which)."""
    jobs = jobs_for(scenario, replications)
    points = {json.dumps(params, sort_keys=True, default=str): (params, point)
              for params, point, _ in jobs}
    worlds: dict[tuple, World] = {}
    found: dict[tuple[str, str], list[dict]] = {}
    for params, point in points.values():
        if world is None:
            key = (point.start.demo_seed or 7, point.start.n_skus)
            if key not in worlds:
                worlds[key] = world_from_demo(*key)
        for e in world_errors(point, world or worlds[key]):
            found.setdefault((e["field"], e["message"]), []).append(params)
    errors = []
    for (field, message), where in found.items():
        if len(where) < len(points):
            message += " in sweep point " + "; ".join(
                " ".join(f"{k}={v}" for k, v in params.items()) for params in where)
        errors.append({"field": field, "message": message})
    if errors:
        raise ScenarioError(errors)
    return jobs


def run_all(scenario: Scenario, *, world: World | None = None, replications: int | None = None,
            workers: int = 1, executor: Executor | None = None,
            progress: Callable[[int, int], None] | None = None,
            on_day: Callable[[], None] | None = None) -> list[dict]:
    """Run every replication of every sweep point; results in job order.

    ``progress(done, total)`` is called as runs finish; ``on_day()`` once per simulated
    day of every run, as it is simulated (one run can take minutes) — in this process
    and in a local pool's workers; with another executor (Dask), for a run's days when
    it finishes."""
    jobs = jobs_for(scenario, replications)
    payloads = [(point.model_dump_json(by_alias=True), world, seed) for _, point, seed in jobs]
    results: list[dict | None] = [None] * len(jobs)
    if executor is None and workers <= 1:
        for i, p in enumerate(payloads):
            results[i] = _one(p, on_day)
            if progress:
                progress(i + 1, len(jobs))
    else:
        own = executor is None
        days = multiprocessing.get_context().Queue() if own and on_day else None
        pool = executor or ProcessPoolExecutor(
            max_workers=workers, initializer=_report_days_to if days else None,
            initargs=(days,) if days else ())

        def drain() -> None:
            while days is not None:
                try:
                    days.get_nowait()
                except queue_module.Empty:
                    return
                on_day()

        try:
            futures = {pool.submit(_one, p): i for i, p in enumerate(payloads)}
            pending, done = set(futures), 0
            while pending:
                finished, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                drain()
                for future in finished:
                    i = futures[future]
                    results[i] = future.result()
                    done += 1
                    if on_day and days is None:   # no queue to the workers: the run's days
                        for _ in range(jobs[i][1].horizon_days):
                            on_day()
                    if progress:
                        progress(done, len(jobs))
        finally:
            if own:
                pool.shutdown()
            drain()   # what the workers reported last, all in the pipe once they exited
    for (params, _, seed), r in zip(jobs, results):
        r["params"], r["seed"] = params, seed
    return results


def summarise(runs: list[dict]) -> dict:
    """KPIs per sweep point: mean, standard deviation, min and max over replications."""
    groups: dict[str, list[dict]] = {}
    for r in runs:
        key = " ".join(f"{k}={v}" for k, v in sorted(r["params"].items())) or "base"
        groups.setdefault(key, []).append(r)
    out = {}
    for key, rs in groups.items():
        stats = {}
        for name in rs[0]["kpis"]:
            values = [r["kpis"][name] for r in rs if isinstance(r["kpis"][name], (int, float))
                      and not isinstance(r["kpis"][name], bool)]
            if len(values) == len(rs):
                stats[name] = {"mean": statistics.fmean(values),
                               "std": statistics.pstdev(values) if len(values) > 1 else 0.0,
                               "min": min(values), "max": max(values)}
        out[key] = {"replications": len(rs), "params": rs[0]["params"], "kpis": stats}
    return out


__all__ = ["Run", "run_all", "summarise", "jobs_for", "check_jobs"]
