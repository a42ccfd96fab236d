"""The CLI and the overview page, driven as a user would."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from ledger.db import unit_of_work
from tests.ledger.helpers import make_world
from click.testing import CliRunner
from flask.cli import ScriptInfo

from webapp import create_app
from webapp.cli import main
from webapp.config import TestConfig


@pytest.fixture
def app(database_url):
    return create_app(TestConfig(DATABASE_URL=database_url))


class Cli:
    """Runs the real ``stockroute`` command group against the test app."""

    def __init__(self, app):
        self.app = app

    def invoke(self, args):
        info = ScriptInfo(create_app=lambda: self.app)
        return CliRunner().invoke(main, args, obj=info)




def test_db_upgrade_reports_the_revision(app):
    result = Cli(app).invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    from alembic.script import ScriptDirectory
    from ledger.migrate import MIGRATIONS
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert f"revision {head}" in result.output


def test_ledger_post_then_balances_then_audit(app, sessions):
    make_world(sessions)
    cli = Cli(app)
    result = cli.invoke(args=["ledger", "post", "count_gain", "A", "7", "N1", "--key", "k1"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["replayed"] is False
    again = cli.invoke(args=["ledger", "post", "count_gain", "A", "7", "N1", "--key", "k1"])
    assert json.loads(again.output)["replayed"] is True
    rows = [json.loads(line) for line in
            cli.invoke(args=["ledger", "balances", "--sku", "A"]).output.splitlines()]
    assert rows == [{"sku": "A", "node": "N1", "available": 7, "reserved": 0, "hold": 0,
                     "inspection": 0, "inbound": 0, "on_hand": 7}]
    audit = cli.invoke(args=["ledger", "audit"])
    assert audit.exit_code == 0 and "audit clean" in audit.output


def test_ledger_post_refuses_a_shortage_with_the_field_and_a_non_zero_exit(app, sessions):
    make_world(sessions)
    result = Cli(app).invoke(args=["ledger", "post", "count_loss", "A", "1", "N1"])
    assert result.exit_code == 1
    assert "insufficient stock" in result.output and "A@N1" in result.output


def test_the_audit_finds_a_balance_changed_behind_the_journal(app, sessions):
    make_world(sessions, stock=5)
    with unit_of_work(sessions) as s:  # tamper: the journal still says 5
        s.execute(text("UPDATE stock_positions SET available = 4 WHERE node_id ="
                       " (SELECT id FROM nodes WHERE code = 'N2')"
                       " AND sku_id = (SELECT id FROM skus WHERE code = 'B')"))
    result = Cli(app).invoke(args=["ledger", "audit"])
    assert result.exit_code == 1
    assert "B@N2 available: balance 4, journal 5" in result.output


def _reader(sessions) -> dict:
    from ledger.access import create_token
    with unit_of_work(sessions) as s:
        _, plaintext = create_token(s, "pages", "inventory:read")
    return {"Authorization": f"Bearer {plaintext}"}


def test_the_overview_page_lists_nodes_and_stock(app, sessions):
    make_world(sessions, stock=3)
    page = app.test_client().get("/", headers=_reader(sessions))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "N1" in html and "N2" in html and "node N1" in html


def test_the_overview_page_on_an_empty_database_says_how_to_load_data(app, sessions):
    html = app.test_client().get("/", headers=_reader(sessions)).get_data(as_text=True)
    assert "stockroute demo" in html


def test_balances_as_of_takes_the_instants_that_history_prints(app, sessions):
    """``ledger history`` prints ``created_at`` in ISO 8601 with microseconds; that very
    instant (or one with a ``Z``) is a valid ``--as-of``, and it includes the movement."""
    make_world(sessions)
    cli = Cli(app)
    assert cli.invoke(["ledger", "post", "count_gain", "A", "7", "N1"]).exit_code == 0
    assert cli.invoke(["ledger", "post", "count_gain", "A", "2", "N1"]).exit_code == 0
    newest, oldest = [json.loads(line) for line in
                      cli.invoke(["ledger", "history", "A", "N1"]).output.splitlines()]
    for row, available in ((oldest, 7), (newest, 9)):
        stamp = row["created_at"]
        assert stamp.endswith("+00:00"), stamp
        for given in (stamp, stamp.replace("+00:00", "Z")):
            result = cli.invoke(["ledger", "balances", "--sku", "A", "--node", "N1",
                                 "--as-of", given])
            assert result.exit_code == 0, result.output
            assert json.loads(result.output)["available"] == available
    result = cli.invoke(["ledger", "balances", "--as-of", "2026-11-01T12:00:00"])
    assert result.exit_code == 2 and "UTC offset" in result.output
    result = cli.invoke(["ledger", "balances", "--as-of", "yesterday"])
    assert result.exit_code == 2 and "--as-of" in result.output


def test_an_as_of_past_the_last_utc_datetime_is_a_usage_error(app, sessions):
    make_world(sessions)
    result = Cli(app).invoke(["ledger", "balances", "--as-of", "9999-12-31T23:59:59-14:00"])
    assert result.exit_code == 2, result.output
    assert "--as-of" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("args", [
    ["demo", "--today", "0001-01-05", "--skus", "10"],
    ["demo", "--today", "9999-12-31", "--skus", "10"],
    ["plan-replenishment", "--start", "0001-01-10", "--periods", "4", "--dry-run"],
    ["plan-replenishment", "--start", "9999-12-01", "--periods", "4", "--dry-run"],
])
def test_a_day_outside_the_calendar_the_commands_can_reach_is_a_usage_error(app, args):
    # their dates run a year of history back and a horizon ahead: at either end of the
    # calendar that overflowed with a traceback
    result = Cli(app).invoke(args)
    assert result.exit_code == 2, result.output
    option = args[1]
    assert option in result.output and "1970-01-01" in result.output
    assert "Traceback" not in result.output
