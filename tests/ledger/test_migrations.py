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
