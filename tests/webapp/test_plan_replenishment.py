"""``stockroute plan-replenishment``: from the database to draft proposals, without duplicates."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from ledger.db import read_only, unit_of_work
from ledger.demo import build_demo_world, load_demo
from ledger.models import ExceptionItem, PurchaseOrder, PurchaseOrderLine
from webapp import create_app
from webapp.cli import main
from webapp.config import TestConfig
from webapp.services import purchasing


def run(app, *args):
    return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))


def drafts(sessions):
    with read_only(sessions) as s:
        return s.scalar(select(func.count(PurchaseOrder.id))
                        .where(PurchaseOrder.status == "draft"))


def test_plans_are_stored_as_drafts_and_a_second_plan_replaces_the_first(database_url, sessions):
    today = dt.date(2026, 11, 20)
    load_demo(sessions, build_demo_world(5, n_skus=30, today=today), today=today)
    app = create_app(TestConfig(DATABASE_URL=database_url))
    args = ["plan-replenishment", "--start", "2026-11-20", "--periods", "8",
            "--strategy", "minmax", "--time-limit", "5"]
    first = run(app, *args)
    assert first.exit_code == 0, first.output
    assert "stored" in first.output
    n = drafts(sessions)
    assert n > 0
    with read_only(sessions) as s:
        lines = s.execute(select(PurchaseOrderLine.qty_ordered, PurchaseOrder.expected_date)
                          .join(PurchaseOrder).where(PurchaseOrder.status == "draft")).all()
    assert all(q > 0 for q, _ in lines) and all(d >= dt.date(2026, 11, 20) for _, d in lines)
    second = run(app, *args)
    assert second.exit_code == 0 and drafts(sessions) == n  # replaced, not duplicated
    # Approving a proposal places it; the next plan keeps it and counts it as inbound.
    with read_only(sessions) as s:
        code = s.scalar(select(PurchaseOrder.code).where(PurchaseOrder.status == "draft")
                        .order_by(PurchaseOrder.code))
    with unit_of_work(sessions) as s:
        purchasing.approve(s, [code], actor="planner")
    third = run(app, *args)
    assert third.exit_code == 0
    with read_only(sessions) as s:
        assert s.scalar(select(PurchaseOrder.status).where(PurchaseOrder.code == code)) == "placed"
        dupes = s.execute(select(ExceptionItem.dedupe_key, func.count())
                          .group_by(ExceptionItem.dedupe_key).having(func.count() > 1)).all()
    assert dupes == []  # re-planning refreshed exceptions instead of repeating them


def drafted_units(sessions) -> dict[tuple[str, str], int]:
    """Units on draft purchase orders per (SKU, node)."""
    from ledger.models import Node, Sku
    with read_only(sessions) as s:
        rows = s.execute(select(Sku.code, Node.code, func.sum(PurchaseOrderLine.qty_ordered))
                         .select_from(PurchaseOrderLine).join(PurchaseOrder)
                         .join(Sku, Sku.id == PurchaseOrderLine.sku_id)
                         .join(Node, Node.id == PurchaseOrder.node_id)
                         .where(PurchaseOrder.status == "draft")
                         .group_by(Sku.code, Node.code)).all()
    return {(sku, node): int(q) for sku, node, q in rows}


def test_a_proposal_a_planner_edited_is_kept_and_counted_as_coming(database_url, sessions):
    # An edited draft is kept (it is the planner's now), but the next plan did not count
    # it: it proposed the same units again (HOM-0003 at 3PL-CENTRAL: 6,456 drafted, then
    # 9,960 after an edit that changed nothing).
    today = dt.date(2026, 11, 20)
    load_demo(sessions, build_demo_world(5, n_skus=30, today=today), today=today)
    app = create_app(TestConfig(DATABASE_URL=database_url))
    args = ["plan-replenishment", "--start", "2026-11-20", "--periods", "8",
            "--strategy", "minmax"]
    assert run(app, *args).exit_code == 0
    before = drafted_units(sessions)
    with read_only(sessions) as s:
        code = s.scalar(select(PurchaseOrder.code).where(PurchaseOrder.status == "draft")
                        .order_by(PurchaseOrder.code))
    with unit_of_work(sessions) as s:
        edited = purchasing.edit_proposal(s, code, [], actor="alice")
    again = run(app, *args)
    assert again.exit_code == 0, again.output
    with read_only(sessions) as s:
        assert s.scalar(select(PurchaseOrder.created_by)
                        .where(PurchaseOrder.code == code)) == "alice"     # kept
    pairs = {(line["sku"], edited["node"]) for line in edited["lines"]}
    after = drafted_units(sessions)
    for pair in pairs:
        assert after[pair] == before[pair], pair


def test_a_dry_run_stores_nothing(database_url, sessions):
    today = dt.date(2026, 11, 20)
    load_demo(sessions, build_demo_world(5, n_skus=20, today=today), today=today)
    app = create_app(TestConfig(DATABASE_URL=database_url))
    result = run(app, "plan-replenishment", "--start", "2026-11-20", "--dry-run",
                 "--strategy", "minmax", "--periods", "6")
    assert result.exit_code == 0 and "dry run" in result.output
    assert drafts(sessions) == 0


def test_the_status_line_says_what_the_status_means():
    from webapp.commands.planning import describe_status
    plan = {"objective": 1234.5, "bound": 1200.0, "gap": 0.0279}
    assert describe_status({**plan, "status": "feasible"}) == (
        "status feasible: the best plan found within the time limit, not proven optimal; "
        "objective 1,234.50, proven lower bound 1,200.00, at most 2.7900% above the optimum")
    assert describe_status({**plan, "status": "optimal", "bound": 1234.5, "gap": 0.0}) == (
        "status optimal (proven): objective 1,234.50")
    assert describe_status({**plan, "status": "minmax", "bound": 0.0}) == (
        "status minmax: the min/max rule's plan, no optimality bound; objective 1,234.50")


def test_the_summary_names_the_strategy_without_calling_the_plan_optimal(database_url,
                                                                         sessions):
    today = dt.date(2026, 11, 20)
    load_demo(sessions, build_demo_world(5, n_skus=20, today=today), today=today)
    app = create_app(TestConfig(DATABASE_URL=database_url))
    result = run(app, "plan-replenishment", "--start", "2026-11-20", "--dry-run",
                 "--strategy", "optimal", "--periods", "6", "--time-limit", "5")
    assert result.exit_code == 0, result.output
    # before the wait, it says what it is doing and for how long at most
    assert result.stderr.startswith("planning with the optimal strategy: reading the "
                                    "database and forecasting, then solving for up to 5 s")
    first, second = result.stdout.splitlines()[:2]
    assert first.startswith("planned with the optimal strategy in ")
    assert "optimal plan" not in result.output
    assert second.startswith("  status optimal (proven)") or second.startswith(
        "  status feasible: the best plan found within the time limit, not proven optimal")


def test_a_time_limit_or_service_level_that_is_not_a_number_is_a_usage_error(database_url,
                                                                              sessions):
    # click's FloatRange lets nan through (it compares false with both ends): the service
    # level then failed in the safety-stock formula with a traceback.
    today = dt.date(2026, 11, 20)
    load_demo(sessions, build_demo_world(5, n_skus=10, today=today), today=today)
    app = create_app(TestConfig(DATABASE_URL=database_url))
    for option in ("--service-level", "--time-limit"):
        result = run(app, "plan-replenishment", "--start", "2026-11-20", "--periods", "6",
                     "--strategy", "minmax", "--dry-run", option, "nan")
        assert result.exit_code == 2, result.output
        assert option in result.output and "not a finite number" in result.output
        assert not isinstance(result.exception, ValueError)


def test_reoptimize_refuses_a_time_limit_that_is_not_a_number(database_url, sessions):
    # the same hole in stockroute reoptimize: nan passed its FloatRange and reached the
    # solver as a time limit
    today = dt.date(2026, 11, 20)
    load_demo(sessions, build_demo_world(5, n_skus=10, today=today), today=today)
    app = create_app(TestConfig(DATABASE_URL=database_url))
    result = run(app, "reoptimize", "--dry-run", "--time-limit", "nan")
    assert result.exit_code == 2, result.output
    assert "--time-limit" in result.output and "not a finite number" in result.output
    result = run(app, "reoptimize", "--dry-run", "--time-limit", "inf")   # out of range
    assert result.exit_code == 2 and "--time-limit" in result.output, result.output
