"""A transfer receipt takes only units its from-node sent to its to-node, never a
purchase order's inbound units; on real databases, over HTTP and in the ledger."""

from __future__ import annotations

import pytest

from ledger import queries
from ledger.access import create_token
from ledger.audit import audit
from ledger.db import read_only, unit_of_work
from ledger.demo import build_demo_world, load_demo
from ledger.errors import InsufficientStock, NotInTransit
from ledger.movements import Movement
from ledger.posting import post
from tests.ledger.helpers import make_world
from tests.webapp.test_purchasing_and_inventory_services import draft
from webapp.services import purchasing as po_svc


def token(sessions, *scopes) -> dict:
    with unit_of_work(sessions) as s:
        _, plaintext = create_token(s, "warehouse", list(scopes))
    return {"Authorization": f"Bearer {plaintext}"}


def inventory(client, headers, sku) -> dict:
    resp = client.get(f"/api/v1/inventory/{sku}", headers=headers)
    assert resp.status_code == 200, resp.json
    return {n["node"]: n for n in resp.json["nodes"]}


def test_a_receipt_from_a_node_that_sent_nothing_is_refused_and_the_po_still_receives(
        app, sessions):
    # The review's case: STORE-MIA never shipped APP-0001 to 3PL-CENTRAL, whose 240
    # inbound units are all PO-00006's.
    load_demo(sessions, build_demo_world(7))
    h = token(sessions, "inventory:write", "inventory:read")
    client = app.test_client()
    before = inventory(client, h, "APP-0001")
    with read_only(sessions) as s:
        journal_before = len(queries.history(s, "APP-0001", "3PL-CENTRAL", limit=1000))
    assert before["3PL-CENTRAL"]["inbound"] == 240

    resp = client.post("/api/v1/inventory/transfers/receive", headers=h, json={
        "sku": "APP-0001", "from_node": "STORE-MIA", "to_node": "3PL-CENTRAL", "qty": 5})

    assert resp.status_code == 409, resp.json
    err = resp.json["error"]
    assert err["code"] == "not_in_transit" and err["field"] == "from_node"
    assert "STORE-MIA" in err["message"] and "3PL-CENTRAL" in err["message"]
    assert inventory(client, h, "APP-0001") == before  # nothing changed, nor re-routed
    with read_only(sessions) as s:
        assert len(queries.history(s, "APP-0001", "3PL-CENTRAL", limit=1000)) == journal_before
    po = client.post("/api/v1/purchase-orders/PO-00006/receipts", headers=h, json={
        "lines": [{"sku": "APP-0001", "qty": 240}]})
    assert po.status_code == 200, po.json
    after = inventory(client, h, "APP-0001")["3PL-CENTRAL"]
    assert after["inbound"] == 0 and after["inbound_by_date"] == []
    with read_only(sessions) as s:
        assert audit(s).clean


def test_a_receipt_takes_only_what_its_route_has_in_transit(app, sessions):
    make_world(sessions, stock=10)
    h = token(sessions, "inventory:write", "inventory:read")
    client = app.test_client()
    draft(sessions, "P", lines=(("A", 50),), node="N2")
    with unit_of_work(sessions) as s:  # other inbound at N2: a placed PO's units
        po_svc.approve(s, ["P"], actor="planner")
    sent = client.post("/api/v1/inventory/transfers", headers=h, json={
        "sku": "A", "from_node": "N1", "to_node": "N2", "qty": 4})
    assert sent.status_code == 200, sent.json
    n2 = inventory(client, h, "A")["N2"]
    assert n2["inbound"] == 54 and n2["in_transit"] == [{"from_node": "N1", "qty": 4}]

    too_many = client.post("/api/v1/inventory/transfers/receive", headers=h, json={
        "sku": "A", "from_node": "N1", "to_node": "N2", "qty": 5})
    assert too_many.status_code == 409
    assert too_many.json["error"]["field"] == "qty"
    assert too_many.json["error"]["details"] == [
        {"sku": "A", "from_node": "N1", "to_node": "N2", "have": 4, "need": 5}]
    same_node = client.post("/api/v1/inventory/transfers/receive", headers=h, json={
        "sku": "A", "from_node": "N2", "to_node": "N2", "qty": 1})
    assert same_node.status_code in (400, 422)
    assert same_node.json["error"]["field"] == "from_node"
    assert inventory(client, h, "A")["N2"] == n2

    for qty in (3, 1):
        got = client.post("/api/v1/inventory/transfers/receive", headers=h, json={
            "sku": "A", "from_node": "N1", "to_node": "N2", "qty": qty})
        assert got.status_code == 200, got.json
    n2 = inventory(client, h, "A")["N2"]
    assert (n2["available"], n2["inbound"], n2["in_transit"]) == (14, 50, [])
    with read_only(sessions) as s:
        (last,) = queries.history(s, "A", "N2", limit=1)
        assert audit(s).clean
    assert last["kind"] == "transfer_in" and last["qty"] == 1


def test_routes_are_kept_apart_and_a_refused_posting_writes_nothing(sessions):
    make_world(sessions, nodes=("N1", "N2", "N3"), stock=10)
    with unit_of_work(sessions) as s:
        post(s, [Movement("transfer_out", "A", 3, "N1", to_node="N3"),
                 Movement("transfer_out", "A", 2, "N2", to_node="N3")])
    with pytest.raises(NotInTransit) as err:
        with unit_of_work(sessions) as s:  # N2 sent 2, not 3, even though N3 has 5 inbound
            post(s, [Movement("count_gain", "B", 1, "N3"),
                     Movement("transfer_in", "A", 3, "N3", source_node="N2")])
    assert err.value.field == "qty"
    with read_only(sessions) as s:
        assert queries.balances(s, sku="B", node="N3")[0].available == 10  # rolled back
        assert {(r["from_node"], r["qty"]) for r in queries.in_transit(s, sku="A")} == {
            ("N1", 3), ("N2", 2)}
    with unit_of_work(sessions) as s:
        post(s, [Movement("transfer_in", "A", 3, "N3", source_node="N1")])
    with read_only(sessions) as s:
        assert queries.in_transit(s, sku="A") == [
            {"sku": "A", "from_node": "N2", "to_node": "N3", "qty": 2}]
        assert audit(s).clean


def test_the_audit_reports_in_transit_that_differs_from_the_journal(sessions):
    make_world(sessions, stock=10)
    with unit_of_work(sessions) as s:
        post(s, [Movement("transfer_out", "A", 3, "N1", to_node="N2")])
    from sqlalchemy import update
    from ledger.models import InTransit
    with unit_of_work(sessions) as s:
        s.execute(update(InTransit).values(qty=1))
    with read_only(sessions) as s:
        journal_only = audit(s, documents=False)
        report = audit(s)
    assert [(d.sku, d.node, d.bucket, d.balance, d.journal)
            for d in journal_only.differences] == [("A", "N2", "in_transit", 1, 3)]
    # Against the routes' units in transit, N2's inbound (3, as the journal says) is
    # now 2 too many as well.
    assert [(d.sku, d.node, d.bucket, d.balance, d.journal) for d in report.differences] == [
        ("A", "N2", "in_transit", 1, 3), ("A", "N2", "inbound", 3, 1)]


@pytest.mark.parametrize("kind", ["receive", "po_cancelled"])
def test_a_purchase_order_movement_cannot_take_units_in_transit(sessions, kind):
    # N2's inbound: 4 units of a purchase order and 3 in transit from N1. A receipt or
    # cancellation of purchase-order units (not a transfer_in) may take the 4, not 5.
    make_world(sessions, nodes=("N1", "N2"), stock=10)
    with unit_of_work(sessions) as s:
        post(s, [Movement("po_placed", "A", 4, "N2"),
                 Movement("transfer_out", "A", 3, "N1", to_node="N2")])
    with pytest.raises(InsufficientStock) as err:
        with unit_of_work(sessions) as s:
            post(s, [Movement(kind, "A", 5, "N2")])
    (short,) = err.value.shortages
    assert (short["bucket"], short["have"], short["need"], short["in_transit"]) == (
        "inbound", 4, 5, 3)
    with read_only(sessions) as s:
        assert queries.balances(s, sku="A", node="N2")[0].inbound == 7   # nothing taken
    with unit_of_work(sessions) as s:
        post(s, [Movement(kind, "A", 4, "N2")])
        post(s, [Movement("transfer_in", "A", 3, "N2", source_node="N1")])
    with read_only(sessions) as s:
        assert queries.balances(s, sku="A", node="N2")[0].inbound == 0
        assert queries.in_transit(s, sku="A") == []
        assert audit(s).clean
