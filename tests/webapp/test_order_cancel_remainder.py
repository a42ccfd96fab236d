"""Cancelling what is left of a partly shipped order."""

from __future__ import annotations

from ledger.audit import audit
from ledger.db import read_only, unit_of_work
from tests.webapp.test_orders_service import bucket, submit, world
from webapp.services import orders as svc


def test_cancelling_a_partly_shipped_order_releases_the_rest_and_keeps_the_shipped_units(sessions):
    world(sessions, {("A", "N1"): 1, ("B", "N2"): 1})
    view = submit(sessions, "SO-1", [("A", 1), ("B", 2)])
    assert view["status"] == "backordered"
    by_node = {s["node"]: s["id"] for s in view["shipments"]}
    assert set(by_node) == {"N1", "N2"}
    with unit_of_work(sessions) as s:
        svc.ship_shipment(s, "SO-1", by_node["N1"], actor="wh")
    with unit_of_work(sessions) as s:
        view = svc.cancel_order(s, "SO-1", actor="shop", reason="customer asked")
    assert view["status"] == "shipped"
    assert {s["node"]: s["status"] for s in view["shipments"]} == {"N1": "shipped",
                                                                    "N2": "cancelled"}
    assert view["backorders"] == []
    assert view["history"][-1]["to"] == "shipped"
    assert view["history"][-1]["reason"] == "unshipped remainder cancelled: customer asked"
    assert all(e["status"] == "resolved" for e in view["exceptions"])
    assert bucket(sessions, "B", "N2", "reserved") == 0
    assert bucket(sessions, "B", "N2", "available") == 1
    assert bucket(sessions, "A", "N1", "reserved") == 0  # shipped, not released
    # The shipped part goes on as any shipped order: it can be delivered, and
    # it is no longer cancellable.
    with unit_of_work(sessions) as s:
        assert svc.deliver_order(s, "SO-1", actor="carrier")["status"] == "delivered"
    with read_only(sessions) as s:
        assert audit(s).clean


def test_an_order_with_nothing_shipped_still_ends_cancelled(sessions):
    world(sessions, {("A", "N1"): 1})
    submit(sessions, "SO-1", [("A", 2)])
    with unit_of_work(sessions) as s:
        view = svc.cancel_order(s, "SO-1", actor="shop")
    assert view["status"] == "cancelled" and view["backorders"] == []
    assert bucket(sessions, "A", "N1", "available") == 1
