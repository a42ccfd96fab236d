"""The read-only inventory endpoints, driven over HTTP with a real token."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger import master
from ledger.access import create_token
from ledger.db import unit_of_work
from ledger.models import Node, PurchaseOrder, PurchaseOrderLine, Sku, Supplier
from ledger.movements import Movement
from ledger.posting import post
from tests.ledger.helpers import make_world
from webapp import create_app
from webapp.config import TestConfig
from webapp.services import purchasing as po_svc

D1, D2 = dt.date(2026, 12, 1), dt.date(2026, 12, 8)


@pytest.fixture
def client(database_url):
    app = create_app(TestConfig(DATABASE_URL=database_url))
    yield app.test_client()
    engine = app.extensions["stockroute.db"]["engine"]
    if engine is not None:  # close pooled connections so the test database drops at once
        engine.dispose()


@pytest.fixture
def auth(sessions):
    with unit_of_work(sessions) as s:
        _, plaintext = create_token(s, "reader", "inventory:read")
    return {"Authorization": f"Bearer {plaintext}"}


def place_po(sessions, code, sku, qty, day):
    with unit_of_work(sessions) as s:
        sup = s.query(Supplier).filter_by(code="S1").one_or_none()
        if sup is None:
            sup = Supplier(code="S1", name="s", lead_time_days=7)
            s.add(sup)
            s.flush()
        po = PurchaseOrder(code=code, supplier_id=sup.id,
                           node_id=s.query(Node).filter_by(code="N1").one().id,
                           status="draft", expected_date=day, created_by="test")
        po.lines.append(PurchaseOrderLine(sku_id=s.query(Sku).filter_by(code=sku).one().id,
                                          qty_ordered=qty, unit_cost=1, expected_date=day))
        s.add(po)
    with unit_of_work(sessions) as s:
        po_svc.approve(s, [code], actor="test")


def test_inventory_shows_buckets_atp_and_inbound_by_date_per_node(client, auth, sessions):
    make_world(sessions, stock=10)
    with unit_of_work(sessions) as s:
        master.upsert_sku_node_settings(s, [{"sku": "A", "node": "N2", "promise_buffer": 4}])
        post(s, [Movement("reserve", "A", 3, "N1"), Movement("hold", "A", 2, "N2")])
    place_po(sessions, "PO-1", "A", 5, D2)
    place_po(sessions, "PO-2", "A", 7, D1)
    resp = client.get("/api/v1/inventory/A", headers=auth)
    assert resp.status_code == 200, resp.json
    nodes = {n["node"]: n for n in resp.json["nodes"]}
    assert resp.json["sku"] == "A"
    assert nodes["N1"] == {"node": "N1", "available": 7, "reserved": 3, "hold": 0,
                           "inspection": 0, "inbound": 12, "on_hand": 10, "atp": 7,
                           "inbound_by_date": [{"date": "2026-12-01", "qty": 7},
                                               {"date": "2026-12-08", "qty": 5}],
                           "in_transit": []}
    assert nodes["N2"]["available"] == 8 and nodes["N2"]["hold"] == 2
    assert nodes["N2"]["atp"] == 4 and nodes["N2"]["inbound_by_date"] == []


def test_an_unknown_sku_is_404_naming_the_field(client, auth, sessions):
    make_world(sessions)
    resp = client.get("/api/v1/inventory/NOPE", headers=auth)
    assert resp.status_code == 404
    assert resp.json["error"]["code"] == "not_found" and resp.json["error"]["field"] == "sku"
    moves = client.get("/api/v1/inventory/A/NOWHERE/movements", headers=auth)
    assert moves.status_code == 404 and moves.json["error"]["field"] == "node"


def test_movements_page_newest_first_until_the_last_page(client, auth, sessions):
    make_world(sessions, skus=("A",), nodes=("N1",))
    with unit_of_work(sessions) as s:
        post(s, [Movement("count_gain", "A", q, "N1") for q in range(1, 6)])
    seen, before, pages = [], None, 0
    while True:
        url = "/api/v1/inventory/A/N1/movements?limit=2"
        resp = client.get(url + (f"&before_id={before}" if before else ""), headers=auth)
        assert resp.status_code == 200, resp.json
        pages += 1
        seen += [m["qty"] for m in resp.json["items"]]
        before = resp.json["next_before_id"]
        if before is None:
            break
    assert seen == [5, 4, 3, 2, 1] and pages == 3
    first = client.get("/api/v1/inventory/A/N1/movements", headers=auth).json["items"][0]
    assert first["kind"] == "count_gain" and first["to"] == {"node": "N1", "bucket": "available"}
    assert first["from"]["node"] is None  # an external account, not a node


BAD_PAGING = [("limit=501", "limit"), ("limit=0", "limit"), ("limit=ten", "limit"),
              ("before_id=-1", "before_id"), ("colour=red", "colour")]


def test_page_sizes_above_the_cap_and_bad_paging_are_refused_with_422(client, auth, sessions):
    make_world(sessions, skus=("A",), nodes=("N1",))
    for query, field in BAD_PAGING:
        resp = client.get(f"/api/v1/inventory/A/N1/movements?{query}", headers=auth)
        assert resp.status_code == 422, query
        assert resp.json["error"]["field"] == field, query
    at_cap = client.get("/api/v1/inventory/A/N1/movements?limit=500", headers=auth)
    assert at_cap.status_code == 200
