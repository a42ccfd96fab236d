"""Purchasing, warehouse postings and the exceptions queue, on real databases."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger import master, queries
from ledger.audit import audit
from ledger.db import read_only, unit_of_work
from ledger.errors import InsufficientStock, LedgerError
from ledger.models import Node, PurchaseOrder, PurchaseOrderLine, Sku, Supplier
from webapp.services import exceptions as exc_svc
from webapp.services import inventory as inv
from webapp.services import purchasing as po_svc
from webapp.services.orders import InvalidTransition
from tests.ledger.helpers import make_world

D = dt.date(2026, 12, 1)


def draft(sessions, code="PROP-1", lines=(("A", 10), ("B", 5)), node="N1"):
    with unit_of_work(sessions) as s:
        sup = s.query(Supplier).filter_by(code="S1").one_or_none()
        if sup is None:
            sup = Supplier(code="S1", name="s", lead_time_days=7)
            s.add(sup)
            s.flush()
        node = s.query(Node).filter_by(code=node).one()
        po = PurchaseOrder(code=code, supplier_id=sup.id, node_id=node.id, status="draft",
                           expected_date=D, created_by="planner")
        for sku, qty in lines:
            po.lines.append(PurchaseOrderLine(sku_id=s.query(Sku).filter_by(code=sku).one().id,
                                              qty_ordered=qty, unit_cost=2, expected_date=D))
        s.add(po)


def bal(sessions, sku, node="N1"):
    with read_only(sessions) as s:
        rows = queries.balances(s, sku=sku, node=node)
    return rows[0] if rows else None


def test_approving_drafts_in_bulk_places_them_as_inbound_stock(sessions):
    make_world(sessions)
    draft(sessions, "PROP-1")
    draft(sessions, "PROP-2", lines=(("A", 4),))
    with unit_of_work(sessions) as s:
        placed = po_svc.approve(s, ["PROP-1", "PROP-2"], actor="planner1")
    assert {p["status"] for p in placed} == {"placed"}
    assert bal(sessions, "A").inbound == 14 and bal(sessions, "B").inbound == 5
    with pytest.raises(InvalidTransition):
        with unit_of_work(sessions) as s:
            po_svc.approve(s, ["PROP-1"], actor="planner1")


def test_an_edited_draft_is_approved_with_the_edited_quantity(sessions):
    make_world(sessions)
    draft(sessions)
    with unit_of_work(sessions) as s:
        view = po_svc.edit_proposal(s, "PROP-1", [po_svc.EditLineIn(sku="A", qty=24)],
                                    actor="ann")
    assert view["created_by"] == "ann"
    with pytest.raises(LedgerError) as err:
        with unit_of_work(sessions) as s:
            po_svc.edit_proposal(s, "PROP-1", [po_svc.EditLineIn(sku="C", qty=1)], actor="ann")
    assert err.value.field == "lines[0].sku"
    with unit_of_work(sessions) as s:
        po_svc.approve(s, ["PROP-1"], actor="ann")
    assert bal(sessions, "A").inbound == 24


def test_partial_over_and_short_receipts_keep_the_ledger_exact(sessions):
    make_world(sessions)
    draft(sessions)
    with unit_of_work(sessions) as s:
        po_svc.approve(s, ["PROP-1"], actor="p")
    receipt = po_svc.ReceiptIn(lines=[{"sku": "A", "qty": 4}])
    with unit_of_work(sessions) as s:
        assert po_svc.receive(s, "PROP-1", receipt, actor="dock")["status"] == "partially_received"
    # 1 over the 10 ordered: within the tolerance (10%, at least one unit)
    over = po_svc.ReceiptIn(lines=[{"sku": "A", "qty": 7}, {"sku": "B", "qty": 2}], close=True)
    with unit_of_work(sessions) as s:
        view = po_svc.receive(s, "PROP-1", over, actor="dock")
    assert view["status"] == "received"
    a, b = bal(sessions, "A"), bal(sessions, "B")
    assert (a.available, a.inbound) == (11, 0)
    assert (b.available, b.inbound) == (2, 0)
    with read_only(sessions) as s:
        assert audit(s).clean
        kinds = {e["kind"] for e in exc_svc.list_exceptions(s)}
    assert kinds == {"po_over_receipt", "po_short"}


def test_cancelling_a_placed_po_takes_its_open_quantity_out_of_inbound(sessions):
    make_world(sessions)
    draft(sessions)
    with unit_of_work(sessions) as s:
        po_svc.approve(s, ["PROP-1"], actor="p")
        po_svc.receive(s, "PROP-1", po_svc.ReceiptIn(lines=[{"sku": "A", "qty": 3}]), actor="d")
    with unit_of_work(sessions) as s:
        assert po_svc.cancel(s, "PROP-1", actor="p")["status"] == "cancelled"
    assert bal(sessions, "A").inbound == 0 and bal(sessions, "A").available == 3


def test_late_purchase_orders_raise_one_exception_each(sessions):
    make_world(sessions)
    draft(sessions)
    with unit_of_work(sessions) as s:
        po_svc.approve(s, ["PROP-1"], actor="p")
    with unit_of_work(sessions) as s:
        assert po_svc.detect_late(s, today=D + dt.timedelta(days=3)) == 1
    with unit_of_work(sessions) as s:
        assert po_svc.detect_late(s, today=D + dt.timedelta(days=4)) == 0


def test_a_cycle_count_posts_the_difference_and_flags_a_big_one(sessions):
    make_world(sessions, stock=100)
    with unit_of_work(sessions) as s:
        small = inv.cycle_count(s, inv.CountIn(sku="A", node="N1", counted=98), actor="c")
    with unit_of_work(sessions) as s:
        big = inv.cycle_count(s, inv.CountIn(sku="B", node="N1", counted=120), actor="c")
    assert (small["difference"], small["movement"]["kind"]) == (-2, "count_loss")
    assert (big["difference"], big["movement"]["kind"]) == (20, "count_gain")
    assert bal(sessions, "A").available == 98 and bal(sessions, "B").available == 120
    with read_only(sessions) as s:
        flagged = exc_svc.list_exceptions(s, kind="count_discrepancy")
    assert [e["sku"] for e in flagged] == ["B"]


def test_holds_and_transfers_move_stock_between_the_right_buckets(sessions):
    make_world(sessions, stock=10)
    with unit_of_work(sessions) as s:
        inv.hold(s, inv.HoldIn(sku="A", node="N1", qty=3, reason="damaged"), actor="w")
        inv.transfer(s, inv.TransferIn(sku="A", from_node="N1", to_node="N2", qty=5), actor="w")
    a1, a2 = bal(sessions, "A"), bal(sessions, "A", "N2")
    assert (a1.available, a1.hold, a2.inbound) == (2, 3, 5)
    with pytest.raises(InsufficientStock):
        with unit_of_work(sessions) as s:
            inv.transfer(s, inv.TransferIn(sku="A", from_node="N1", to_node="N2", qty=3),
                         actor="w")
    with unit_of_work(sessions) as s:
        inv.receive_transfer(s, inv.TransferIn(sku="A", from_node="N1", to_node="N2", qty=5),
                             actor="w")
    assert bal(sessions, "A", "N2").available == 15


def test_exceptions_are_filtered_snoozed_and_resolved_with_who_and_how(sessions):
    make_world(sessions, stock=10)
    with unit_of_work(sessions) as s:
        inv.cycle_count(s, inv.CountIn(sku="A", node="N1", counted=1), actor="c")
        inv.cycle_count(s, inv.CountIn(sku="B", node="N2", counted=30), actor="c")
    with read_only(sessions) as s:
        assert len(exc_svc.list_exceptions(s, status="open")) == 2
        (only_b,) = exc_svc.list_exceptions(s, node="N2")
        with pytest.raises(LedgerError) as err:
            exc_svc.list_exceptions(s, severity="apocalyptic")
    assert err.value.field == "severity"
    now = dt.datetime.now(dt.timezone.utc)
    with unit_of_work(sessions) as s:
        exc_svc.snooze(s, only_b["id"], until=now + dt.timedelta(hours=2), actor="ann")
    with read_only(sessions) as s:
        assert len(exc_svc.list_exceptions(s, status="open")) == 1
        assert len(exc_svc.list_exceptions(s, status="open",
                                           now=now + dt.timedelta(hours=3))) == 2
    with unit_of_work(sessions) as s:
        done = exc_svc.resolve(s, only_b["id"], actor="ann", note="recounted, fine")
    assert (done["status"], done["resolved_by"], done["resolution"]) == (
        "resolved", "ann", "recounted, fine")
