"""A throwaway PostgreSQL database for a benchmark run, dropped afterwards."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import text
from sqlalchemy.engine import make_url

from ledger.db import make_engine


@contextmanager
def throwaway_database(url: str, prefix: str) -> Iterator[str]:
    """Create a database next to the one ``url`` names; yield its URL; drop it."""
    base = make_url(url).set(drivername="postgresql+psycopg")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(base.render_as_string(hide_password=False), pool_size=1)
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
