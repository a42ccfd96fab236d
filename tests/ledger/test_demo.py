"""The demo world: deterministic, realistic, and loaded with a clean audit."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from ledger import queries
from ledger.audit import audit
from ledger.db import read_only
from ledger.demo import HISTORY_DAYS, build_demo_world, load_demo
from ledger.models import DailyDemand, Node, PurchaseOrder, Return, Sku, Supplier
from webapp import create_app
from webapp.cli import main
from webapp.config import TestConfig


def test_the_same_seed_gives_the_same_world_and_another_seed_another():
    assert build_demo_world(7) == build_demo_world(7)
    assert build_demo_world(7).history != build_demo_world(8).history


def test_the_world_has_the_promised_shape():
    w = build_demo_world(7)
    kinds = sorted(n["kind"] for n in w.nodes)
    assert kinds == ["3pl", "dropship", "store", "store", "store", "store", "warehouse",
                     "warehouse"]
    assert len(w.skus) == 500 and len({s["category"] for s in w.skus}) == 8
    assert len(w.suppliers) == 5
    assert len({s["lead_time_days"] for s in w.suppliers}) == 5
    assert {l["region"] for l in w.lanes} == {"NE", "SE", "MW", "SW", "W", "NW", "S", "C"}
    assert {l["service"] for l in w.lanes} == {"standard", "express"}
    days = sorted({h[3] for h in w.history})
    assert len(days) == HISTORY_DAYS
    # Skewed popularity: the top 10% of SKUs sell well over a third of the units.
    units: dict[str, int] = {}
    for sku, *_rest, u, _o in w.history:
        units[sku] = units.get(sku, 0) + u
    top = sorted(units.values(), reverse=True)
    assert sum(top[:50]) > 0.35 * sum(top)
    # Weekly pattern: Saturdays sell more than Sundays.
    by_weekday = [0] * 7
    for _s, _n, _c, day, u, _o in w.history:
        by_weekday[day.weekday()] += u
    assert by_weekday[5] > by_weekday[6] * 1.3


def test_the_demo_loads_with_open_pos_returns_in_inspection_and_a_clean_audit(sessions):
    world = build_demo_world(7)
    counts = load_demo(sessions, world)
    with read_only(sessions) as s:
        assert s.scalar(select(func.count(Sku.id))) == 500
        assert s.scalar(select(func.count(Node.id))) == 8
        assert s.scalar(select(func.count(Supplier.id))) == 5
        assert s.scalar(select(func.count(PurchaseOrder.id))
                        .where(PurchaseOrder.status == "placed")) == counts["purchase_orders"] > 0
        assert s.scalar(select(func.count(Return.id))) == counts["returns"] > 0
        days = s.scalar(select(func.count(func.distinct(DailyDemand.day))))
        assert days == HISTORY_DAYS
        inspection = sum(b.inspection for b in queries.balances(s))
        inbound = sum(b.inbound for b in queries.balances(s))
        assert inspection == sum(r["qty"] for r in world.returns)
        assert inbound == sum(l["qty"] for po in world.purchase_orders for l in po["lines"])
        report = audit(s)
    assert report.clean and report.positions_checked > 3000


def invoke(app, args, stdin=None):
    return CliRunner().invoke(main, args, input=stdin, obj=ScriptInfo(create_app=lambda: app))


def count(sessions, model):
    with read_only(sessions) as s:
        return s.scalar(select(func.count()).select_from(model))


def test_demo_loads_once_then_export_and_import_round_trip_on_the_command_line(
        tmp_path, database_url, sessions):
    app = create_app(TestConfig(DATABASE_URL=database_url))
    result = invoke(app, ["demo", "--seed", "3", "--skus", "30", "--today", "2026-03-01"])
    assert result.exit_code == 0, result.output
    assert "30 skus" in result.output and "8 nodes" in result.output
    with read_only(sessions) as s:
        assert s.scalar(select(func.max(DailyDemand.day))) == dt.date(2026, 2, 28)
        assert audit(s).clean
    again = invoke(app, ["demo"])
    assert again.exit_code == 0 and "already" in again.output
    assert count(sessions, Sku) == 30

    out = tmp_path / "nodes.csv"
    assert invoke(app, ["export", "nodes", "--output", str(out)]).exit_code == 0
    assert out.read_text().splitlines()[0].startswith("code,name,kind,region")
    stdout = invoke(app, ["export", "nodes"])
    assert stdout.output == out.read_text()
    back = invoke(app, ["import", "nodes", "-"], stdin=stdout.output)
    assert back.exit_code == 0, back.output
    assert "imported 8 nodes row(s)" in back.output


def test_a_demo_load_that_fails_part_way_leaves_the_database_empty(sessions):
    world = build_demo_world(5, n_skus=12)
    broken = replace(world, orders=world.orders + [{**world.orders[0], "code": "SO-BAD",
                                                    "channel": "no-such-channel"}])
    with pytest.raises(KeyError):
        load_demo(sessions, broken)
    with read_only(sessions) as s:
        assert s.scalar(select(func.count(Sku.id))) == 0
        assert s.scalar(select(func.count(DailyDemand.day))) == 0
    load_demo(sessions, world)
    with read_only(sessions) as s:
        assert s.scalar(select(func.count(Sku.id))) == 12
