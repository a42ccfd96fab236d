"""The web app on the test database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import pytest

from webapp import create_app
from webapp.config import TestConfig


@pytest.fixture
def app(database_url):
    app = create_app(TestConfig(DATABASE_URL=database_url))
    yield app
    engine = app.extensions["stockroute.db"]["engine"]
    if engine is not None:  # close pooled connections so the test database drops at once
        engine.dispose()
