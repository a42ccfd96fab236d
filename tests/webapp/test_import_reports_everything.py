"""``stockroute import``: one run reports field errors and unknown references together."""

from __future__ import annotations

from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from ledger import queries
from ledger.db import read_only
from ledger.models import Lane, Sku
from tests.ledger.helpers import make_world
from webapp import create_app
from webapp.cli import main
from webapp.config import TestConfig


def invoke(app, args, stdin=None):
    return CliRunner().invoke(main, args, input=stdin, obj=ScriptInfo(create_app=lambda: app))


def test_import_stock_reports_field_and_reference_errors_in_one_run(database_url, sessions):
    app = create_app(TestConfig(DATABASE_URL=database_url))
    make_world(sessions, skus=("A", "B"), nodes=("N1",))
    text = ("sku,node,available\n"
            "A,N1,5\n"          # row 2: fine
            "A,NOPE,3\n"        # row 3: unknown node
            "B,N1,-1\n"         # row 4: a field error
            "ZZ,N1,2\n"         # row 5: unknown SKU
            "A,N1,7\n")         # row 6: a duplicate of row 2
    result = invoke(app, ["import", "stock", "-"], stdin=text)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[:-1] == ["row 3, node: unknown node 'NOPE'",
                          "row 4, available: Input should be greater than or equal to 0",
                          "row 5, sku: unknown sku 'ZZ'",
                          "row 6, sku: duplicate of row 2"]
    assert lines[-1] == "4 error(s); nothing was imported"
    with read_only(sessions) as s:
        assert all(b.available == 0 for b in queries.balances(s))


def test_import_lanes_checks_references_of_valid_rows_despite_a_bad_one(database_url, sessions):
    app = create_app(TestConfig(DATABASE_URL=database_url))
    make_world(sessions, nodes=("N1",))
    text = ("node,region,service,transit_days\n"
            "\"N2\",NE,standard,2\n"
            "N1,,standard,x\n")
    result = invoke(app, ["import", "lanes", "-"], stdin=text)
    assert result.exit_code == 1
    assert "row 2, node: unknown node 'N2'" in result.stderr
    assert "row 3, region: Field required" in result.stderr
    assert "row 3, transit_days:" in result.stderr
    with read_only(sessions) as s:
        assert s.scalar(select(func.count(Lane.id))) == 0


def test_a_bad_header_is_reported_alone_and_a_clean_file_still_imports(database_url, sessions):
    app = create_app(TestConfig(DATABASE_URL=database_url))
    make_world(sessions, skus=("A",), nodes=("N1",))
    result = invoke(app, ["import", "stock", "-"], stdin="sku,node,avail\nA,NOPE,1\n")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[:2] == ["row 1, avail: unknown column",
                                              "row 1, available: required column is missing"]
    result = invoke(app, ["import", "stock", "-"], stdin="sku,node,available\nA,N1,4\n")
    assert result.exit_code == 0, result.output
    with read_only(sessions) as s:
        assert queries.balances(s, sku="A", node="N1")[0].available == 4


def test_a_nul_character_in_a_cell_is_a_row_error_not_a_traceback(database_url, sessions):
    # PostgreSQL cannot store NUL in text: this was a traceback there, and stored on SQLite
    app = create_app(TestConfig(DATABASE_URL=database_url))
    text = ("code,name\n"
            "A,fine\n"
            "B\x00X,bad code\n"          # row 3
            "C,bad\x00name\n")           # row 4
    result = invoke(app, ["import", "skus", "-"], stdin=text)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines == ["row 3, code: Value error, must not contain a NUL character",
                     "row 4, name: Value error, must not contain a NUL character",
                     "2 error(s); nothing was imported"]
    with read_only(sessions) as s:
        assert s.scalar(select(func.count()).select_from(Sku)) == 0
