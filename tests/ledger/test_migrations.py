"""The migrations build exactly the schema the models describe, and go both ways."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ledger.migrate import current, downgrade, upgrade
from ledger.models import Base


def test_the_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_migrations_downgrade_to_nothing_and_upgrade_again(engine):
    head = current(engine)
    downgrade(engine, "base")
    assert current(engine) is None
    upgrade(engine)
    assert current(engine) == head


def test_upgrading_puts_open_transfers_in_transit_oldest_received_first(engine, sessions):
    """Receipts from before 0006 do not name their route: they are matched against
    the oldest open shipments to their node."""
    import datetime as dt

    from sqlalchemy import text

    from ledger import master, queries
    from ledger.audit import audit
    from ledger.db import read_only, unit_of_work

    downgrade(engine, "0005")
    with unit_of_work(sessions) as s:
        master.upsert_skus(s, [{"code": "A", "name": "a"}])
        master.upsert_nodes(s, [{"code": n, "name": n, "region": "NE"} for n in ("N1", "N2", "N3")])
        ids = dict(s.execute(text("SELECT code, id FROM nodes")).all())
        sku = s.execute(text("SELECT id FROM skus")).scalar_one()
        n1, n2, n3 = ids["N1"], ids["N2"], ids["N3"]
        for kind, qty, frm, fb, to, tb in [
            ("count_gain", 10, None, "adjustment", n1, "available"),
            ("count_gain", 10, None, "adjustment", n2, "available"),
            ("transfer_out", 3, n1, "available", n3, "inbound"),
            ("transfer_out", 4, n2, "available", n3, "inbound"),
            ("transfer_in", 5, n3, "inbound", n3, "available"),
        ]:
            s.execute(text(
                "INSERT INTO movements (txn_id, kind, sku_id, qty, from_node_id, from_bucket,"
                " to_node_id, to_bucket, created_at) VALUES (:t, :k, :s, :q, :f, :fb, :to, :tb, :at)"),
                {"t": kind, "k": kind, "s": sku, "q": qty, "f": frm, "fb": fb, "to": to, "tb": tb,
                 "at": dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)})
        for node, available, inbound in ((n1, 7, 0), (n2, 6, 0), (n3, 5, 2)):
            s.execute(text(
                "INSERT INTO stock_positions (sku_id, node_id, available, reserved, hold,"
                " inspection, inbound) VALUES (:s, :n, :a, 0, 0, 0, :i)"),
                {"s": sku, "n": node, "a": available, "i": inbound})
    upgrade(engine)
    with read_only(sessions) as s:
        assert queries.in_transit(s) == [{"sku": "A", "from_node": "N2", "to_node": "N3", "qty": 2}]
        assert audit(s).clean
