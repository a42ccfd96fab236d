"""The audit sees drift between balances and the documents that own them, and
``stockroute ledger post`` does not create it by accident."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ledger import queries
from ledger.audit import audit
from ledger.db import read_only, unit_of_work
from ledger.movements import Movement
from ledger.posting import post
from tests.webapp.test_cli_and_pages import Cli
from tests.webapp.test_orders_service import submit, world
from webapp.services import orders as svc
from webapp.services.routing_engine import route_problem


def _audit(sessions):
    with read_only(sessions) as s:
        return audit(s)


def _reserved(sessions, sku="A", node="N1"):
    with read_only(sessions) as s:
        (b,) = queries.balances(s, sku=sku, node=node)
    return b.reserved


def test_the_order_lifecycle_keeps_the_audit_clean(sessions):
    world(sessions, {("A", "N1"): 10, ("A", "N2"): 10, ("B", "N2"): 3})
    submit(sessions, "SO-1", [("A", 2), ("B", 1)])
    submit(sessions, "SO-2", [("A", 3)])
    submit(sessions, "SO-3", [("B", 5)])  # partly backordered
    assert _audit(sessions).clean, _audit(sessions).differences
    with unit_of_work(sessions) as s:
        svc.release_order(s, "SO-1", actor="ops")
    with unit_of_work(sessions) as s:
        svc.cancel_order(s, "SO-2", actor="ops")
    with unit_of_work(sessions) as s:
        svc.reoptimize(s, router=route_problem, actor="planner")
    assert _audit(sessions).clean, _audit(sessions).differences
    view = submit(sessions, "SO-4", [("A", 1)])
    with unit_of_work(sessions) as s:
        svc.ship_shipment(s, "SO-4", view["shipments"][0]["id"], actor="ops")
    assert _audit(sessions).clean, _audit(sessions).differences


def test_the_audit_reports_reserved_units_no_open_shipment_holds(app, sessions):
    """The reported case: a release posted around the order leaves reserved 4
    backing 5 units of planned shipments; the audit must say so."""
    world(sessions, {("A", "N1"): 10})
    submit(sessions, "SO-1", [("A", 5)])
    assert _reserved(sessions) == 5
    with unit_of_work(sessions) as s:
        post(s, [Movement("release", "A", 1, "N1", doc_type="manual")])
    report = _audit(sessions)
    assert [str(d) for d in report.differences] == [
        "A@N1 reserved: balance 4, open shipments 5 (diff -1)"]
    result = Cli(app).invoke(args=["ledger", "audit"])
    assert result.exit_code == 1
    assert "A@N1 reserved: balance 4, open shipments 5 (diff -1)" in result.output
    with unit_of_work(sessions) as s:  # the other way: reserved with no order behind it
        post(s, [Movement("reserve", "A", 3, "N1", doc_type="manual")])
    assert [str(d) for d in _audit(sessions).differences] == [
        "A@N1 reserved: balance 7, open shipments 5 (diff +2)"]


def test_the_audit_reports_inbound_that_differs_from_the_units_in_transit(app, sessions):
    world(sessions, {("A", "N1"): 10})
    with unit_of_work(sessions) as s:
        post(s, [Movement("transfer_out", "A", 4, "N1", to_node="N2")])
    assert _audit(sessions).clean
    with unit_of_work(sessions) as s:  # tamper: inbound loses units behind the journal's back
        s.execute(text("UPDATE stock_positions SET inbound = 1"
                       " WHERE node_id = (SELECT id FROM nodes WHERE code = 'N2')"))
    assert [str(d) for d in _audit(sessions).differences] == [
        "A@N2 inbound: balance 1, journal 4 (diff -3)",
        "A@N2 inbound: balance 1, open purchase orders 0 + in transit 4 = 4 (diff -3)"]
    with read_only(sessions) as s:  # without documents: at least the units in transit
        assert [str(d) for d in audit(s, documents=False).differences] == [
            "A@N2 inbound: balance 1, journal 4 (diff -3)",
            "A@N2 inbound: balance 1 is below the 4 unit(s) in transit to it (short 3)"]
    result = Cli(app).invoke(args=["ledger", "audit"])
    assert result.exit_code == 1 and "in transit 4 = 4 (diff -3)" in result.output


@pytest.mark.parametrize("kind", ["reserve", "release", "ship", "po_placed", "receive",
                                  "po_cancelled", "return_received", "restock", "scrap",
                                  "quarantine"])
def test_ledger_post_refuses_kinds_that_documents_own(app, sessions, kind):
    world(sessions, {("A", "N1"): 10})
    submit(sessions, "SO-1", [("A", 5)])
    result = Cli(app).invoke(args=["ledger", "post", kind, "A", "1", "N1"])
    assert result.exit_code == 2, result.output
    assert f"{kind} belongs to a document" in result.output and "--force" in result.output
    assert _reserved(sessions) == 5
    assert _audit(sessions).clean


def test_ledger_post_names_the_order_flow_and_force_posts_anyway(app, sessions):
    world(sessions, {("A", "N1"): 10})
    submit(sessions, "SO-1", [("A", 5)])
    cli = Cli(app)
    refused = cli.invoke(args=["ledger", "post", "release", "A", "1", "N1"])
    assert "/orders/{id}/cancel" in refused.output and _reserved(sessions) == 5
    forced = cli.invoke(args=["ledger", "post", "release", "A", "1", "N1", "--force"])
    assert forced.exit_code == 0, forced.output
    assert _reserved(sessions) == 4
    assert cli.invoke(args=["ledger", "audit"]).exit_code == 1


@pytest.mark.parametrize("args", [["count_gain", "A", "2", "N1"], ["count_loss", "A", "1", "N1"],
                                  ["hold", "A", "1", "N1"],
                                  ["transfer_out", "A", "1", "N1", "--to-node", "N2"]])
def test_ledger_post_still_takes_counts_holds_and_transfers(app, sessions, args):
    world(sessions, {("A", "N1"): 10})
    result = Cli(app).invoke(args=["ledger", "post", *args])
    assert result.exit_code == 0, result.output
    assert _audit(sessions).clean
