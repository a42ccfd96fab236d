"""Alembic environment: the engine is handed in by ``ledger.migrate``."""

from alembic import context

import ledger.access  # noqa: F401  (users and api_tokens join the metadata)
from ledger.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters via batch mode
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
