"""Every movement kind moves stock between exactly the places the table says."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from ledger import queries
from ledger.audit import audit
from ledger.db import read_only, unit_of_work
from ledger.errors import InsufficientStock, InvalidMovement, UnknownSku
from ledger.movements import BUCKETS, KINDS, Movement
from ledger.posting import post
from tests.ledger.helpers import make_world


def test_every_kind_in_the_design_table_is_known_and_nothing_else():
    assert set(KINDS) == {
        "po_placed", "receive", "po_cancelled", "reserve", "release", "ship",
        "return_received", "restock", "scrap", "quarantine", "hold", "unhold",
        "count_gain", "count_loss", "transfer_out", "transfer_in",
    }


def test_an_unknown_kind_is_refused():
    with pytest.raises(InvalidMovement) as err:
        Movement("teleport", "A", 1, "N1")
    assert err.value.field == "kind"


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_kind_between_the_wrong_buckets_is_refused(kind):
    frm, to = KINDS[kind]
    wrong_to = next(b for b in BUCKETS if b not in (frm, to))
    with pytest.raises(InvalidMovement):
        Movement(kind, "A", 1, "N1", from_bucket=frm, to_bucket=wrong_to)


@pytest.mark.parametrize("qty", [0, -1, 1.5, True, "3"])
def test_a_quantity_that_is_not_a_positive_integer_is_refused(qty):
    with pytest.raises(InvalidMovement) as err:
        Movement("count_gain", "A", qty, "N1")
    assert err.value.field == "qty"


def test_a_transfer_out_needs_another_node():
    with pytest.raises(InvalidMovement):
        Movement("transfer_out", "A", 1, "N1")
    with pytest.raises(InvalidMovement):
        Movement("transfer_out", "A", 1, "N1", to_node="N1")
    with pytest.raises(InvalidMovement):
        Movement("reserve", "A", 1, "N1", to_node="N2")


def _bal(sessions, sku="A", node="N1"):
    with read_only(sessions) as s:
        rows = queries.balances(s, sku=sku, node=node)
    return rows[0].to_dict() if rows else dict.fromkeys(BUCKETS, 0)


# Each case: kind, the stock set up before it, and the buckets expected after.
CASES = [
    ("po_placed", {}, {"inbound": 5}),
    ("receive", {"inbound": 5}, {"available": 5}),
    ("po_cancelled", {"inbound": 5}, {}),
    ("reserve", {"available": 5}, {"reserved": 5}),
    ("release", {"reserved": 5}, {"available": 5}),
    ("ship", {"reserved": 5}, {}),
    ("return_received", {}, {"inspection": 5}),
    ("restock", {"inspection": 5}, {"available": 5}),
    ("scrap", {"inspection": 5}, {}),
    ("quarantine", {"inspection": 5}, {"hold": 5}),
    ("hold", {"available": 5}, {"hold": 5}),
    ("unhold", {"hold": 5}, {"available": 5}),
    ("count_gain", {}, {"available": 5}),
    ("count_loss", {"available": 5}, {}),
    ("transfer_in", {"in_transit": 5}, {"available": 5}),
]

SETUP = {  # how to put 5 units of A into a bucket at N1 using legal movements only
    "available": [("count_gain", "N1", None)],
    "inbound": [("po_placed", "N1", None)],
    "reserved": [("count_gain", "N1", None), ("reserve", "N1", None)],
    "hold": [("count_gain", "N1", None), ("hold", "N1", None)],
    "inspection": [("return_received", "N1", None)],
    "in_transit": [("count_gain", "N2", None), ("transfer_out", "N2", "N1")],  # inbound from N2
}


@pytest.mark.parametrize("kind,before,after", CASES, ids=[c[0] for c in CASES])
def test_each_kind_moves_stock_from_its_bucket_to_its_bucket(sessions, kind, before, after):
    make_world(sessions)
    for bucket in before:
        for k, node, to_node in SETUP[bucket]:
            with unit_of_work(sessions) as s:
                post(s, [Movement(k, "A", 5, node, to_node=to_node)])
    with unit_of_work(sessions) as s:
        post(s, [Movement(kind, "A", 5, "N1", doc_type="test", doc_id="T-1",
                          source_node="N2" if kind == "transfer_in" else None)])
    balance = _bal(sessions)
    assert {b: balance[b] for b in BUCKETS} == {b: after.get(b, 0) for b in BUCKETS}
    with read_only(sessions) as s:
        assert audit(s, documents=False).clean  # reservations of no order


def test_a_transfer_moves_available_at_one_node_to_inbound_at_another(sessions):
    make_world(sessions, stock=10)
    with unit_of_work(sessions) as s:
        post(s, [Movement("transfer_out", "A", 4, "N1", to_node="N2")])
    assert _bal(sessions, node="N1")["available"] == 6
    assert _bal(sessions, node="N2")["inbound"] == 4
    with unit_of_work(sessions) as s:
        post(s, [Movement("transfer_in", "A", 4, "N2", source_node="N1")])
    assert _bal(sessions, node="N2")["available"] == 14


@pytest.mark.parametrize("kind", sorted(k for k, (f, _) in KINDS.items() if f in BUCKETS))
def test_a_movement_out_of_an_empty_bucket_is_refused_and_changes_nothing(sessions, kind):
    make_world(sessions)
    with pytest.raises(InsufficientStock) as err:
        with unit_of_work(sessions) as s:
            post(s, [Movement("count_gain", "B", 3, "N1"),
                     Movement(kind, "A", 1, "N1", to_node="N2" if kind == "transfer_out" else None,
                              source_node="N2" if kind == "transfer_in" else None)])
    assert err.value.shortages[0]["sku"] == "A"
    assert _bal(sessions, sku="B")["available"] == 0  # the whole posting rolled back


def test_a_posting_names_every_shortage_at_once(sessions):
    make_world(sessions, stock=2)
    with pytest.raises(InsufficientStock) as err:
        with unit_of_work(sessions) as s:
            post(s, [Movement("reserve", "A", 3, "N1"), Movement("reserve", "B", 1, "N1"),
                     Movement("reserve", "C", 5, "N2")])
    assert {(x["sku"], x["node"]) for x in err.value.shortages} == {("A", "N1"), ("C", "N2")}
    assert "A@N1" in str(err.value) and "C@N2" in str(err.value)


def test_several_movements_post_all_or_nothing(sessions):
    make_world(sessions, stock=5)
    with unit_of_work(sessions) as s:
        post(s, [Movement("reserve", "A", 5, "N1"), Movement("ship", "A", 5, "N1")])
    assert _bal(sessions)["available"] == 0 and _bal(sessions)["reserved"] == 0


def test_an_unknown_sku_is_refused(sessions):
    make_world(sessions)
    with pytest.raises(UnknownSku):
        with unit_of_work(sessions) as s:
            post(s, [Movement("count_gain", "NOPE", 1, "N1")])


def test_the_database_refuses_a_negative_balance_even_bypassing_python(sessions):
    make_world(sessions, stock=1)
    with pytest.raises(IntegrityError):
        with unit_of_work(sessions) as s:
            s.execute(text("UPDATE stock_positions SET available = available - 2"))


def test_the_database_refuses_an_illegal_transition_even_bypassing_python(sessions):
    make_world(sessions, stock=1)
    with pytest.raises(IntegrityError):
        with unit_of_work(sessions) as s:
            s.execute(text(
                "INSERT INTO movements (txn_id, kind, sku_id, qty, from_node_id, from_bucket,"
                " to_node_id, to_bucket, created_at) SELECT 'x', 'reserve', id, 1, NULL,"
                " 'supplier', NULL, 'customer', CURRENT_TIMESTAMP FROM skus LIMIT 1"))


@pytest.mark.parametrize("statement", ["UPDATE movements SET qty = qty + 1",
                                       "DELETE FROM movements"])
def test_journal_rows_cannot_be_updated_or_deleted(sessions, statement):
    make_world(sessions, stock=1)
    with pytest.raises(DBAPIError, match="immutable"):
        with unit_of_work(sessions) as s:
            s.execute(text(statement))
    with read_only(sessions) as s:
        assert len(queries.journal_balances(s)) == 6


def test_balances_can_be_reconstructed_at_any_past_instant(sessions):
    import datetime as dt
    make_world(sessions)
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    steps = [("count_gain", 10), ("reserve", 4), ("ship", 3), ("release", 1)]
    for i, (kind, qty) in enumerate(steps):
        with unit_of_work(sessions) as s:
            post(s, [Movement(kind, "A", qty, "N1")], at=t0 + dt.timedelta(hours=i))
    with read_only(sessions) as s:
        at = lambda h: queries.balances_as_of(s, t0 + dt.timedelta(hours=h, minutes=30),
                                              sku="A", node="N1")[0]
        assert (at(0).available, at(0).reserved) == (10, 0)
        assert (at(1).available, at(1).reserved) == (6, 4)
        assert (at(2).available, at(2).reserved) == (6, 1)
        assert (at(3).available, at(3).reserved) == (7, 0)
        assert queries.balances_as_of(s, t0 - dt.timedelta(days=1), sku="A") == []


def test_atp_subtracts_the_promise_buffer_and_never_goes_below_zero(sessions):
    from ledger import master
    make_world(sessions, stock=5)
    with unit_of_work(sessions) as s:
        master.upsert_sku_node_settings(s, [{"sku": "A", "node": "N1", "promise_buffer": 2},
                                            {"sku": "A", "node": "N2", "promise_buffer": 9}])
    with read_only(sessions) as s:
        assert queries.atp(s, "A") == {"N1": 3, "N2": 0}


def test_time_phased_atp_adds_inbound_by_expected_date(sessions):
    import datetime as dt
    from ledger.models import Node, PurchaseOrder, PurchaseOrderLine, Sku, Supplier
    make_world(sessions, stock=5)
    d = dt.date(2026, 12, 1)
    with unit_of_work(sessions) as s:
        sup = Supplier(code="S1", name="s", lead_time_days=7)
        s.add(sup)
        s.flush()
        node = s.query(Node).filter_by(code="N1").one()
        sku = s.query(Sku).filter_by(code="A").one()
        po = PurchaseOrder(code="PO-1", supplier_id=sup.id, node_id=node.id, status="placed",
                           expected_date=d)
        po.lines.append(PurchaseOrderLine(sku_id=sku.id, qty_ordered=12, qty_received=2,
                                          unit_cost=1, expected_date=d))
        s.add(po)
        s.flush()
        post(s, [Movement("po_placed", "A", 10, "N1", doc_type="purchase_order", doc_id="PO-1")])
    with read_only(sessions) as s:
        phased = queries.time_phased_atp(s, "A", [d - dt.timedelta(days=1), d])
    assert [r["atp"] for r in phased["N1"]] == [5, 15]
    assert [r["atp"] for r in phased["N2"]] == [5, 5]


def test_history_pages_through_movements_newest_first(sessions):
    make_world(sessions)
    for i in range(5):
        with unit_of_work(sessions) as s:
            post(s, [Movement("count_gain", "A", i + 1, "N1")])
    with read_only(sessions) as s:
        first = queries.history(s, "A", "N1", limit=3)
        rest = queries.history(s, "A", "N1", limit=3, before_id=first[-1]["id"])
    assert [m["qty"] for m in first] == [5, 4, 3]
    assert [m["qty"] for m in rest] == [2, 1]


def test_a_retry_with_the_same_key_returns_the_first_result_and_applies_nothing(sessions):
    make_world(sessions)
    with unit_of_work(sessions) as s:
        first = post(s, [Movement("count_gain", "A", 3, "N1")], idempotency_key="k-1")
    with unit_of_work(sessions) as s:
        again = post(s, [Movement("count_gain", "A", 3, "N1")], idempotency_key="k-1")
    assert again.replayed and again.movement_ids == first.movement_ids
    assert again.txn_id == first.txn_id
    assert _bal(sessions)["available"] == 3


def test_the_same_key_with_a_different_posting_is_refused(sessions):
    from ledger.errors import IdempotencyConflict
    make_world(sessions)
    with unit_of_work(sessions) as s:
        post(s, [Movement("count_gain", "A", 3, "N1")], idempotency_key="k-1")
    with pytest.raises(IdempotencyConflict) as err:
        with unit_of_work(sessions) as s:
            post(s, [Movement("count_gain", "A", 4, "N1")], idempotency_key="k-1")
    assert err.value.field == "idempotency_key"
    assert _bal(sessions)["available"] == 3


def test_a_failed_posting_does_not_burn_its_idempotency_key(sessions):
    make_world(sessions)
    with pytest.raises(InsufficientStock):
        with unit_of_work(sessions) as s:
            post(s, [Movement("reserve", "A", 1, "N1")], idempotency_key="k-2")
    with unit_of_work(sessions) as s:
        post(s, [Movement("count_gain", "A", 1, "N1")])
    with unit_of_work(sessions) as s:
        result = post(s, [Movement("reserve", "A", 1, "N1")], idempotency_key="k-2")
    assert not result.replayed and _bal(sessions)["reserved"] == 1


def test_ids_seen_in_a_rolled_back_transaction_are_not_reused(sessions):
    from ledger import master
    make_world(sessions, skus=("A",), nodes=("N1",))
    with pytest.raises(InsufficientStock):
        with unit_of_work(sessions) as s:
            master.upsert_skus(s, [{"code": "NEW", "name": "new"}])
            post(s, [Movement("count_gain", "NEW", 1, "N1"), Movement("reserve", "A", 5, "N1")])
    with unit_of_work(sessions) as s:  # NEW again, now with a different id
        master.upsert_skus(s, [{"code": "OTHER", "name": "o"}, {"code": "NEW", "name": "new"}])
    with unit_of_work(sessions) as s:
        post(s, [Movement("count_gain", "NEW", 2, "N1")])
    assert _bal(sessions, sku="NEW")["available"] == 2
    with read_only(sessions) as s:
        assert audit(s, documents=False).clean  # reservations of no order
