"""The audit holds the document-owned buckets to the documents: ``inbound`` equals
the units still expected on open purchase-order lines plus the units in transit,
``inspection`` the units of returns awaiting disposition (``reserved`` and open
shipments: test_ledger_document_drift). Realistic flows through the services
keep it clean; a movement forced around a document shows up, with its figures."""

from __future__ import annotations

from sqlalchemy import event, select, text

from ledger import queries
from ledger.audit import Difference, audit
from ledger.db import read_only, unit_of_work
from ledger.models import Node, PurchaseOrder, PurchaseOrderLine, Sku, Supplier
from tests.webapp.test_cli_and_pages import Cli
from tests.webapp.test_orders_service import submit, world
from tests.webapp.test_purchasing_and_inventory_services import D, draft
from webapp.services import inventory as inv
from webapp.services import orders as order_svc
from webapp.services import purchasing as po_svc
from webapp.services import returns as ret_svc


def _audit(sessions, **kw):
    with read_only(sessions) as s:
        return audit(s, **kw)


def assert_clean(sessions):
    report = _audit(sessions)
    assert report.clean, [str(d) for d in report.differences]


def bal(sessions, sku, node="N1"):
    with read_only(sessions) as s:
        rows = queries.balances(s, sku=sku, node=node)
    return rows[0] if rows else None


def receive(sessions, code, lines, **kw):
    with unit_of_work(sessions) as s:
        return po_svc.receive(s, code, po_svc.ReceiptIn(
            lines=[{"sku": k, "qty": q} for k, q in lines], **kw), actor="dock")


def approve(sessions, *codes):
    with unit_of_work(sessions) as s:
        po_svc.approve(s, list(codes), actor="planner")


def cli_audit(app) -> tuple[int, str]:
    result = Cli(app).invoke(args=["ledger", "audit"])
    return result.exit_code, result.output


def force(app, *args):
    result = Cli(app).invoke(args=["ledger", "post", *args, "--force"])
    assert result.exit_code == 0, result.output


# --------------------------------------------------------------------------- inbound

def test_po_receipts_partial_over_under_and_cancelled_keep_inbound_exact(sessions):
    world(sessions, {("A", "N1"): 10, ("A", "N2"): 10})
    draft(sessions, "PO-1", lines=(("A", 10), ("B", 5)))
    draft(sessions, "PO-2", lines=(("A", 8),))
    draft(sessions, "PO-3", lines=(("A", 7),))  # stays a draft: nothing inbound
    assert_clean(sessions)
    approve(sessions, "PO-1", "PO-2")
    with unit_of_work(sessions) as s:  # and 3 units in transit to N1
        inv.transfer(s, inv.TransferIn(sku="A", from_node="N2", to_node="N1", qty=3), actor="w")
    assert bal(sessions, "A").inbound == 10 + 8 + 3
    assert_clean(sessions)

    receive(sessions, "PO-1", [("A", 4)])                      # partial: 6 of 10 open
    assert bal(sessions, "A").inbound == 6 + 8 + 3
    assert_clean(sessions)
    receive(sessions, "PO-1", [("A", 7), ("B", 2)])            # 1 over (tolerance), B partial
    assert bal(sessions, "A").inbound == 0 + 8 + 3 and bal(sessions, "B").inbound == 3
    assert_clean(sessions)
    receive(sessions, "PO-1", [("A", 2)], allow_over_receipt=True)  # a line already over
    assert bal(sessions, "A").inbound == 8 + 3
    assert_clean(sessions)

    receive(sessions, "PO-2", [("A", 5)])                      # under: 3 still open
    assert bal(sessions, "A").inbound == 3 + 3
    assert_clean(sessions)
    with unit_of_work(sessions) as s:                          # cancel the remainder
        assert po_svc.cancel(s, "PO-2", actor="planner")["status"] == "cancelled"
    assert bal(sessions, "A").inbound == 3
    assert_clean(sessions)

    view = receive(sessions, "PO-1", [("B", 1)], close=True)   # short close: B's 2 cancelled
    assert view["status"] == "received" and bal(sessions, "B").inbound == 0
    assert_clean(sessions)

    with unit_of_work(sessions) as s:
        inv.receive_transfer(s, inv.TransferIn(sku="A", from_node="N2", to_node="N1", qty=3),
                             actor="w")
        po_svc.cancel(s, "PO-3", actor="planner")              # a draft: no movement
    a, b = bal(sessions, "A"), bal(sessions, "B")
    assert (a.inbound, a.available) == (0, 10 + 4 + 7 + 2 + 5 + 3)
    assert (b.inbound, b.available) == (0, 3)
    assert_clean(sessions)


def test_forced_po_movements_show_up_as_inbound_differences_and_fail_the_audit(app, sessions):
    world(sessions, {("A", "N2"): 10})
    draft(sessions, "PO-1", lines=(("A", 10),))
    approve(sessions, "PO-1")
    receive(sessions, "PO-1", [("A", 4)])
    with unit_of_work(sessions) as s:
        inv.transfer(s, inv.TransferIn(sku="A", from_node="N2", to_node="N1", qty=3), actor="w")
    assert cli_audit(app)[0] == 0

    force(app, "po_placed", "A", "2", "N1")  # inbound no purchase order expects
    report = _audit(sessions)
    assert report.differences == (Difference(
        "A", "N1", "inbound", 11, 9, against="open purchase orders + in transit",
        parts=(("open purchase orders", 6), ("in transit", 3))),)
    code, output = cli_audit(app)
    assert code == 1
    assert ("DIFFERENCE A@N1 inbound: balance 11, open purchase orders 6 + in transit 3 = 9 "
            "(diff +2)") in output
    force(app, "po_cancelled", "A", "2", "N1")  # the correction
    assert cli_audit(app)[0] == 0

    force(app, "receive", "A", "5", "N1")  # units received that the PO still expects
    assert [str(d) for d in _audit(sessions).differences] == [
        "A@N1 inbound: balance 4, open purchase orders 6 + in transit 3 = 9 (diff -5)"]
    assert cli_audit(app)[0] == 1


def test_a_purchase_order_with_no_inbound_behind_it_is_a_difference(sessions):
    """The other side: a document nobody booked (a placed PO written straight to the
    database) shows up even where the node has no stock position at all."""
    world(sessions, {})
    with unit_of_work(sessions) as s:
        sup = Supplier(code="S1", name="s", lead_time_days=7)
        s.add(sup)
        s.flush()
        po = PurchaseOrder(code="PO-X", supplier_id=sup.id, status="placed", expected_date=D,
                           node_id=s.scalar(select(Node.id).where(Node.code == "N2")))
        po.lines = [PurchaseOrderLine(sku_id=s.scalar(select(Sku.id).where(Sku.code == "B")),
                                      qty_ordered=6, qty_received=1, unit_cost=1,
                                      expected_date=D)]
        s.add(po)
    assert [str(d) for d in _audit(sessions).differences] == [
        "B@N2 inbound: balance 0, open purchase orders 5 + in transit 0 = 5 (diff -5)"]
    assert _audit(sessions, documents=False).clean


def test_a_receipt_recorded_on_the_document_alone_is_a_difference(sessions):
    world(sessions, {})
    draft(sessions, "PO-1", lines=(("A", 10),))
    approve(sessions, "PO-1")
    with unit_of_work(sessions) as s:
        s.execute(text("UPDATE purchase_order_lines SET qty_received = 4"))
    assert [str(d) for d in _audit(sessions).differences] == [
        "A@N1 inbound: balance 10, open purchase orders 6 + in transit 0 = 6 (diff +4)"]


# --------------------------------------------------------------------------- inspection, hold

def _shipped(sessions, code, qty, node_stock):
    world(sessions, node_stock)
    view = submit(sessions, code, [("A", qty)])
    with unit_of_work(sessions) as s:
        order_svc.ship_shipment(s, code, view["shipments"][0]["id"], actor="ops")


def _rma(sessions, order, qty, node=None) -> str:
    with unit_of_work(sessions) as s:
        return ret_svc.authorise(s, ret_svc.ReturnIn(order=order, line=0, qty=qty, reason="r",
                                                     node=node), actor="cs")["code"]


def _receive_return(sessions, code):
    with unit_of_work(sessions) as s:
        ret_svc.receive(s, code, actor="dock")


def _disposition(sessions, code, action):
    with unit_of_work(sessions) as s:
        ret_svc.disposition(s, code, action, actor="qa")


def test_returns_and_holds_keep_inspection_exact_and_the_audit_clean(sessions):
    _shipped(sessions, "SO-1", 9, {("A", "N1"): 10})
    r1, r2, r3, r4 = (_rma(sessions, "SO-1", 2), _rma(sessions, "SO-1", 3),
                      _rma(sessions, "SO-1", 1, node="N2"), _rma(sessions, "SO-1", 1))
    assert_clean(sessions)  # authorised only: nothing in inspection yet
    for code in (r1, r2, r3):
        _receive_return(sessions, code)
    assert (bal(sessions, "A").inspection, bal(sessions, "A", "N2").inspection) == (5, 1)
    assert_clean(sessions)
    _disposition(sessions, r1, "restock")
    _disposition(sessions, r2, "quarantine")  # into hold
    assert (bal(sessions, "A").inspection, bal(sessions, "A").hold) == (0, 3)
    assert_clean(sessions)
    with unit_of_work(sessions) as s:  # holds: placed, and released (quarantined units too)
        inv.hold(s, inv.HoldIn(sku="A", node="N1", qty=1, reason="damaged box"), actor="w")
        inv.hold(s, inv.HoldIn(sku="A", node="N1", qty=4, release=True), actor="w")
    assert bal(sessions, "A").hold == 0
    assert_clean(sessions)
    _disposition(sessions, r3, "scrap")
    _receive_return(sessions, r4)
    assert (bal(sessions, "A").inspection, bal(sessions, "A", "N2").inspection) == (1, 0)
    assert_clean(sessions)


def test_forced_return_movements_show_up_as_inspection_differences(app, sessions):
    _shipped(sessions, "SO-1", 5, {("A", "N1"): 10})
    code = _rma(sessions, "SO-1", 3)
    _receive_return(sessions, code)
    assert cli_audit(app)[0] == 0

    force(app, "restock", "A", "2", "N1")  # out of inspection with no disposition
    report = _audit(sessions)
    assert report.differences == (Difference(
        "A", "N1", "inspection", 1, 3, against="returns awaiting disposition"),)
    code_, output = cli_audit(app)
    assert code_ == 1
    assert "DIFFERENCE A@N1 inspection: balance 1, returns awaiting disposition 3 (diff -2)" \
        in output
    force(app, "return_received", "A", "2", "N1")  # the correction
    assert cli_audit(app)[0] == 0

    force(app, "return_received", "A", "4", "N2")  # a parcel no return expects
    assert [str(d) for d in _audit(sessions).differences] == [
        "A@N2 inspection: balance 4, returns awaiting disposition 0 (diff +4)"]
    force(app, "scrap", "A", "4", "N2")
    assert cli_audit(app)[0] == 0

    force(app, "quarantine", "A", "1", "N1")  # into hold, but the return still waits
    assert [str(d) for d in _audit(sessions).differences] == [
        "A@N1 inspection: balance 2, returns awaiting disposition 3 (diff -1)"]
    force(app, "return_received", "A", "1", "N1")
    assert Cli(app).invoke(args=["ledger", "post", "unhold", "A", "1", "N1"]).exit_code == 0
    _disposition(sessions, code, "quarantine")
    assert cli_audit(app)[0] == 0
    assert bal(sessions, "A").hold == 3


def test_the_audit_runs_a_fixed_number_of_queries_however_many_documents(sessions, engine):
    """One grouped query per check: more purchase orders, returns and shipments
    do not add queries."""
    def queries_run() -> int:
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert_clean(sessions)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    _shipped(sessions, "SO-1", 6, {("A", "N1"): 20, ("B", "N1"): 20})
    draft(sessions, "PO-1", lines=(("A", 5),))
    approve(sessions, "PO-1")
    code = _rma(sessions, "SO-1", 1)
    _receive_return(sessions, code)
    few = queries_run()
    for i in range(2, 8):
        draft(sessions, f"PO-{i}", lines=(("A", i), ("B", i)))
        approve(sessions, f"PO-{i}")
        submit(sessions, f"SO-{i}", [("B", 1)])
    for _ in range(5):
        _receive_return(sessions, _rma(sessions, "SO-1", 1))
    assert queries_run() == few
