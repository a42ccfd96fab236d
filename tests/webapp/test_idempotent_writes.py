"""Every write endpoint honours ``Idempotency-Key`` as POST /orders does: the same
key and request get the first answer and apply nothing; another request with
the key is 409 ``idempotency_conflict``; one still in flight is 409
``idempotency_in_progress``."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from ledger import queries
from ledger.access import create_token
from ledger.db import read_only, unit_of_work
from ledger.models import (
    ExceptionItem, IdempotencyRecord, Node, PurchaseOrder, PurchaseOrderLine, Return, Sku,
    Supplier,
)
from tests.webapp.test_orders_service import world
from webapp.api.keys import idempotency_scope, request_payload
from webapp.services import idempotency
from webapp.services import purchasing as po_svc

EXPECTED = dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=20)
ORDER = {"id": "SO-1", "region": "NE", "lines": [{"sku": "A", "qty": 2}]}
# Read-only POSTs: they compute an answer and store nothing, so there is nothing to repeat.
READ_ONLY_POSTS = {"/api/v1/routing/plan", "/api/v1/replenishment/plan"}


@pytest.fixture
def client(app, sessions):
    world(sessions, {("A", "N1"): 5, ("B", "N1"): 5})
    with unit_of_work(sessions) as s:
        _, token = create_token(s, "ops", ["admin"])
        sup = Supplier(code="S1", name="s", lead_time_days=7)
        s.add(sup)
        s.flush()
        for code in ("PO-1", "PO-2"):
            po = PurchaseOrder(code=code, supplier_id=sup.id, status="draft",
                               node_id=s.query(Node).filter_by(code="N1").one().id,
                               expected_date=EXPECTED, created_by="test")
            po.lines.append(PurchaseOrderLine(sku_id=s.query(Sku).filter_by(code="A").one().id,
                                              qty_ordered=50, unit_cost=1,
                                              expected_date=EXPECTED))
            s.add(po)
    with unit_of_work(sessions) as s:
        po_svc.approve(s, ["PO-1", "PO-2"], actor="test")
    c = app.test_client()
    c.h = {"Authorization": f"Bearer {token}"}
    c.key = lambda k: {**c.h, "Idempotency-Key": k}
    return c


def balance(sessions, sku="A", node="N1"):
    with read_only(sessions) as s:
        rows = queries.balances(s, sku=sku, node=node)
    return rows[0] if rows else None


def count_rows(sessions, model, *where) -> int:
    with read_only(sessions) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def conflict(resp, code="idempotency_conflict"):
    assert resp.status_code == 409, resp.get_json()
    assert resp.get_json()["error"]["code"] == code
    return resp


# --------------------------------------------------------------------------- every endpoint

def test_every_write_endpoint_declares_its_key_scope(app):
    """A new write endpoint cannot forget the header: it must be @idempotent."""
    scopes, missing = {}, []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or not rule.methods & {"POST", "PUT",
                                                                        "PATCH", "DELETE"}:
            continue
        if rule.rule in READ_ONLY_POSTS:
            assert idempotency_scope(app.view_functions[rule.endpoint]) is None
            continue
        scope = idempotency_scope(app.view_functions[rule.endpoint])
        if scope is None:
            missing.append(rule.rule)
        else:
            scopes.setdefault(scope, []).append(rule.rule)
    assert missing == []
    assert all(len(rules) == 1 for rules in scopes.values()), scopes  # one scope per operation
    assert scopes["orders"] == ["/api/v1/orders"]  # the keys POST /orders always had


# --------------------------------------------------------------------------- PO receipts

def test_a_repeated_po_receipt_is_received_once(client, sessions):
    body = {"lines": [{"sku": "A", "qty": 5}]}
    url = "/api/v1/purchase-orders/PO-1/receipts"
    first = client.post(url, json=body, headers=client.key("po-rk-1"))
    again = client.post(url, json=body, headers=client.key("po-rk-1"))
    assert first.status_code == again.status_code == 200, again.get_json()
    assert again.get_json() == first.get_json()
    assert first.get_json()["lines"][0]["qty_received"] == 5
    assert balance(sessions).available == 5 + 5  # received once, not twice
    conflict(client.post(url, json={"lines": [{"sku": "A", "qty": 6}]},
                         headers=client.key("po-rk-1")))
    # the same key and body against another purchase order is another request
    conflict(client.post("/api/v1/purchase-orders/PO-2/receipts", json=body,
                         headers=client.key("po-rk-1")))
    assert balance(sessions).available == 10
    # without a key every receipt counts
    client.post(url, json=body, headers=client.h)
    assert balance(sessions).available == 15


def test_a_key_still_in_flight_is_refused(client, sessions):
    body = {"lines": [{"sku": "A", "qty": 5}]}
    payload = request_payload({"code": "PO-1", "body": po_svc.ReceiptIn.model_validate(body)})
    scope = idempotency_scope(client.application.view_functions["api.receive"])
    assert idempotency.claim(sessions, "busy", scope, payload) is None
    conflict(client.post("/api/v1/purchase-orders/PO-1/receipts", json=body,
                         headers=client.key("busy")), "idempotency_in_progress")
    assert balance(sessions).available == 5


def test_a_failed_request_frees_its_key(client, sessions):
    url = "/api/v1/purchase-orders/PO-1/receipts"
    too_many = client.post(url, json={"lines": [{"sku": "A", "qty": 500}]},
                           headers=client.key("k"))
    assert too_many.status_code == 422
    ok = client.post(url, json={"lines": [{"sku": "A", "qty": 5}]}, headers=client.key("k"))
    assert ok.status_code == 200, ok.get_json()


def test_concurrent_retries_of_a_receipt_apply_it_once(client, sessions):
    body = {"lines": [{"sku": "A", "qty": 5}]}
    start = threading.Barrier(8)

    def call(_):
        c = client.application.test_client()
        start.wait()
        return c.post("/api/v1/purchase-orders/PO-1/receipts", json=body,
                      headers=client.key("storm"))

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(call, range(8)))
    codes = [r.status_code if r.status_code == 200 else r.get_json()["error"]["code"]
             for r in answers]
    assert set(codes) <= {200, "idempotency_in_progress"} and 200 in codes, codes
    assert balance(sessions).available == 10


# --------------------------------------------------------------------------- order lifecycle

def test_order_actions_replay_their_first_answer(client, sessions):
    order = client.post("/api/v1/orders", json=ORDER, headers=client.h).get_json()
    sid = order["shipments"][0]["id"]
    steps = [
        ("/api/v1/orders/SO-1/hold", {"reason": "check"}),
        ("/api/v1/orders/SO-1/unhold", None),
        ("/api/v1/orders/SO-1/release", None),
        (f"/api/v1/orders/SO-1/shipments/{sid}/ship", {"carrier": "UPS", "tracking": "1Z"}),
        ("/api/v1/orders/SO-1/deliver", None),
    ]
    for i, (url, body) in enumerate(steps):
        kwargs = {"json": body} if body is not None else {}
        first = client.post(url, headers=client.key(f"life-{i}"), **kwargs)
        assert first.status_code == 200, (url, first.get_json())
        again = client.post(url, headers=client.key(f"life-{i}"), **kwargs)
        # without the key the second one is refused: not allowed in that state
        assert again.status_code == 200 and again.get_json() == first.get_json(), url
    b = balance(sessions)
    assert (b.available, b.reserved) == (3, 0)  # shipped once
    assert count_rows(sessions, IdempotencyRecord, IdempotencyRecord.status == "pending") == 0


def test_a_repeated_cancel_replays_and_releases_once(client, sessions):
    client.post("/api/v1/orders", json=ORDER, headers=client.h)
    first = client.post("/api/v1/orders/SO-1/cancel", json={"reason": "customer"},
                        headers=client.key("c1"))
    again = client.post("/api/v1/orders/SO-1/cancel", json={"reason": "customer"},
                        headers=client.key("c1"))
    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json() and first.get_json()["status"] == "cancelled"
    conflict(client.post("/api/v1/orders/SO-1/cancel", json={"reason": "other"},
                         headers=client.key("c1")))
    b = balance(sessions)
    assert (b.available, b.reserved) == (5, 0)


def test_an_order_key_and_an_action_key_do_not_collide(client, sessions):
    """Keys are per operation: the same key on POST /orders and on a cancel are two."""
    client.post("/api/v1/orders", json=ORDER, headers=client.key("same"))
    r = client.post("/api/v1/orders/SO-1/cancel", json={}, headers=client.key("same"))
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"


# --------------------------------------------------------------------------- returns

def test_a_repeated_return_authorisation_makes_one_rma(client, sessions):
    order = client.post("/api/v1/orders", json=ORDER, headers=client.h).get_json()
    client.post(f"/api/v1/orders/SO-1/shipments/{order['shipments'][0]['id']}/ship",
                json={}, headers=client.h)
    body = {"order": "SO-1", "line": 0, "qty": 1, "reason": "dmg"}
    first = client.post("/api/v1/returns", json=body, headers=client.key("r1"))
    again = client.post("/api/v1/returns", json=body, headers=client.key("r1"))
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert count_rows(sessions, Return) == 1
    code = first.get_json()["code"]
    for i in range(2):
        assert client.post(f"/api/v1/returns/{code}/receive",
                           headers=client.key("rcv")).status_code == 200
        assert client.post(f"/api/v1/returns/{code}/disposition", json={"action": "restock"},
                           headers=client.key("disp")).status_code == 200
    assert balance(sessions).available == 3 + 1  # one unit back, once


# --------------------------------------------------------------------------- cycle counts

def test_a_count_retry_replays_the_first_answer_whatever_happened_since(client, sessions):
    body = {"sku": "A", "node": "N1", "counted": 10}
    first = client.post("/api/v1/inventory/counts", json=body, headers=client.key("cnt-1"))
    assert first.status_code == 200, first.get_json()
    answer = first.get_json()
    assert answer["difference"] == 5 and answer["movement"]["kind"] == "count_gain"
    assert answer["exception"]["kind"] == "count_discrepancy"

    again = client.post("/api/v1/inventory/counts", json=body, headers=client.key("cnt-1"))
    assert again.status_code == 200 and again.get_json() == answer

    # an order now reserves a unit: the retry is still the same request
    client.post("/api/v1/orders", json={**ORDER, "lines": [{"sku": "A", "qty": 1}]},
                headers=client.h)
    later = client.post("/api/v1/inventory/counts", json=body, headers=client.key("cnt-1"))
    assert later.status_code == 200 and later.get_json() == answer

    # another body that would post the very same movement (a gain of 5) is another request
    conflict(client.post("/api/v1/inventory/counts", json={**body, "counted": 9},
                         headers=client.key("cnt-1")))

    assert balance(sessions).available == 10 - 1  # counted once
    assert count_rows(sessions, ExceptionItem, ExceptionItem.kind == "count_discrepancy") == 1


def test_a_count_that_fills_a_backorder_replays_what_it_rerouted(client, sessions):
    waiting = client.post("/api/v1/orders", json={"id": "SO-9", "region": "NE",
                                                  "lines": [{"sku": "B", "qty": 8}]},
                          headers=client.h).get_json()
    assert waiting["status"] == "backordered"
    body = {"sku": "B", "node": "N1", "counted": 20}
    first = client.post("/api/v1/inventory/counts", json=body, headers=client.key("cnt-2"))
    assert first.get_json()["rerouted"]["units_filled"] == 3
    again = client.post("/api/v1/inventory/counts", json=body, headers=client.key("cnt-2"))
    assert again.get_json() == first.get_json()
    b = balance(sessions, "B")
    assert (b.available, b.reserved) == (20 - 3, 8)  # counted once, 3 given to SO-9


def test_other_ledger_postings_replay_their_answer(client, sessions):
    hold = {"sku": "A", "node": "N1", "qty": 2, "reason": "damaged"}
    first = client.post("/api/v1/inventory/holds", json=hold, headers=client.key("h1"))
    again = client.post("/api/v1/inventory/holds", json=hold, headers=client.key("h1"))
    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json()
    move = {"sku": "A", "from_node": "N1", "to_node": "N2", "qty": 1}
    for _ in range(2):
        assert client.post("/api/v1/inventory/transfers", json=move,
                           headers=client.key("t1")).status_code == 200
        assert client.post("/api/v1/inventory/transfers/receive", json=move,
                           headers=client.key("t2")).status_code == 200
    b = balance(sessions)
    assert (b.available, b.hold) == (2, 2)
    assert balance(sessions, "A", "N2").available == 1


def test_the_openapi_document_names_the_header_where_it_is_honoured(client):
    doc = client.get("/api/openapi.json").get_json()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            header = [p for p in op["parameters"] if p["in"] == "header"]
            honoured = method == "post" and path not in READ_ONLY_POSTS
            assert bool(header) == honoured, (method, path)
