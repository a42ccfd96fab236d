"""Order intake and lifecycle through the service functions, on real databases."""

from __future__ import annotations

import threading

import pytest

from ledger import master, queries
from ledger.audit import audit
from ledger.db import read_only, unit_of_work
from ledger.errors import LedgerError
from ledger.movements import Movement
from ledger.posting import post
from tests.conftest import ONLY_POSTGRES
from webapp.services import orders as svc
from webapp.services.routing_engine import route_problem


def world(sessions, stock: dict[tuple[str, str], int]) -> None:
    """Two nodes serving region NE: N1 is cheap to ship from, N2 dear."""
    with unit_of_work(sessions) as s:
        master.upsert_skus(s, [{"code": c, "name": c} for c in ("A", "B")])
        master.upsert_nodes(s, [{"code": n, "name": n, "region": "NE"} for n in ("N1", "N2")])
        master.upsert_lanes(s, [
            {"node": "N1", "region": "NE", "service": "standard", "cost_per_shipment": 5,
             "cost_per_unit": 0.5, "transit_days": 2},
            {"node": "N2", "region": "NE", "service": "standard", "cost_per_shipment": 9,
             "cost_per_unit": 0.5, "transit_days": 3},
        ])
        master.upsert_channels(s, [{"code": "web", "name": "web"}])
    moves = [Movement("count_gain", sku, qty, node) for (sku, node), qty in stock.items() if qty]
    if moves:
        with unit_of_work(sessions) as s:
            post(s, moves)


def submit(sessions, code, lines, **extra):
    data = svc.OrderIn(id=code, region="NE", lines=[{"sku": k, "qty": q} for k, q in lines],
                       **extra)
    with unit_of_work(sessions) as s:
        return svc.submit_order(s, data, router=route_problem, actor="test")


def bucket(sessions, sku, node, name):
    with read_only(sessions) as s:
        rows = queries.balances(s, sku=sku, node=node)
    return getattr(rows[0], name) if rows else 0


def test_an_order_is_routed_to_the_cheapest_node_and_reserved(sessions):
    world(sessions, {("A", "N1"): 5, ("A", "N2"): 5})
    view = submit(sessions, "SO-1", [("A", 2)])
    assert view["status"] == "routed"
    assert [(s["node"], s["lines"][0]["qty"]) for s in view["shipments"]] == [("N1", 2)]
    assert view["shipments"][0]["cost"] == pytest.approx(5 + 2 * 0.5)
    assert bucket(sessions, "A", "N1", "reserved") == 2
    assert bucket(sessions, "A", "N1", "available") == 3


def test_an_order_without_stock_is_backordered_with_a_reason_and_an_exception(sessions):
    world(sessions, {("A", "N1"): 1})
    view = submit(sessions, "SO-1", [("A", 3), ("B", 1)])
    assert view["status"] == "backordered"
    reasons = {(b["sku"], b["reason"]) for b in view["backorders"]}
    assert ("B", "no_stock") in reasons
    assert {e["kind"] for e in view["exceptions"]} == {"backorder"}
    assert len(view["exceptions"]) == len(view["backorders"])


def test_bad_orders_are_refused_naming_the_field_and_change_nothing(sessions):
    world(sessions, {("A", "N1"): 5})
    submit(sessions, "SO-1", [("A", 1)])
    with pytest.raises(LedgerError) as dup:
        submit(sessions, "SO-1", [("A", 1)])
    assert dup.value.status == 409 and dup.value.field == "id"
    with pytest.raises(LedgerError) as unknown:
        submit(sessions, "SO-2", [("A", 1), ("NOPE", 1)])
    assert unknown.value.field == "lines[1].sku"
    with pytest.raises(LedgerError) as channel:
        submit(sessions, "SO-3", [("A", 1)], channel="fax")
    assert channel.value.field == "channel"
    assert bucket(sessions, "A", "N1", "reserved") == 1


def test_cancelling_releases_the_reservations(sessions):
    world(sessions, {("A", "N1"): 5})
    submit(sessions, "SO-1", [("A", 4)])
    with unit_of_work(sessions) as s:
        view = svc.cancel_order(s, "SO-1", actor="test", reason="customer asked")
    assert view["status"] == "cancelled"
    assert bucket(sessions, "A", "N1", "available") == 5
    assert [h["to"] for h in view["history"]] == ["received", "routed", "cancelled"]


def test_shipping_moves_reserved_stock_to_the_customer_and_a_cancelled_order_cannot_ship(sessions):
    world(sessions, {("A", "N1"): 5})
    view = submit(sessions, "SO-1", [("A", 2)])
    shipment = view["shipments"][0]["id"]
    with unit_of_work(sessions) as s:
        svc.release_order(s, "SO-1", actor="ops")
    with unit_of_work(sessions) as s:
        view = svc.ship_shipment(s, "SO-1", shipment, actor="ops", carrier="UPS", tracking="1Z")
    assert view["status"] == "shipped" and view["shipments"][0]["tracking"] == "1Z"
    assert bucket(sessions, "A", "N1", "reserved") == 0
    with unit_of_work(sessions) as s:
        assert svc.deliver_order(s, "SO-1", actor="ops")["status"] == "delivered"
    submit(sessions, "SO-2", [("A", 1)])
    with unit_of_work(sessions) as s:
        cancelled = svc.cancel_order(s, "SO-2", actor="ops")
    with pytest.raises(svc.InvalidTransition):
        with unit_of_work(sessions) as s:
            svc.ship_shipment(s, "SO-2", cancelled["shipments"][0]["id"], actor="ops")


def test_a_held_order_cannot_be_released_until_unheld(sessions):
    world(sessions, {("A", "N1"): 5})
    submit(sessions, "SO-1", [("A", 1)])
    with unit_of_work(sessions) as s:
        assert svc.hold_order(s, "SO-1", actor="ops", reason="fraud check")["status"] == "on_hold"
    with pytest.raises(svc.InvalidTransition):
        with unit_of_work(sessions) as s:
            svc.release_order(s, "SO-1", actor="ops")
    with unit_of_work(sessions) as s:
        assert svc.unhold_order(s, "SO-1", actor="ops")["status"] == "routed"


def test_backorders_are_rerouted_when_stock_arrives_oldest_and_most_urgent_first(sessions):
    world(sessions, {})
    submit(sessions, "SO-OLD", [("A", 2)])
    submit(sessions, "SO-NEW", [("A", 2)])
    submit(sessions, "SO-URGENT", [("A", 2)], priority=5)
    with unit_of_work(sessions) as s:
        post(s, [Movement("count_gain", "A", 4, "N2")])
    with unit_of_work(sessions) as s:
        result = svc.reroute_backorders(s, router=route_problem, actor="system",
                                        sku_codes=["A"])
    assert result["units_filled"] == 4
    with read_only(sessions) as s:
        status = {c: svc.order_view(s, c)["status"] for c in ("SO-OLD", "SO-NEW", "SO-URGENT")}
        urgent = svc.order_view(s, "SO-URGENT")
    assert status == {"SO-OLD": "routed", "SO-NEW": "backordered", "SO-URGENT": "routed"}
    assert all(e["status"] == "resolved" for e in urgent["exceptions"])


@pytest.mark.slow
@ONLY_POSTGRES
def test_two_orders_racing_for_the_last_unit_one_gets_it_the_other_is_backordered(sessions):
    world(sessions, {("A", "N1"): 1})
    barrier = threading.Barrier(8)
    results, errors = [], []

    def racer(i):
        barrier.wait()
        try:
            results.append(submit(sessions, f"SO-{i}", [("A", 1)]))
        except Exception as exc:  # noqa: BLE001 - the point is that there are none
            errors.append(exc)

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r["status"] for r in results) == ["backordered"] * 7 + ["routed"]
    with read_only(sessions) as s:
        assert audit(s).clean
    assert bucket(sessions, "A", "N1", "reserved") == 1


def test_batch_reoptimisation_moves_orders_to_cheaper_stock_and_a_dry_run_changes_nothing(sessions):
    world(sessions, {("A", "N2"): 10})
    for i in range(3):
        submit(sessions, f"SO-{i}", [("A", 2)])  # only the dear node had stock
    with unit_of_work(sessions) as s:
        post(s, [Movement("count_gain", "A", 10, "N1")])
    with unit_of_work(sessions, commit=False) as s:
        preview = svc.reoptimize(s, router=route_problem, actor="planner", dry_run=True)
    assert preview["moved"] == 3 and preview["cost_after"] < preview["cost_before"]
    assert bucket(sessions, "A", "N2", "reserved") == 6  # the dry run applied nothing
    with unit_of_work(sessions) as s:
        result = svc.reoptimize(s, router=route_problem, actor="planner")
    assert result == {**preview, "dry_run": False}
    assert bucket(sessions, "A", "N2", "reserved") == 0
    assert bucket(sessions, "A", "N1", "reserved") == 6
    with read_only(sessions) as s:
        assert audit(s).clean
        assert svc.order_view(s, "SO-0")["shipments"][-1]["node"] == "N1"


def test_stockroute_reoptimize_previews_then_applies(database_url, sessions):
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from webapp import create_app
    from webapp.cli import main
    from webapp.config import TestConfig

    world(sessions, {("A", "N2"): 10})
    for i in range(2):
        submit(sessions, f"SO-{i}", [("A", 2)])  # only the dear node had stock
    with unit_of_work(sessions) as s:
        post(s, [Movement("count_gain", "A", 10, "N1")])
    app = create_app(TestConfig(DATABASE_URL=database_url))

    def run(*args):
        return CliRunner().invoke(main, ["reoptimize", "--time-limit", "5", *args],
                                  obj=ScriptInfo(create_app=lambda: app))
    try:
        preview = run("--dry-run")
        assert preview.exit_code == 0, preview.output
        assert "2 open order(s), 2 moved" in preview.output and "nothing applied" in preview.output
        assert bucket(sessions, "A", "N2", "reserved") == 4
        applied = run("--actor", "planner")
        assert applied.exit_code == 0, applied.output
        assert "2 moved" in applied.output and "nothing applied" not in applied.output
        assert bucket(sessions, "A", "N2", "reserved") == 0
        assert bucket(sessions, "A", "N1", "reserved") == 4
        with read_only(sessions) as s:
            assert audit(s).clean
    finally:
        app.extensions["stockroute.db"]["engine"].dispose()


def test_stockroute_reoptimize_says_it_is_working_and_lists_every_change(database_url,
                                                                         sessions):
    """It says what it does before the solve (up to its time limit) instead of nothing,
    and a diff longer than the 20 lines it prints says how many more there are."""
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from webapp import create_app
    from webapp.cli import main
    from webapp.config import TestConfig

    world(sessions, {("A", "N2"): 30})
    for i in range(23):
        submit(sessions, f"SO-{i:02d}", [("A", 1)])  # only the dear node had stock
    with unit_of_work(sessions) as s:
        post(s, [Movement("count_gain", "A", 30, "N1")])
    app = create_app(TestConfig(DATABASE_URL=database_url))
    try:
        result = CliRunner().invoke(main, ["reoptimize", "--time-limit", "5", "--dry-run"],
                                    obj=ScriptInfo(create_app=lambda: app))
        assert result.exit_code == 0, result.output
        assert result.stderr.startswith("re-planning every open order with the batch "
                                        "optimizer (time limit 5 s)")
        lines = result.stdout.splitlines()
        assert lines[0].startswith("23 open order(s), 23 moved")
        assert len(lines) == 1 + 20 + 1 and lines[-1] == "  … and 3 more"
    finally:
        app.extensions["stockroute.db"]["engine"].dispose()


def test_a_return_is_authorised_received_and_restocked(sessions):
    from webapp.services import returns
    world(sessions, {("A", "N1"): 5})
    view = submit(sessions, "SO-1", [("A", 3)])
    with unit_of_work(sessions) as s:
        svc.ship_shipment(s, "SO-1", view["shipments"][0]["id"], actor="ops")
    with pytest.raises(LedgerError) as err:
        with unit_of_work(sessions) as s:
            returns.authorise(s, returns.ReturnIn(order="SO-1", line=0, qty=4, reason="x"),
                              actor="cs")
    assert err.value.field == "qty"
    with unit_of_work(sessions) as s:
        rma = returns.authorise(s, returns.ReturnIn(order="SO-1", line=0, qty=2,
                                                    reason="too small"), actor="cs")
    with pytest.raises(svc.InvalidTransition) as early:
        with unit_of_work(sessions) as s:
            returns.disposition(s, rma["code"], "restock", actor="qa")
    assert early.value.message == f"{rma['code']} is authorised; receive it first"
    with unit_of_work(sessions) as s:
        returns.receive(s, rma["code"], actor="dock")
    assert bucket(sessions, "A", "N1", "inspection") == 2
    with unit_of_work(sessions) as s:
        done = returns.disposition(s, rma["code"], "restock", actor="qa")
    assert done["status"] == "restocked"
    assert bucket(sessions, "A", "N1", "available") == 4
    with pytest.raises(svc.InvalidTransition) as again:
        with unit_of_work(sessions) as s:
            returns.disposition(s, rma["code"], "scrap", actor="qa")
    # not "receive it first": it was received, and its disposition is done
    assert again.value.message == (f"{rma['code']} is restocked already; a return takes "
                                   f"one disposition")


def test_the_intake_answer_is_the_order_as_it_was_stored(sessions):
    """submit_order builds its answer from the values it wrote; reading the
    order back through the ORM gives the same view (split, backorder, history)."""
    from webapp.api.orders import OrderOut
    world(sessions, {("A", "N1"): 2, ("A", "N2"): 1, ("B", "N2"): 1})
    view = submit(sessions, "SO-1", [("A", 4), ("B", 1)], customer_ref="C-9", priority=3,
                  promised_date="2030-01-31")
    assert view["status"] == "backordered" and len(view["shipments"]) == 2
    assert view.pop("routing_status")
    with read_only(sessions) as s:
        stored = svc.order_view(s, "SO-1")

    def same_clock(v):  # SQLite gives back naive UTC datetimes
        if isinstance(v, dict):
            return {k: same_clock(x) for k, x in v.items()}
        if isinstance(v, list):
            return [same_clock(x) for x in v]
        return v.replace("+00:00", "") if isinstance(v, str) else v

    assert same_clock(view) == same_clock(stored)
    OrderOut.model_validate(view)
    assert [h["actor"] for h in view["history"]] == ["test", "test"]
    assert bucket(sessions, "A", "N1", "reserved") == 2 and bucket(sessions, "B", "N2",
                                                                  "reserved") == 1


def test_a_partly_refilled_backorder_exception_says_what_still_waits(sessions):
    """The queue entry is kept (one per line) and its details refreshed on a partial
    refill; its message kept the first shortfall ("4 of 5"), contradicting them."""
    from ledger.models import ExceptionItem
    world(sessions, {("A", "N1"): 1})
    submit(sessions, "SO-1", [("A", 5)])
    with unit_of_work(sessions) as s:
        post(s, [Movement("count_gain", "A", 2, "N1")])
    with unit_of_work(sessions) as s:
        svc.reroute_backorders(s, router=route_problem, actor="system", sku_codes=["A"])
    with read_only(sessions) as s:
        (e,) = s.query(ExceptionItem).filter_by(kind="backorder").all()
        assert e.details["qty"] == 2
        assert e.message.startswith("2 of 5 × A on order SO-1 backordered"), e.message
