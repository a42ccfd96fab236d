"""The ``stockroute`` command line.

Each area keeps its commands in ``webapp/commands/<area>.py`` as a list
``commands``; this module only gathers them. Commands that need the database
run inside an app context (``flask.cli.with_appcontext``); the pure planning
commands (``route``, ``replenish``) need no app at all.

An area's module is imported only when one of its commands runs (or when the
commands are listed): importing all of them took 1.4 s, so ``stockroute route``
started in 2.4 s before it read its input.
"""

from __future__ import annotations

import importlib

import click
from flask.cli import FlaskGroup

from webapp import create_app

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


def _create_app(*_args, **_kwargs):
    return create_app()


class _Commands(FlaskGroup):
    """FlaskGroup whose own commands are imported on first use."""

    def _load_area(self, area: str) -> None:
        for command in importlib.import_module(f"webapp.commands.{area}").commands:
            self.add_command(command)

    def get_command(self, ctx: click.Context, name: str):
        if name in COMMANDS and name not in self.commands:
            self._load_area(COMMANDS[name])
        return super().get_command(ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))


main = _Commands(
    name="stockroute",
    create_app=_create_app,
    load_dotenv=False,
    set_debug_flag=False,
    help="stockroute: inventory ledger, order routing and replenishment planning.",
)
