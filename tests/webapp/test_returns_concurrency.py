"""Concurrent return authorisations: never more returned than shipped, never a 500.

Each race is made deterministic with a barrier in the session's ``before_flush``
hook, which fires when an authorisation is about to insert its return, that is
after it has checked what is left to return: without a lock both requests pass
the check before either inserts. With the order locked, the second request
waits for the first at the lock; the first then waits out the barrier's
timeout alone and goes on.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import event, func, select

from ledger.access import create_token
from ledger.db import read_only, unit_of_work
from ledger.errors import LedgerError
from ledger.models import Return
from tests.webapp.test_orders_service import submit, world
from webapp import create_app
from webapp.config import TestConfig
from webapp.services import orders as svc
from webapp.services import returns

GATE_TIMEOUT = 3.0


def _shipped_order(sessions, code: str, qty: int) -> None:
    view = submit(sessions, code, [("A", qty)])
    with unit_of_work(sessions) as s:
        svc.ship_shipment(s, code, view["shipments"][0]["id"], actor="ops")


def _gate_inserts(sessions, parties: int) -> threading.Barrier:
    """Hold every session about to insert a return at one barrier (once per session)."""
    barrier = threading.Barrier(parties, timeout=GATE_TIMEOUT)

    @event.listens_for(sessions, "before_flush")
    def _wait(session, _context, _instances):
        if session.info.get("gated") or not any(isinstance(o, Return) for o in session.new):
            return
        session.info["gated"] = True
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass  # the other request is waiting at the order's lock: go on alone

    return barrier


def _authorise(sessions, order: str, qty: int):
    try:
        with unit_of_work(sessions) as s:
            return returns.authorise(s, returns.ReturnIn(order=order, line=0, qty=qty,
                                                         reason="dmg"), actor="cs")
    except LedgerError as err:
        return err


def _returned(sessions) -> dict[str, int]:
    with read_only(sessions) as s:
        return {code: qty for code, qty in s.execute(select(Return.code, Return.qty))}


def test_two_concurrent_returns_of_a_whole_line_authorise_only_one(sessions):
    world(sessions, {("A", "N1"): 5})
    _shipped_order(sessions, "L2", 3)
    _gate_inserts(sessions, 2)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: _authorise(sessions, "L2", 3), range(2)))
    ok = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, LedgerError)]
    assert len(ok) == 1 and len(refused) == 1, results
    assert refused[0].field == "qty"
    assert sum(_returned(sessions).values()) == 3  # never more than was shipped


def test_concurrent_returns_on_different_orders_get_distinct_codes(sessions):
    world(sessions, {("A", "N1"): 5})
    _shipped_order(sessions, "O1", 1)
    _shipped_order(sessions, "O2", 1)
    _gate_inserts(sessions, 2)  # both have counted the returns before either inserts
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda o: _authorise(sessions, o, 1), ["O1", "O2"]))
    assert all(isinstance(r, dict) for r in results), results
    codes = sorted(r["code"] for r in results)
    assert len(set(codes)) == 2 and all(c.startswith("RMA-") for c in codes)
    assert sorted(_returned(sessions)) == codes


def test_a_storm_of_identical_returns_over_http_authorises_one_and_never_fails(
        database_url, sessions):
    """The reported case: ten parallel POST /returns for a line that shipped 3."""
    app = create_app(TestConfig(DATABASE_URL=database_url))
    try:
        world(sessions, {("A", "N1"): 5})
        _shipped_order(sessions, "L2", 3)
        with unit_of_work(sessions) as s:
            _, token = create_token(s, "cs", ["orders:write", "inventory:write"])
        h = {"Authorization": f"Bearer {token}"}
        start = threading.Barrier(10)

        def call(_):
            client = app.test_client()
            start.wait()
            return client.post("/api/v1/returns", headers=h,
                               json={"order": "L2", "line": 0, "qty": 3, "reason": "dmg"})

        with ThreadPoolExecutor(10) as pool:
            answers = list(pool.map(call, range(10)))
        statuses = sorted(r.status_code for r in answers)
        assert statuses == [201] + [422] * 9, [r.get_json() for r in answers]
        assert all(r.get_json()["error"]["field"] == "qty" for r in answers
                   if r.status_code == 422)
        with read_only(sessions) as s:
            assert s.scalar(select(func.sum(Return.qty))) == 3
    finally:
        app.extensions["stockroute.db"]["engine"].dispose()


def test_return_codes_continue_after_codes_given_by_count(sessions):
    """Rows from before (codes by count) and new codes never collide."""
    world(sessions, {("A", "N1"): 5})
    _shipped_order(sessions, "O1", 3)
    first = _authorise(sessions, "O1", 1)
    second = _authorise(sessions, "O1", 1)
    assert first["code"] != second["code"]
    assert int(second["code"].removeprefix("RMA-")) > int(first["code"].removeprefix("RMA-"))

