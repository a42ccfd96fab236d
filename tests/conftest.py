"""Database fixtures: every database test runs on SQLite and, when
``TEST_DATABASE_URL`` names a PostgreSQL database, on PostgreSQL too.

Each test gets a fresh database copied from a template migrated once per run
(by Alembic, so the migrations themselves are under test): a file copy on
SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from ledger.db import make_engine, session_factory
from ledger.migrate import upgrade

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
REQUIRE_PG = os.environ.get("STOCKROUTE_REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _admin_engine():
    url = make_url(PG_URL).set(drivername="postgresql+psycopg")
    return make_engine(url.render_as_string(hide_password=False), pool_size=1), url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template():
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("STOCKROUTE_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    admin, url = _admin_engine()
    name = f"stockroute_tpl_{_worker()}_{uuid.uuid4().hex[:8]}"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(url.set(database=name).render_as_string(hide_password=False))
    upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database_url(request, tmp_path):
    """URL of a fresh, migrated, empty database for this test."""
    backend = request.param if hasattr(request, "param") else "sqlite"
    if backend == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("pg_template")
    admin, url = _admin_engine()
    name = f"stockroute_t_{_worker()}_{uuid.uuid4().hex[:10]}"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def engine(database_url):
    eng = make_engine(database_url, pool_size=20)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine):
    return session_factory(engine)


def pytest_generate_tests(metafunc):
    # Any test that uses the database runs once per backend.
    if "database_url" not in metafunc.fixturenames:
        return
    explicit = any("database_url" in m.args[0]
                   for m in metafunc.definition.iter_markers("parametrize"))
    if not explicit:
        metafunc.parametrize("database_url", BACKENDS, indirect=True)


ONLY_POSTGRES = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
ONLY_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def backend(engine) -> str:
    return engine.dialect.name
