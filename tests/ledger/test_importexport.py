"""CSV import and export: every kind round-trips; bad files change nothing."""

from __future__ import annotations

import io

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from ledger import importexport, queries
from ledger.audit import audit
from ledger.db import read_only, unit_of_work
from ledger.demo import build_demo_world, load_demo
from ledger.errors import ImportErrors
from ledger.models import Lane, Node, Sku
from webapp import create_app
from webapp.cli import main
from webapp.config import TestConfig

KINDS = ["skus", "nodes", "lanes", "channels", "suppliers", "supplier_items", "stock"]


def do_import(sessions, kind, text):
    rows = importexport.parse(kind, io.StringIO(text))
    with unit_of_work(sessions) as s:
        return importexport.import_rows(s, kind, rows)


def export(sessions, kind):
    with read_only(sessions) as s:
        return importexport.export(s, kind)


@pytest.fixture
def small_world(sessions):
    load_demo(sessions, build_demo_world(3, n_skus=20))
    return sessions


def test_every_kind_round_trips_through_export_and_import(small_world):
    sessions = small_world
    before = {kind: export(sessions, kind) for kind in KINDS}
    for kind in KINDS:
        do_import(sessions, kind, before[kind])
    assert {kind: export(sessions, kind) for kind in KINDS} == before
    with read_only(sessions) as s:
        assert audit(s).clean


def test_a_bad_file_reports_each_row_and_field_and_changes_nothing(small_world):
    sessions = small_world
    with read_only(sessions) as s:
        nodes_before = s.scalar(select(func.count(Node.id)))
    text = ("code,name,kind,region,capacity_units_per_day\n"
            "N-OK,fine,store,NE,10\n"
            "N-BAD,bad kind,moon,NE,10\n"
            ",no code,store,NE,-5\n"
            "N-OK,again,store,NE,1\n")
    with pytest.raises(ImportErrors) as err:
        do_import(sessions, "nodes", text)
    found = {(e["row"], e["field"]) for e in err.value.errors}
    assert {(3, "kind"), (4, "code"), (4, "capacity_units_per_day"), (5, "code")} <= found
    assert (2, "code") not in found
    with read_only(sessions) as s:
        assert s.scalar(select(func.count(Node.id))) == nodes_before


def test_unknown_references_and_columns_are_reported(small_world):
    sessions = small_world
    with pytest.raises(ImportErrors) as err:
        do_import(sessions, "lanes", "node,region,service,transit_days\nNOWHERE,NE,standard,2\n")
    assert err.value.errors == [{"row": 2, "field": "node", "message": "unknown node 'NOWHERE'"}]
    with pytest.raises(ImportErrors) as err:
        do_import(sessions, "skus", "code,name,colour\nX,x,red\n")
    assert err.value.errors[0] == {"row": 1, "field": "colour", "message": "unknown column"}
    with pytest.raises(ImportErrors) as err:
        do_import(sessions, "supplier_items", "supplier,sku\nSUP-EU,X\n")
    assert {"row": 1, "field": "unit_cost", "message": "required column is missing"} in \
        err.value.errors
    with read_only(sessions) as s:
        assert s.scalar(select(func.count(Lane.id))) == len(build_demo_world(3, n_skus=20).lanes)


def test_a_stock_import_posts_count_movements_to_reach_the_counted_numbers(small_world):
    sessions = small_world
    with read_only(sessions) as s:
        sku = s.scalar(select(Sku.code).order_by(Sku.code))
        before = {b.node: b.available for b in queries.balances(s, sku=sku)}
    counted = before.get("DC-EAST", 0) + 7
    do_import(sessions, "stock", f"sku,node,available\n{sku},DC-EAST,{counted}\n{sku},DC-WEST,0\n")
    with read_only(sessions) as s:
        after = {b.node: b.available for b in queries.balances(s, sku=sku)}
        kinds = {m["kind"] for m in queries.history(s, sku, "DC-WEST", limit=5)}
        assert audit(s).clean
    assert after["DC-EAST"] == before.get("DC-EAST", 0) + 7
    assert after["DC-WEST"] == 0
    if before.get("DC-WEST"):
        assert "count_loss" in kinds


def test_a_file_that_is_not_csv_is_refused():
    with pytest.raises(ImportErrors):
        importexport.parse("skus", io.StringIO(""))
    with pytest.raises(ImportErrors) as err:
        importexport.parse("widgets", io.StringIO("a\n1\n"))
    assert err.value.errors[0]["field"] == "kind"


def test_amounts_and_counts_beyond_what_the_database_holds_are_row_errors():
    text = ("code,name,unit_cost,case_pack\n"
            "A,a,12345678901.5,1\n"
            "B,b,1.23456,1\n"
            "C,c,NaN,99999999999\n")
    with pytest.raises(ImportErrors) as err:
        importexport.parse("skus", io.StringIO(text))
    found = {(e["row"], e["field"]) for e in err.value.errors}
    assert found == {(2, "unit_cost"), (3, "unit_cost"), (4, "unit_cost"), (4, "case_pack")}


def test_a_hopeless_file_is_reported_in_part():
    text = "code,name\n" + "".join(f"S{i},\n" for i in range(importexport.MAX_ERRORS + 50))
    with pytest.raises(ImportErrors) as err:
        importexport.parse("skus", io.StringIO(text))
    assert len(err.value.errors) == importexport.MAX_ERRORS + 1
    assert err.value.errors[-1]["field"] == "file"


def invoke(app, args, stdin=None):
    return CliRunner().invoke(main, args, input=stdin, obj=ScriptInfo(create_app=lambda: app))


def test_a_bad_file_prints_one_line_per_error_exits_1_and_changes_nothing(
        tmp_path, database_url, sessions):
    app = create_app(TestConfig(DATABASE_URL=database_url))
    bad = tmp_path / "nodes.csv"
    bad.write_text("code,name,kind,region\nN1,ok,store,NE\nN2,bad,moon,NE\nN3,,store,\n")
    result = invoke(app, ["import", "nodes", str(bad)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines() if hasattr(result, "stderr") else result.output.splitlines()
    assert "row 3, kind: Input should be 'warehouse', '3pl', 'store' or 'dropship'" in lines
    assert any(l.startswith("row 4, name:") for l in lines)
    assert any(l.startswith("row 4, region:") for l in lines)
    with read_only(sessions) as s:
        assert s.scalar(select(func.count(Node.id))) == 0
    unknown = invoke(app, ["import", "stock", "-"], stdin="sku,node,available\nX,Y,3\n")
    assert unknown.exit_code == 1
    assert "row 2, sku: unknown sku 'X'" in unknown.output


def test_a_file_larger_than_the_limit_is_refused_before_parsing(monkeypatch):
    monkeypatch.setattr(importexport, "MAX_BYTES", 100)
    with pytest.raises(ImportErrors) as err:
        importexport.parse("skus", io.StringIO("code,name\n" + "A,a\n" * 40))
    assert err.value.errors[0]["field"] == "file" and "limited" in err.value.errors[0]["message"]
