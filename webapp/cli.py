"""The ``stockroute`` command line.

Each area keeps its commands in ``webapp/commands/<area>.py`` as a list
``commands``; this module only gathers them. Commands that need the database
run inside an app context (``flask.cli.with_appcontext``); the pure planning
commands (``route``, ``replenish``) need no app at all.
"""

from __future__ import annotations

import importlib

from flask.cli import FlaskGroup

from webapp import create_app

AREAS = ("db", "ledger", "data", "routing", "replenishment", "scenario", "access", "planning")


def _create_app(*_args, **_kwargs):
    return create_app()


main = FlaskGroup(
    name="stockroute",
    create_app=_create_app,
    load_dotenv=False,
    set_debug_flag=False,
    help="stockroute: inventory ledger, order routing and replenishment planning.",
)

for _area in AREAS:
    for _command in importlib.import_module(f"webapp.commands.{_area}").commands:
        main.add_command(_command)
