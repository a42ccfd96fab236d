"""``stockroute import|export|demo``: master data in and out, and the demo world."""

from __future__ import annotations

import datetime as dt
import io
import sys
import time

import click
from flask.cli import with_appcontext
from tqdm import tqdm

from ledger import importexport
from ledger.db import read_only, unit_of_work
from ledger.demo import build_demo_world, is_loaded, load_demo
from ledger.errors import ImportErrors, LedgerError
from webapp.commands.solver_io import Day
from webapp.extensions import db

KINDS = click.Choice(sorted(importexport.KINDS))


@click.command("import")
@click.argument("kind", type=KINDS)
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@with_appcontext
def import_(kind: str, file) -> None:
    """Import a CSV FILE of KIND ('-' reads stdin). A file with any error changes nothing.

    Every problem is reported at once: field errors, and the references (unknown SKU, node,
    supplier) of the rows that are otherwise valid."""
    text = file.read(importexport.MAX_BYTES + 1)
    try:
        try:
            rows = importexport.parse(kind, io.StringIO(text))
        except ImportErrors as err:
            more = []
            if err.valid_rows:   # every row was checked: report their references too
                with read_only(db.sessions) as session:
                    more = importexport.reference_errors(session, kind, err.valid_rows)
            errors = sorted(err.errors + more, key=lambda e: e["row"])   # stable: fields first
            raise ImportErrors(errors) from None
        with unit_of_work(db.sessions) as session:
            count = importexport.import_rows(session, kind, rows, actor="cli-import")
    except ImportErrors as err:
        for e in err.errors:
            click.echo(f"row {e['row']}, {e['field']}: {e['message']}", err=True)
        click.echo(f"{len(err.errors)} error(s); nothing was imported", err=True)
        sys.exit(1)
    except LedgerError as err:
        click.echo(f"error ({err.field or 'file'}): {err.message}; nothing was imported", err=True)
        sys.exit(1)
    click.echo(f"imported {count} {kind} row(s)")


@click.command("export")
@click.argument("kind", type=KINDS)
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-",
              help="file to write (default: stdout)")
@with_appcontext
def export(kind: str, output) -> None:
    """Write KIND as CSV, in the format ``import`` reads."""
    with read_only(db.sessions) as session:
        output.write(importexport.export(session, kind))


@click.command("demo")
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--skus", "n_skus", default=500, show_default=True, type=click.IntRange(10, 5000))
@click.option("--today", type=Day(), default=None,
              help="the day after the last history day (default: today)")
@with_appcontext
def demo(seed: int, n_skus: int, today: dt.date | None) -> None:
    """Load the seeded demo world into an empty database (does nothing if it has data)."""
    if is_loaded(db.sessions):
        click.echo("the database already has data; the demo world was not loaded again")
        return
    started = time.perf_counter()
    world = build_demo_world(seed, n_skus=n_skus)
    steps = ["master data", "opening stock", "demand history", "open purchase orders",
             "recent orders"]
    day = today or dt.date.today()
    with tqdm(total=len(steps), desc="demo world", unit="step", file=sys.stderr) as bar:
        try:
            counts = load_demo(db.sessions, world, today=day,
                               progress=lambda step, n: (bar.set_postfix_str(f"{step}: {n}"),
                                                         bar.update()))
        except LedgerError as err:  # e.g. another process loaded it meanwhile
            click.echo(f"error: {err.message}; nothing was loaded", err=True)
            sys.exit(1)
    summary = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items())
    click.echo(f"demo world (seed {seed}) loaded in {time.perf_counter() - started:.1f} s: "
               f"{summary}")


commands = [import_, export, demo]
