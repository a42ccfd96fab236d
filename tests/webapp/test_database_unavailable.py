"""A database that cannot be reached, or has no schema yet, is the service being unavailable
(503, the same error shape), not a bug: docs/api.md keeps 500 for bugs. /readyz already
answers 503 when the database does not answer."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo

from webapp import create_app
from webapp.cli import main
from webapp.config import TestConfig

TOKEN = {"Authorization": "Bearer sr_00000000_" + "x" * 43}


def unavailable(resp):
    assert resp.status_code == 503, (resp.status_code, resp.get_json())
    error = resp.get_json()["error"]
    assert error["code"] == "unavailable"
    assert "database" in error["message"] and "X-Request-ID" in error["message"]
    assert resp.headers["Retry-After"]


@pytest.mark.parametrize("url", ["postgresql+psycopg://nobody@127.0.0.1:1/none",
                                 "sqlite:////nonexistent-folder/sub/stockroute.sqlite3"])
def test_an_unreachable_database_is_503(url):
    client = create_app(TestConfig(DATABASE_URL=url)).test_client()
    unavailable(client.get("/api/v1/inventory/A", headers=TOKEN))
    assert client.get("/readyz").status_code == 503


def test_a_database_without_the_schema_is_503(database_url):
    app = create_app(TestConfig(DATABASE_URL=database_url))
    try:
        done = CliRunner().invoke(main, ["db", "downgrade", "base"],
                                  obj=ScriptInfo(create_app=lambda: app))
        assert done.exit_code == 0, done.output
        unavailable(app.test_client().get("/api/v1/inventory/A", headers=TOKEN))
    finally:
        app.extensions["stockroute.db"]["engine"].dispose()


def test_a_bug_is_still_a_500(app, monkeypatch):
    from webapp.api import auth

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")
    monkeypatch.setattr(auth, "verify_token", broken)
    resp = app.test_client().get("/api/v1/inventory/A", headers=TOKEN)
    assert resp.status_code == 500 and resp.get_json()["error"]["code"] == "internal_error"
