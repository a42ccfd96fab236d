"""Planning against the database: ``stockroute plan-replenishment`` (purchase orders
stored as draft proposals for review) and ``stockroute reoptimize`` (open orders
re-routed together by the batch optimizer)."""

from __future__ import annotations

import datetime as dt
import sys
import time

import click
from flask.cli import with_appcontext

from ledger.db import unit_of_work
from webapp.commands.solver_io import Day, FiniteFloatRange
from webapp.extensions import db
from webapp.services import orders as orders_svc
from webapp.services import replenishment as svc
from webapp.services.routing_engine import route_problem


def describe_status(plan: dict) -> str:
    """The plan's status in words, with its cost and how far from optimal it can be."""
    figures = f"objective {plan['objective']:,.2f}"
    if plan["status"] == "optimal":
        return f"status optimal (proven): {figures}"
    if plan["status"] == "feasible":
        return (f"status feasible: the best plan found within the time limit, not proven "
                f"optimal; {figures}, proven lower bound {plan['bound']:,.2f}, at most "
                f"{plan['gap']:.4%} above the optimum")
    return f"status {plan['status']}: the min/max rule's plan, no optimality bound; {figures}"


@click.command("plan-replenishment")
@click.option("--start", type=Day(), help="first day of period 0 (default: today)")
@click.option("--periods", default=13, show_default=True, type=click.IntRange(2, 104))
@click.option("--period-days", default=7, show_default=True, type=click.IntRange(1, 31))
@click.option("--strategy", default="optimal", show_default=True,
              type=click.Choice(["optimal", "minmax"]))
@click.option("--time-limit", "time_limit_s", default=30.0, show_default=True,
              type=FiniteFloatRange(0.1, 3600))
@click.option("--service-level", default=0.95, show_default=True,
              type=FiniteFloatRange(0.5, 0.9999, unit="a service level"))
@click.option("--dry-run", is_flag=True, help="plan and print, store nothing")
@with_appcontext
def plan_replenishment(start, periods, period_days, strategy, time_limit_s, service_level,
                       dry_run) -> None:
    """Forecast demand from order history, plan POs under lead times, capacities,
    MOQs and case packs, and store them as drafts (replacing the planner's
    previous untouched drafts)."""
    from optimizer.replenishment import ReplenishmentInputError
    start_date = start or dt.datetime.now(dt.timezone.utc).date()
    click.echo(f"planning with the {strategy} strategy: reading the database and forecasting, "
               f"then solving for up to {time_limit_s:g} s …", err=True)
    started = time.perf_counter()
    session = db.sessions()
    try:
        plan, data = svc.plan_from_database(
            session, start=start_date, periods=periods, period_days=period_days,
            strategy=strategy, time_limit_s=time_limit_s, service_level=service_level)
        session.rollback()
    except ReplenishmentInputError as err:
        session.rollback()
        for e in err.errors[:20]:
            click.echo(f"error ({e['field']}): {e['message']}", err=True)
        sys.exit(2)
    finally:
        session.close()
    click.echo(f"planned with the {strategy} strategy in {time.perf_counter() - started:.1f} s "
               f"(solver {plan['solve_seconds']:.1f} s of its {time_limit_s:g} s limit; the "
               f"rest reads the database and forecasts)")
    click.echo(f"  {describe_status(plan)}")
    click.echo(f"  {len(data.positions)} positions, {len(plan['orders'])} order lines, "
               f"purchase {plan['cost']['purchase']:,.2f}, "
               f"{len(plan.get('exceptions', []))} exception period(s)")
    if dry_run:
        click.echo("dry run: nothing stored")
        return
    with unit_of_work(db.sessions) as session:
        codes = svc.store_proposals(session, plan, start=start_date, period_days=period_days,
                                    run_note=f"{strategy} plan, gap {plan['gap']:.4%}")
        raised = svc.raise_plan_exceptions(session, plan, start=start_date,
                                           period_days=period_days)
    click.echo(f"stored {len(codes)} draft purchase order(s) for review; "
               f"{raised} new exception(s)")


@click.command("reoptimize")
@click.option("--time-limit", "time_limit_s", default=30.0, show_default=True,
              type=FiniteFloatRange(0.1, 600))
@click.option("--dry-run", is_flag=True, help="plan and print the diff, apply nothing")
@click.option("--actor", default="cli", show_default=True,
              help="who the status history names")
@with_appcontext
def reoptimize(time_limit_s, dry_run, actor) -> None:
    """Re-plan all open, unreleased orders and backorders together with the batch
    optimizer and apply the result atomically (release and re-reserve)."""
    settings = orders_svc.RoutingSettings(time_limit_s=time_limit_s)
    click.echo(f"re-planning every open order with the batch optimizer (time limit "
               f"{time_limit_s:g} s) …", err=True)
    with unit_of_work(db.sessions, commit=not dry_run) as session:
        diff = orders_svc.reoptimize(session, router=route_problem, actor=actor,
                                     dry_run=dry_run, settings=settings)
    click.echo(f"{diff['orders']} open order(s), {diff['moved']} moved; shipping cost "
               f"{diff['cost_before']:,.2f} -> {diff['cost_after']:,.2f}; backordered units "
               f"{diff['backordered_units_before']} -> {diff['backordered_units_after']}"
               + ("; dry run: nothing applied" if dry_run else ""))
    for change in diff["changes"][:20]:
        click.echo(f"  {change['order']}: {change['before']} -> {change['after']}")
    if len(diff["changes"]) > 20:
        click.echo(f"  … and {len(diff['changes']) - 20} more")


commands = [plan_replenishment, reoptimize]
