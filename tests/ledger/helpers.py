"""Small worlds for ledger tests."""

from __future__ import annotations

from ledger import master
from ledger.db import unit_of_work
from ledger.movements import Movement
from ledger.posting import post


def make_world(sessions, skus=("A", "B", "C"), nodes=("N1", "N2"), stock: int = 0) -> None:
    """SKUs and nodes; with ``stock``, that many units available everywhere."""
    with unit_of_work(sessions) as s:
        master.upsert_skus(s, [{"code": c, "name": f"sku {c}"} for c in skus])
        master.upsert_nodes(s, [{"code": n, "name": f"node {n}", "region": "NE"} for n in nodes])
    if stock:
        with unit_of_work(sessions) as s:
            post(s, [Movement("count_gain", sku, stock, node) for sku in skus for node in nodes])
