"""Engines and units of work for SQLite and PostgreSQL.

SQLite is the embedded default, so it is configured to be correct under
concurrency, not just to work: WAL so readers never block the writer, a busy
timeout so a second writer waits instead of failing, and ``BEGIN IMMEDIATE``
so a write transaction takes the write lock at its start (a deferred
transaction that later upgrades its lock can fail with SQLITE_BUSY no matter
how long the timeout is).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 60_000


def is_sqlite(engine_or_url) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> Engine:
    """Build an engine for ``url``; nothing connects until first use."""
    from ledger.posting import install_stamp_events  # posting's transaction events

    engine = _make_engine(url, echo=echo, pool_size=pool_size)
    install_stamp_events(engine)
    return engine


def _make_engine(url: str, *, echo: bool, pool_size: int) -> Engine:
    sa_url = make_url(url)
    if sa_url.get_backend_name() == "sqlite":
        engine = create_engine(
            sa_url,
            echo=echo,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        )
        _configure_sqlite(engine)
        return engine
    if sa_url.get_backend_name() == "postgresql" and sa_url.get_driver_name() in ("", "psycopg2"):
        # We ship psycopg 3; accept plain postgresql:// URLs by choosing it.
        sa_url = sa_url.set(drivername="postgresql+psycopg")
    # No pool_pre_ping: it costs a round trip per unit of work. Stale
    # connections are recycled instead, and a dropped one fails one request.
    return create_engine(sa_url, echo=echo, pool_size=pool_size, max_overflow=pool_size,
                         pool_recycle=1800)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy (below) emit BEGIN itself instead of pysqlite's
        # implicit, deferred transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


def setup_problem(exc: BaseException) -> str | None:
    """Whether ``exc`` is the database's setup rather than a bug: ``"url"`` (a URL that
    cannot be used: raised while building the engine), ``"unreachable"`` (raised while
    connecting) or ``"no_schema"`` (a table is missing: ``stockroute db upgrade`` was
    not run); None for anything else."""
    import traceback

    from sqlalchemy import exc as sa_exc

    frames = [(f.filename.replace("\\", "/"), f.name)
              for f in traceback.extract_tb(exc.__traceback__)]
    if any(name == "_make_engine" and path.endswith("ledger/db.py") for path, name in frames):
        return "url"
    if not isinstance(exc, sa_exc.DBAPIError):
        return None
    if "no such table" in str(exc.orig) or type(exc.orig).__name__ == "UndefinedTable":
        return "no_schema"
    connecting = any(name == "connect" and path.endswith("sqlalchemy/engine/default.py")
                     for path, name in frames)
    if isinstance(exc, sa_exc.OperationalError) and connecting:
        return "unreachable"
    return None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session], *, commit: bool = True) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back otherwise;
    ``commit=False`` (a dry run) rolls back in both cases."""
    session = factory()
    try:
        yield session
        if commit:
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def read_only(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for reads: on SQLite it does not take the write lock."""
    session = factory()
    try:
        if is_sqlite(session.get_bind()):
            session.connection(execution_options={"sqlite_begin": "DEFERRED"})
        yield session
    finally:
        session.rollback()
        session.close()
