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


class _Commands(click.Group):
    """A click group whose commands are imported on first use."""

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
