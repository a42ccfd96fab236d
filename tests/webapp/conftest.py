"""The web app on the test database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import pytest

from ledger.access import create_token
from ledger.db import unit_of_work
from tests.ledger.helpers import make_world
from webapp import create_app
from webapp.config import TestConfig


@pytest.fixture
def app(database_url):
    app = create_app(TestConfig(DATABASE_URL=database_url))
    yield app
    engine = app.extensions["stockroute.db"]["engine"]
    if engine is not None:  # close pooled connections so the test database drops at once
        engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def admin(sessions):
    """A small world (tests.ledger.helpers.make_world, 5 units of stock) and the headers
    of an admin token."""
    make_world(sessions, stock=5)
    with unit_of_work(sessions) as s:
        _, plaintext = create_token(s, "ops", ["admin"])
    return {"Authorization": f"Bearer {plaintext}"}
