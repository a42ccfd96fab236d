"""The ``stockroute`` command line.

Each area keeps its commands in ``webapp/commands/<area>.py`` as a list
``commands``; this module only gathers them. Commands that need the database
run inside an app context (``flask.cli.with_appcontext``, given the app
factory through click's ``obj``); the pure planning commands (``route``,
``replenish``) need no app at all.

An area's module is imported only when one of its commands runs: importing
all of them took 1.4 s, so ``stockroute route`` started in 2.4 s before it read
its input. ``stockroute --help`` lists the commands from ``COMMANDS`` and
``SUMMARIES`` without importing any area (a test keeps both in step with the
modules). The group is a plain click group, not Flask's ``FlaskGroup``:
Flask's own ``run``, ``routes`` and ``shell`` and its ``--app``/``--env-file``
options are not stockroute's (serve with gunicorn, see README.md).
"""

from __future__ import annotations

import importlib
import os
import sys

import click
from flask.cli import ScriptInfo

# command name -> the area module (webapp/commands/<area>.py) that defines it; a test
# checks this against the modules' ``commands`` lists
COMMANDS = {
    "db": "db",
    "ledger": "ledger",
    "import": "data", "export": "data", "demo": "data",
    "route": "routing",
    "replenish": "replenishment",
    "scenario": "scenario",
    "users": "access", "tokens": "access",
    "plan-replenishment": "planning", "reoptimize": "planning",
}
AREAS = tuple(dict.fromkeys(COMMANDS.values()))

# command name -> its short help, as ``stockroute --help`` lists it (a test checks
# these against the commands' own help)
SUMMARIES = {
    "db": "Create or upgrade the database schema.",
    "ledger": "Inspect and post to the inventory ledger.",
    "import": "Import a CSV FILE of KIND ('-' reads stdin).",
    "export": "Write KIND as CSV, in the format ``import`` reads.",
    "demo": "Load the seeded demo world into an empty database (does nothing if it has data).",
    "route": "Route a batch of orders: read a routing problem, write the plan.",
    "replenish": "Plan purchase orders: read a replenishment problem, write the plan.",
    "scenario": "Run and compare what-if simulations.",
    "users": "Manage user accounts.",
    "tokens": "Create, list and revoke API tokens.",
    "plan-replenishment": "Forecast demand from order history, plan POs under lead times, "
                          "capacities, MOQs and case packs, and store them as drafts "
                          "(replacing the planner's previous untouched drafts).",
    "reoptimize": "Re-plan all open, unreleased orders and backorders together with the "
                  "batch optimizer and apply the result atomically (release and re-reserve).",
}


def _create_app(*_args, **_kwargs):
    from webapp import create_app
    return create_app()


URL_FORMS = ("sqlite:///path/file.sqlite3 or postgresql+psycopg://user@host:5432/db")


def _shown_url(ctx: click.Context) -> str:
    """The app's ``DATABASE_URL``, with any password hidden."""
    try:
        raw = ctx.ensure_object(ScriptInfo).load_app().config["DATABASE_URL"]
    except Exception:  # noqa: BLE001 - the app is loaded already when its database failed
        raw = os.environ.get("DATABASE_URL", "")
    try:
        from sqlalchemy.engine import make_url
        return make_url(raw).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparseable URL is shown as it was given
        return raw


def database_problem(exc: BaseException, url: str) -> str | None:
    """A one-line explanation of a database error that is the setup's, not the command's:
    a URL that cannot be used, a database that cannot be reached, or one without the
    schema. ``None`` for anything else (it keeps its traceback: that is a bug)."""
    from ledger.db import setup_problem

    problem = setup_problem(exc)
    first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
    if problem == "url":
        return (f"error (DATABASE_URL): cannot use {url!r} ({exc.__class__.__name__}: "
                f"{first}); give {URL_FORMS}")
    if problem == "no_schema":
        return (f"error (database): {url} has no stockroute schema, or an older one "
                f"({first}); run `stockroute db upgrade` first")
    if problem == "unreachable":
        return f"error (DATABASE_URL): cannot connect to {url}: {first}"
    return None


class _Commands(click.Group):
    """A click group whose commands are imported on first use."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except Exception as exc:  # noqa: BLE001 - only the database's setup errors are caught
            message = database_problem(exc, _shown_url(ctx))
            if message is None:
                raise
            click.echo(message, err=True)
            sys.exit(1)

    def _load_area(self, area: str) -> None:
        for command in importlib.import_module(f"webapp.commands.{area}").commands:
            self.add_command(command)

    def get_command(self, ctx: click.Context, name: str):
        if name in COMMANDS and name not in self.commands:
            self._load_area(COMMANDS[name])
        return super().get_command(ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            # a stand-in carrying the summary: listing must not import the area
            command = (click.Command(name, help=SUMMARIES[name]) if name in SUMMARIES
                       and name not in self.commands else self.get_command(ctx, name))
            rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def main(self, *args, **kwargs):
        # with_appcontext finds the app factory in the context object
        kwargs.setdefault("obj", ScriptInfo(create_app=_create_app, set_debug_flag=False,
                                            load_dotenv_defaults=False))
        return super().main(*args, **kwargs)


main = _Commands(
    name="stockroute",
    help="stockroute: inventory ledger, order routing and replenishment planning.",
)
