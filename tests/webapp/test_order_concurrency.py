"""Backorder refills, batch re-optimisation and order lifecycle actions running
at the same time, interleaved explicitly.

The router is a parameter of every routing path, so a test can stop one path
inside its solve (after it has read the orders and, with the fix, locked them)
while another path runs, then let it go on. Each test runs on SQLite (writers
queue on the database lock) and on PostgreSQL (row locks).
"""

from __future__ import annotations

import threading

from sqlalchemy import select

from ledger.audit import audit
from ledger.db import read_only, unit_of_work
from ledger.models import ExceptionItem
from ledger.movements import Movement
from ledger.posting import post
from tests.webapp.test_orders_service import bucket, submit, world
from webapp.services import orders as svc
from webapp.services.routing_engine import route_problem

# How long the other side may run on its own while the first path is paused;
# without the locks it finishes well within this, with them it waits.
ALONE_S = 1.5


class PausingRouter:
    """The real router, but its first call waits until ``go`` is set."""

    def __init__(self) -> None:
        self.entered, self.go = threading.Event(), threading.Event()
        self.calls = 0

    def __call__(self, problem: dict) -> dict:
        self.calls += 1
        if self.calls == 1:
            self.entered.set()
            assert self.go.wait(60), "the test never let the router go on"
        return route_problem(problem)


class Runner(threading.Thread):
    """Runs ``fn(session)`` in its own unit of work; keeps its result or error."""

    def __init__(self, sessions, fn) -> None:
        super().__init__(daemon=True)
        self.sessions, self.fn = sessions, fn
        self.result = self.error = None

    def run(self) -> None:
        try:
            with unit_of_work(self.sessions) as s:
                self.result = self.fn(s)
        except BaseException as err:  # noqa: BLE001 - reported by the test
            self.error = err


def interleave(sessions, paused_fn, router: PausingRouter, other_fn) -> tuple[Runner, Runner]:
    """Start ``paused_fn``, wait until it is inside the router, run ``other_fn``
    alone for a while, then let the first go on; both finish."""
    first = Runner(sessions, paused_fn)
    first.start()
    assert router.entered.wait(30), f"the first path never reached the router: {first.error!r}"
    second = Runner(sessions, other_fn)
    second.start()
    second.join(ALONE_S)
    router.go.set()
    first.join(60)
    second.join(60)
    assert not first.is_alive() and not second.is_alive()
    return first, second


def order(sessions, code):
    with read_only(sessions) as s:
        return svc.order_view(s, code)


def open_units(view) -> int:
    return sum(l["qty"] for s in view["shipments"] if s["status"] in ("planned", "released")
               for l in s["lines"])


def count_gain(sessions, sku, qty, node):
    with unit_of_work(sessions) as s:
        post(s, [Movement("count_gain", sku, qty, node)])


def assert_audit_clean(sessions):
    with read_only(sessions) as s:
        assert audit(s).clean


# --------------------------------------------------------------------------- defect 1

def test_a_cancel_during_a_backorder_refill_is_never_undone(sessions):
    world(sessions, {})
    assert submit(sessions, "SO-1", [("A", 1)])["status"] == "backordered"
    count_gain(sessions, "A", 1, "N1")
    router = PausingRouter()
    refill, cancel = interleave(
        sessions,
        lambda s: svc.reroute_backorders(s, router=router, actor="system", sku_codes=["A"]),
        router,
        lambda s: svc.cancel_order(s, "SO-1", actor="test"))
    assert refill.error is None and cancel.error is None, (refill.error, cancel.error)
    view = order(sessions, "SO-1")
    assert view["status"] == "cancelled"
    assert open_units(view) == 0
    assert view["history"][-1]["to"] == "cancelled"
    assert bucket(sessions, "A", "N1", "reserved") == 0
    assert bucket(sessions, "A", "N1", "available") == 1
    assert_audit_clean(sessions)


def test_two_refills_racing_for_one_backorder_reserve_it_once(sessions):
    world(sessions, {})
    assert submit(sessions, "SO-1", [("A", 1)])["status"] == "backordered"
    count_gain(sessions, "A", 1, "N1")
    count_gain(sessions, "A", 1, "N2")
    router = PausingRouter()
    first, second = interleave(
        sessions,
        lambda s: svc.reroute_backorders(s, router=router, actor="system", sku_codes=["A"]),
        router,
        lambda s: svc.reroute_backorders(s, router=route_problem, actor="system",
                                         sku_codes=["A"]))
    assert first.error is None and second.error is None, (first.error, second.error)
    view = order(sessions, "SO-1")
    assert view["status"] == "routed"
    assert open_units(view) == 1
    assert len([s for s in view["shipments"] if s["status"] == "planned"]) == 1
    assert view["lines"][0]["qty_backordered"] == 0
    assert bucket(sessions, "A", "N1", "reserved") + bucket(sessions, "A", "N2", "reserved") == 1
    assert first.result["units_filled"] + second.result["units_filled"] == 1
    assert_audit_clean(sessions)


def test_a_refill_skips_an_order_that_was_cancelled_before_it_locked_it(sessions):
    world(sessions, {})
    for code in ("SO-1", "SO-2"):
        assert submit(sessions, code, [("A", 1)])["status"] == "backordered"
    count_gain(sessions, "A", 2, "N1")
    with unit_of_work(sessions) as s:
        svc.cancel_order(s, "SO-1", actor="test")
    with unit_of_work(sessions) as s:
        result = svc.reroute_backorders(s, router=route_problem, actor="system",
                                        sku_codes=["A"])
    assert result == {"orders": 1, "units_filled": 1}
    assert order(sessions, "SO-1")["status"] == "cancelled"
    assert order(sessions, "SO-2")["status"] == "routed"
    assert bucket(sessions, "A", "N1", "reserved") == 1


# --------------------------------------------------------------------------- defect 2

def test_a_cancel_during_a_reoptimisation_neither_deadlocks_nor_is_undone(sessions):
    world(sessions, {("A", "N1"): 5, ("A", "N2"): 5})
    for code in ("SO-1", "SO-2", "SO-3"):
        assert submit(sessions, code, [("A", 1)])["status"] == "routed"
    router = PausingRouter()
    reopt, cancel = interleave(
        sessions,
        lambda s: svc.reoptimize(s, router=router, actor="planner",
                                 settings=svc.RoutingSettings(time_limit_s=2.0)),
        router,
        lambda s: svc.cancel_order(s, "SO-2", actor="test"))
    assert reopt.error is None and cancel.error is None, (reopt.error, cancel.error)
    view = order(sessions, "SO-2")
    assert view["status"] == "cancelled" and open_units(view) == 0
    routed = [order(sessions, c) for c in ("SO-1", "SO-3")]
    assert all(v["status"] == "routed" and open_units(v) == 1 for v in routed)
    reserved = bucket(sessions, "A", "N1", "reserved") + bucket(sessions, "A", "N2", "reserved")
    assert reserved == 2
    assert_audit_clean(sessions)


def test_a_shipment_during_a_refill_of_the_same_order_does_not_deadlock(sessions):
    """A partly routed order waits for more units while its first shipment ships."""
    world(sessions, {("A", "N1"): 1})
    view = submit(sessions, "SO-1", [("A", 2)])
    assert view["status"] == "backordered" and open_units(view) == 1
    shipment = view["shipments"][0]["id"]
    count_gain(sessions, "A", 1, "N2")
    router = PausingRouter()
    refill, ship = interleave(
        sessions,
        lambda s: svc.reroute_backorders(s, router=router, actor="system", sku_codes=["A"]),
        router,
        lambda s: svc.ship_shipment(s, "SO-1", shipment, actor="test"))
    assert refill.error is None and ship.error is None, (refill.error, ship.error)
    view = order(sessions, "SO-1")
    assert view["lines"][0]["qty_backordered"] == 0
    assert [s["status"] for s in view["shipments"]] == ["shipped", "planned"]
    assert bucket(sessions, "A", "N2", "reserved") == 1
    assert_audit_clean(sessions)


# --------------------------------------------------------------------------- defect 3

def test_a_refill_that_fails_leaves_the_committed_posting_answered_and_queued(
        sessions, database_url, monkeypatch):
    from ledger.access import create_token
    from webapp import create_app
    from webapp.config import TestConfig

    world(sessions, {})
    assert submit(sessions, "SO-1", [("A", 1)])["status"] == "backordered"
    with unit_of_work(sessions) as s:
        _, token = create_token(s, "wh", "inventory:write,exceptions:read,orders:write")
    headers = {"Authorization": f"Bearer {token}"}

    def broken(*args, **kwargs):
        raise RuntimeError("the router fell over")

    monkeypatch.setattr(svc, "reroute_backorders", broken)
    app = create_app(TestConfig(DATABASE_URL=database_url))
    try:
        client = app.test_client()
        r = client.post("/api/v1/inventory/counts", json={"sku": "A", "node": "N1", "counted": 3},
                        headers=headers)
        assert r.status_code == 200, r.get_json()
        body = r.get_json()
        assert body["difference"] == 3
        assert body["rerouted"] == {"orders": 0, "units_filled": 0, "deferred": True}
        # The same count again changes nothing more (a count sets, it does not add).
        r = client.post("/api/v1/inventory/counts", json={"sku": "A", "node": "N1", "counted": 3},
                        headers=headers)
        assert r.status_code == 200 and r.get_json()["difference"] == 0
        r = client.get("/api/v1/exceptions?kind=refill_failed", headers=headers)
        assert r.status_code == 200
        items = r.get_json()["items"]
        assert len(items) == 1 and items[0]["status"] == "open" and items[0]["sku"] == "A"
        assert bucket(sessions, "A", "N1", "available") == 3
        assert order(sessions, "SO-1")["status"] == "backordered"
        monkeypatch.undo()
        # The order's backorder exception offers the reroute; it works now.
        backorder = next(e for e in order(sessions, "SO-1")["exceptions"]
                         if e["kind"] == "backorder")
        r = client.post(f"/api/v1/exceptions/{backorder['id']}/reroute", headers=headers)
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["status"] == "routed"
    finally:
        app.extensions["stockroute.db"]["engine"].dispose()
    assert bucket(sessions, "A", "N1", "reserved") == 1
    assert_audit_clean(sessions)


def test_a_refill_retries_a_deadlock_then_succeeds(sessions, monkeypatch):
    """A refill runs in its own transaction and reads everything again, so a
    deadlock victim is simply run again."""
    import psycopg.errors
    from sqlalchemy.exc import OperationalError

    world(sessions, {})
    assert submit(sessions, "SO-1", [("A", 1)])["status"] == "backordered"
    count_gain(sessions, "A", 1, "N1")
    real, calls = svc.reroute_backorders, []

    def flaky(session, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("UPDATE …", {}, psycopg.errors.DeadlockDetected())
        return real(session, **kwargs)

    monkeypatch.setattr(svc, "reroute_backorders", flaky)
    assert svc.refill_after_arrival(sessions, ["A"], router=route_problem) == {
        "orders": 1, "units_filled": 1}
    assert len(calls) == 2
    with read_only(sessions) as s:
        assert not [e for e in s.scalars(select(ExceptionItem))
                    if e.kind == "refill_failed"]


def _refill_failures(sessions) -> list[tuple[str, str]]:
    with read_only(sessions) as s:
        return [(e.sku_code, e.status) for e in s.scalars(
            select(ExceptionItem).where(ExceptionItem.kind == "refill_failed")
            .order_by(ExceptionItem.sku_code))]


def _fail_a_refill(sessions, monkeypatch, skus):
    def broken(*args, **kwargs):
        raise RuntimeError("the router fell over")

    with monkeypatch.context() as m:
        m.setattr(svc, "reroute_backorders", broken)
        assert svc.refill_after_arrival(sessions, skus, router=route_problem)["deferred"]


def test_a_later_refill_of_the_sku_settles_its_failed_refill(sessions, monkeypatch):
    world(sessions, {})
    assert submit(sessions, "SO-1", [("A", 1)])["status"] == "backordered"
    assert submit(sessions, "SO-2", [("B", 1)])["status"] == "backordered"
    _fail_a_refill(sessions, monkeypatch, ["A", "B"])
    assert _refill_failures(sessions) == [("A", "open"), ("B", "open")]
    # A arrives again and its refill runs: A's failure is settled, B's still waits
    count_gain(sessions, "A", 1, "N1")
    assert svc.refill_after_arrival(sessions, ["A"], router=route_problem) == {
        "orders": 1, "units_filled": 1}
    assert _refill_failures(sessions) == [("A", "resolved"), ("B", "open")]
    assert order(sessions, "SO-1")["status"] == "routed"
    assert_audit_clean(sessions)


def test_a_reoptimisation_settles_every_failed_refill(sessions, monkeypatch):
    world(sessions, {})
    assert submit(sessions, "SO-1", [("A", 1)])["status"] == "backordered"
    count_gain(sessions, "A", 1, "N1")
    _fail_a_refill(sessions, monkeypatch, ["A"])
    with unit_of_work(sessions) as s:
        svc.reoptimize(s, router=route_problem, actor="planner", dry_run=True)
        s.rollback()   # what the dry run's caller does
    assert _refill_failures(sessions) == [("A", "open")]
    with unit_of_work(sessions) as s:
        diff = svc.reoptimize(s, router=route_problem, actor="planner")
    assert diff["backorders_filled"] == 1
    assert _refill_failures(sessions) == [("A", "resolved")]
    assert order(sessions, "SO-1")["status"] == "routed"
    assert_audit_clean(sessions)


def test_rerouting_from_the_exception_of_a_cancelled_order_is_a_conflict(
        sessions, database_url):
    from ledger.access import create_token
    from webapp import create_app
    from webapp.config import TestConfig

    world(sessions, {})
    assert submit(sessions, "SO-1", [("A", 1)])["status"] == "backordered"
    backorder = next(e for e in order(sessions, "SO-1")["exceptions"] if e["kind"] == "backorder")
    with unit_of_work(sessions) as s:
        svc.cancel_order(s, "SO-1", actor="test")
        _, token = create_token(s, "wh", "orders:write,orders:read")
    count_gain(sessions, "A", 1, "N1")
    app = create_app(TestConfig(DATABASE_URL=database_url))
    try:
        r = app.test_client().post(f"/api/v1/exceptions/{backorder['id']}/reroute",
                                   headers={"Authorization": f"Bearer {token}"})
    finally:
        app.extensions["stockroute.db"]["engine"].dispose()
    assert r.status_code == 409, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == "invalid_transition"
    assert error["message"] == "order SO-1 has no lines waiting to be routed (it is cancelled)"
    assert order(sessions, "SO-1")["status"] == "cancelled"
    assert bucket(sessions, "A", "N1", "reserved") == 0
    assert_audit_clean(sessions)
