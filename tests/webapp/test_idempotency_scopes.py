"""An idempotency key is unique per operation: an order's key and a ledger posting's
key never collide, while a true replay still returns the first result."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo

from ledger import queries
from ledger.access import create_token
from ledger.db import read_only, unit_of_work
from ledger.errors import IdempotencyConflict
from ledger.movements import Movement
from ledger.posting import post
from tests.ledger.helpers import make_world
from tests.webapp.test_orders_service import world
from webapp.cli import main
from webapp.services import idempotency

ORDER = {"id": "SO-1", "region": "NE", "lines": [{"sku": "A", "qty": 2}]}


def test_an_order_key_does_not_block_a_ledger_posting_with_the_same_key(app, sessions):
    world(sessions, {("A", "N1"): 10, ("B", "N1"): 10})
    with unit_of_work(sessions) as s:
        _, plaintext = create_token(s, "storefront", ["orders:write"])
    client = app.test_client()
    h = {"Authorization": f"Bearer {plaintext}", "Idempotency-Key": "k1"}
    order = client.post("/api/v1/orders", json=ORDER, headers=h)
    assert order.status_code == 201, order.json

    cli = CliRunner()
    args = ["ledger", "post", "count_gain", "B", "5", "N1", "--key", "k1"]
    first = cli.invoke(main, args, obj=ScriptInfo(create_app=lambda: app))
    assert first.exit_code == 0, first.output
    again = cli.invoke(main, args, obj=ScriptInfo(create_app=lambda: app))
    assert json.loads(again.output) == {**json.loads(first.output), "replayed": True}
    other = cli.invoke(main, ["ledger", "post", "count_gain", "B", "6", "N1", "--key", "k1"],
                       obj=ScriptInfo(create_app=lambda: app))
    assert other.exit_code == 1 and "different request" in other.output

    replay = client.post("/api/v1/orders", json=ORDER, headers=h)  # the order's own replay
    assert replay.status_code == 201 and replay.json == order.json
    with read_only(sessions) as s:
        assert queries.balances(s, sku="B", node="N1")[0].available == 15  # posted once
        assert queries.balances(s, sku="A", node="N1")[0].reserved == 2  # reserved once


def test_a_scope_is_given_by_the_caller_and_keys_repeat_only_within_it(sessions):
    make_world(sessions, stock=10)
    moves = [Movement("count_gain", "A", 1, "N1")]
    with unit_of_work(sessions) as s:
        first = post(s, moves, idempotency_key="k", idempotency_scope="counts")
    with unit_of_work(sessions) as s:
        other = post(s, [Movement("hold", "A", 2, "N1")], idempotency_key="k")
    with unit_of_work(sessions) as s:
        replay = post(s, moves, idempotency_key="k", idempotency_scope="counts")
    assert not other.replayed and other.txn_id != first.txn_id
    assert replay.replayed and replay.txn_id == first.txn_id
    with pytest.raises(IdempotencyConflict):
        with unit_of_work(sessions) as s:
            post(s, [Movement("count_gain", "A", 9, "N1")], idempotency_key="k",
                 idempotency_scope="counts")
    with read_only(sessions) as s:
        b = queries.balances(s, sku="A", node="N1")[0]
    assert (b.available, b.hold) == (9, 2)


def test_finishing_or_abandoning_a_key_touches_only_its_own_scope(sessions):
    make_world(sessions)
    assert idempotency.claim(sessions, "k", "orders", {"a": 1}) is None
    assert idempotency.claim(sessions, "k", "other", {"b": 2}) is None
    with unit_of_work(sessions) as s:
        idempotency.complete(s, "k", "orders", {"answer": 1})
    idempotency.abandon(sessions, "k", "orders")  # done: stays
    idempotency.abandon(sessions, "k", "other")  # pending: removed, may be used again
    assert idempotency.claim(sessions, "k", "orders", {"a": 1}) == {"answer": 1}
    assert idempotency.claim(sessions, "k", "other", {"c": 3}) is None
