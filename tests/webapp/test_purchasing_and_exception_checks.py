"""Sanity checks on purchase-order receipts and expedites and on snoozes: bad
values are a 422 naming the field, and change nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger import queries
from ledger.access import create_token
from ledger.db import read_only, unit_of_work
from ledger.models import ExceptionItem, Node, PurchaseOrder, PurchaseOrderLine, Sku, Supplier
from tests.ledger.helpers import make_world
from webapp import create_app
from webapp.config import TestConfig
from webapp.services import purchasing as po_svc

TODAY = dt.datetime.now(dt.timezone.utc).date()
EXPECTED = TODAY + dt.timedelta(days=20)


@pytest.fixture
def client(database_url, sessions):
    app = create_app(TestConfig(DATABASE_URL=database_url))
    make_world(sessions)
    with unit_of_work(sessions) as s:
        _, plaintext = create_token(s, "planner", ["inventory:write", "purchasing:write",
                                                   "exceptions:write"])
        sup = Supplier(code="S1", name="s", lead_time_days=7)
        s.add(sup)
        s.flush()
        po = PurchaseOrder(code="PO-1", supplier_id=sup.id, status="draft",
                           node_id=s.query(Node).filter_by(code="N1").one().id,
                           expected_date=EXPECTED, created_by="test")
        po.lines.append(PurchaseOrderLine(sku_id=s.query(Sku).filter_by(code="A").one().id,
                                          qty_ordered=720, unit_cost=1, expected_date=EXPECTED))
        s.add(po)
        s.add(ExceptionItem(kind="po_late", severity="warning", message="late"))
    with unit_of_work(sessions) as s:
        po_svc.approve(s, ["PO-1"], actor="test")
    c = app.test_client()
    c.h = {"Authorization": f"Bearer {plaintext}"}
    yield c
    app.extensions["stockroute.db"]["engine"].dispose()


def state(sessions) -> tuple:
    with read_only(sessions) as s:
        po = s.query(PurchaseOrder).filter_by(code="PO-1").one()
        line = po.lines[0]
        b = queries.balances(s, sku="A", node="N1")[0]
        e = s.query(ExceptionItem).filter_by(kind="po_late").one()
        return (po.status, po.expected_date, line.qty_received, line.expected_date,
                b.available, b.inbound, e.status, e.snoozed_until)


def refused(resp, field):
    assert resp.status_code == 422, resp.json
    assert resp.json["error"]["field"] == field, resp.json
    return resp.json["error"]["message"]


def test_a_receipt_far_beyond_the_open_quantity_is_refused(client, sessions):
    before = state(sessions)
    message = refused(client.post("/api/v1/purchase-orders/PO-1/receipts", headers=client.h,
                                  json={"lines": [{"sku": "A", "qty": 10_000_000}]}),
                      "lines[0].qty")
    assert "720" in message and "allow_over_receipt" in message
    # the tolerance is 10% of the ordered quantity: 792 in all
    refused(client.post("/api/v1/purchase-orders/PO-1/receipts", headers=client.h,
                        json={"lines": [{"sku": "A", "qty": 700}, {"sku": "A", "qty": 93}]}),
            "lines[1].qty")
    assert state(sessions) == before


def test_a_receipt_up_to_the_tolerance_is_booked(client, sessions):
    ok = client.post("/api/v1/purchase-orders/PO-1/receipts", headers=client.h,
                     json={"lines": [{"sku": "A", "qty": 792}]})
    assert ok.status_code == 200, ok.json
    assert ok.json["status"] == "received" and ok.json["lines"][0]["qty_received"] == 792
    assert state(sessions)[4:6] == (792, 0)
    more = client.post("/api/v1/purchase-orders/PO-1/receipts", headers=client.h,
                       json={"lines": [{"sku": "A", "qty": 1}]})
    assert more.status_code == 409 and more.json["error"]["field"] == "status"


def test_an_over_receipt_beyond_the_tolerance_needs_the_flag(client, sessions):
    flagged = client.post("/api/v1/purchase-orders/PO-1/receipts", headers=client.h,
                          json={"lines": [{"sku": "A", "qty": 1000}], "allow_over_receipt": True})
    assert flagged.status_code == 200, flagged.json
    assert state(sessions)[4:6] == (1000, 0)


def test_expediting_to_a_later_or_a_past_date_is_refused(client, sessions):
    before = state(sessions)
    for day in (EXPECTED + dt.timedelta(days=1), EXPECTED, TODAY - dt.timedelta(days=1)):
        message = refused(client.post("/api/v1/purchase-orders/PO-1/expedite", headers=client.h,
                                      json={"expected_date": day.isoformat()}), "expected_date")
        assert day.isoformat() in message
    assert state(sessions) == before
    earlier = TODAY + dt.timedelta(days=5)
    ok = client.post("/api/v1/purchase-orders/PO-1/expedite", headers=client.h,
                     json={"expected_date": earlier.isoformat()})
    assert ok.status_code == 200, ok.json
    assert state(sessions)[1] == state(sessions)[3] == earlier


def test_snoozing_until_a_past_instant_is_refused(client, sessions):
    with read_only(sessions) as s:
        eid = s.query(ExceptionItem).filter_by(kind="po_late").one().id
    before = state(sessions)
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
    refused(client.post(f"/api/v1/exceptions/{eid}/snooze", headers=client.h,
                        json={"until": past.isoformat()}), "until")
    assert state(sessions) == before
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2)
    ok = client.post(f"/api/v1/exceptions/{eid}/snooze", headers=client.h,
                     json={"until": later.isoformat()})
    assert ok.status_code == 200 and ok.json["status"] == "snoozed"


def test_a_resolved_exception_cannot_be_snoozed_or_acknowledged(client, sessions):
    with read_only(sessions) as s:
        eid = s.query(ExceptionItem).filter_by(kind="po_late").one().id
    done = client.post(f"/api/v1/exceptions/{eid}/resolve", headers=client.h,
                       json={"note": "supplier confirmed"})
    assert done.status_code == 200 and done.json["status"] == "resolved", done.json
    before = state(sessions)
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2)
    for action, body in (("snooze", {"until": later.isoformat()}), ("acknowledge", {})):
        resp = client.post(f"/api/v1/exceptions/{eid}/{action}", headers=client.h, json=body)
        assert resp.status_code == 409, (action, resp.json)
        assert resp.json["error"]["code"] == "invalid_transition"
        assert resp.json["error"]["field"] == "status"
    assert state(sessions) == before


def test_editing_a_draft_to_a_past_expected_date_is_refused(client, sessions):
    """Like an expedite, a draft's new date may not be in the past: placed, it would be
    late at once and count as stock already arrived in time-phased ATP."""
    with unit_of_work(sessions) as s:
        sup = s.query(Supplier).filter_by(code="S1").one()
        draft = PurchaseOrder(code="PROP-1", supplier_id=sup.id, status="draft",
                              node_id=s.query(Node).filter_by(code="N1").one().id,
                              expected_date=EXPECTED, created_by="planner")
        draft.lines.append(PurchaseOrderLine(sku_id=s.query(Sku).filter_by(code="A").one().id,
                                             qty_ordered=12, unit_cost=1, expected_date=EXPECTED))
        s.add(draft)
    yesterday = TODAY - dt.timedelta(days=1)
    message = refused(client.post("/api/v1/purchase-orders/PROP-1/edit", headers=client.h,
                                  json={"expected_date": yesterday.isoformat(),
                                        "lines": [{"sku": "A", "qty": 24}]}), "expected_date")
    assert yesterday.isoformat() in message and "past" in message
    with read_only(sessions) as s:
        draft = s.query(PurchaseOrder).filter_by(code="PROP-1").one()
        assert (draft.expected_date, draft.lines[0].expected_date, draft.lines[0].qty_ordered,
                draft.created_by) == (EXPECTED, EXPECTED, 12, "planner")
    for day in (TODAY, TODAY + dt.timedelta(days=3)):   # today or later is fine
        ok = client.post("/api/v1/purchase-orders/PROP-1/edit", headers=client.h,
                         json={"expected_date": day.isoformat()})
        assert ok.status_code == 200, ok.json
        assert ok.json["expected_date"] == day.isoformat()
