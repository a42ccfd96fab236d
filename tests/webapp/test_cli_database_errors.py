"""A database the command line cannot use — no schema yet, unreachable, or a URL it
cannot parse — is a one-line error naming what to do and exit 1, never a traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo

from webapp import create_app
from webapp.cli import main
from webapp.config import TestConfig


def invoke(database_url: str, args: list[str]):
    app = create_app(TestConfig(DATABASE_URL=database_url))
    try:
        return CliRunner().invoke(main, args, obj=ScriptInfo(create_app=lambda: app))
    finally:
        engine = app.extensions["stockroute.db"]["engine"]
        if engine is not None:
            engine.dispose()


def assert_clean_error(result, *needles: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    for needle in needles:
        assert needle in result.stderr, result.stderr


@pytest.mark.parametrize("args", [["ledger", "audit"], ["ledger", "balances"],
                                  ["export", "skus"], ["tokens", "list"]])
def test_a_database_without_the_schema_says_to_run_db_upgrade(database_url, args):
    assert invoke(database_url, ["db", "downgrade", "base"]).exit_code == 0
    result = invoke(database_url, args)
    assert_clean_error(result, "stockroute db upgrade")
    # and once upgraded the same command works
    assert invoke(database_url, ["db", "upgrade"]).exit_code == 0
    assert invoke(database_url, args).exit_code == 0


def test_importing_into_a_database_without_the_schema(database_url, tmp_path):
    assert invoke(database_url, ["db", "downgrade", "base"]).exit_code == 0
    csv = tmp_path / "skus.csv"
    csv.write_text("code,name\nA,a\n")
    assert_clean_error(invoke(database_url, ["import", "skus", str(csv)]),
                       "stockroute db upgrade")


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://nobody@127.0.0.1:1/none",      # nothing listens on port 1
    "sqlite:////nonexistent-folder/sub/stockroute.sqlite3",
])
def test_an_unreachable_database_names_the_url_not_a_traceback(url):
    result = invoke(url, ["ledger", "audit"])
    assert_clean_error(result, "DATABASE_URL", "cannot connect", url)


@pytest.mark.parametrize("url", ["garbage", "mysql://user@host/db"])
def test_a_url_that_is_not_usable_names_the_setting(url):
    result = invoke(url, ["db", "upgrade"])
    assert_clean_error(result, "DATABASE_URL", "postgresql+psycopg://", repr(url))


def test_a_password_in_the_url_is_not_printed():
    result = invoke("postgresql+psycopg://nobody:s3cret@127.0.0.1:1/none", ["ledger", "audit"])
    assert_clean_error(result, "cannot connect", "nobody:***@127.0.0.1:1/none")
    assert "s3cret" not in result.output
