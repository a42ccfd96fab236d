"""``stockroute scenario run|compare|list``: what-if simulations from the command line."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

import click
from flask.cli import ScriptInfo
from tqdm import tqdm

from scenarios import report
from scenarios.runner import check_jobs, run_all, summarise
from scenarios.spec import ScenarioError, load_scenario


@click.group("scenario", help="Run and compare what-if simulations.")
def scenario_group() -> None:
    pass


def _app(ctx: click.Context):
    return ctx.ensure_object(ScriptInfo).load_app()


@scenario_group.command("run")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--replications", type=click.IntRange(1, 256), help="override the file's count")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="processes to run replications and sweep points in")
@click.option("--dask", "dask_address", help="run on this Dask scheduler (tcp://host:8786)")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="report folder")
@click.option("--from-db", is_flag=True, help="start from a snapshot of the live database")
@click.option("--no-store", is_flag=True, help="do not record the run in the database")
@click.pass_context
def run(ctx, file, replications, workers, dask_address, out_dir, from_db, no_store) -> None:
    """Simulate FILE (YAML or JSON) and write its report folder."""
    def refuse(err: ScenarioError):
        for e in err.errors:
            click.echo(f"{file}: {e['field']}: {e['message']}", err=True)
        sys.exit(2)

    try:
        scenario = load_scenario(file)
    except ScenarioError as err:
        refuse(err)
    world = None
    if from_db or scenario.start.from_db:
        from ledger.db import read_only
        from webapp.extensions import db
        from webapp.services.scenarios import world_from_db
        with _app(ctx).app_context(), read_only(db.sessions) as session:
            world = world_from_db(session)
    try:   # every sweep point, and every name it uses checked against its world, first
        jobs = check_jobs(scenario, world, replications)
    except ScenarioError as err:
        refuse(err)
    n_jobs = len(jobs)
    out = Path(out_dir or f"runs/{scenario.name.replace(' ', '-')}-"
                          f"{dt.datetime.now():%Y%m%d-%H%M%S}")
    started = time.perf_counter()
    executor, client = None, None
    if dask_address:
        import dask
        from distributed import Client
        wait = dask.config.get("distributed.comm.timeouts.connect")
        click.echo(f"connecting to the Dask scheduler at {dask_address} (waits up to {wait}) …",
                   err=True)
        try:
            client = Client(dask_address)
        except (OSError, ValueError, TypeError) as exc:
            click.echo(f"error (--dask): cannot reach a Dask scheduler at {dask_address}: "
                       f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                       err=True)
            sys.exit(2)
        executor = client.get_executor()
    # counted in simulated days, not runs: one run of a large scenario takes minutes
    bar = tqdm(total=sum(point.horizon_days for _, point, _ in jobs), desc=scenario.name,
               unit="day", file=sys.stderr)
    bar.set_postfix_str(f"0/{n_jobs} runs")
    try:
        runs = run_all(scenario, world=world, replications=replications, workers=workers,
                       executor=executor, on_day=lambda: bar.update(1),
                       progress=lambda done, total: bar.set_postfix_str(f"{done}/{total} runs"))
    finally:
        bar.close()
        if client is not None:
            client.close()
    seconds = time.perf_counter() - started
    summary = summarise(runs)
    html = report.write_report(scenario.name, runs, summary, out)
    click.echo(f"{n_jobs} run(s) in {seconds:.1f} s; report: {html}")
    for point, s in summary.items():
        k = s["kpis"]
        click.echo(f"  {point}: fill rate {k['fill_rate_units']['mean']:.4f}, "
                   f"backorder units at end {k['backorder_units_end']['mean']:.0f}, "
                   f"cost/order {k['cost_per_order']['mean']:.2f}, "
                   f"PO spend {k['po_spend']['mean']:,.0f}")
    if not no_store:
        try:
            from ledger.db import unit_of_work
            from webapp.extensions import db
            from webapp.services.scenarios import store_run
            with _app(ctx).app_context(), unit_of_work(db.sessions) as session:
                run_id = store_run(session, name=scenario.name,
                                   scenario=json.loads(scenario.model_dump_json(by_alias=True)),
                                   summary=summary, runs=n_jobs, seconds=seconds,
                                   report_dir=str(out.resolve()))
            click.echo(f"stored as scenario run {run_id}")
        except Exception as exc:  # noqa: BLE001 - the report is written; storing is a bonus
            click.echo(f"note: the report is written, but the run was not stored in the database "
                       f"({exc.__class__.__name__}: {str(exc).splitlines()[0][:120]}). Is it "
                       f"set up? Run `stockroute db upgrade`, or pass --no-store.", err=True)


@scenario_group.command("compare")
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="write compare.html here")
def compare(runs, out_dir) -> None:
    """Show report folders RUNS side by side (KPI deltas against the first)."""
    paths = [Path(r) for r in runs]
    for p in paths:
        if not (p / "summary.json").exists():
            raise click.BadParameter(f"{p} is not a scenario report folder", param_hint="RUNS")
        try:
            data = json.loads((p / "summary.json").read_text(encoding="utf-8"))
            points = data["summary"]
            if not (isinstance(points, dict) and points
                    and all(isinstance(s["kpis"], dict) for s in points.values())):
                raise ValueError("no KPIs")
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise click.BadParameter(f"{p} is not a scenario report folder: its summary.json "
                                     f"is not a report's", param_hint="RUNS") from None
    click.echo(report.kpi_table(paths))
    if out_dir:
        click.echo(f"charts: {report.compare(paths, Path(out_dir))}")


commands = [scenario_group]
