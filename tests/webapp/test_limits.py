"""App-wide limits: request body size, and /metrics behind a token when one is set."""

from __future__ import annotations

import pytest

from webapp import create_app
from webapp.config import TestConfig


@pytest.fixture
def make_client(tmp_path):
    apps = []

    def make(**config):
        app = create_app(TestConfig(DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3", **config))
        apps.append(app)
        return app.test_client()
    yield make
    for app in apps:
        engine = app.extensions["stockroute.db"]["engine"]
        if engine is not None:
            engine.dispose()


def test_an_oversized_body_is_413_in_the_json_error_shape(make_client):
    client = make_client(MAX_CONTENT_LENGTH=1024)
    resp = client.post("/api/v1/orders", data=b"{" + b" " * 4096 + b"}",
                       headers={"Content-Type": "application/json"})
    assert resp.status_code == 413
    assert resp.json["error"]["code"] == "payload_too_large"
    assert "1024 bytes" in resp.json["error"]["message"]  # names the limit
    assert resp.json["error"]["field"] == "Content-Length"


def test_the_default_body_limit_is_16_mib(make_client):
    client = make_client()
    assert client.application.config["MAX_CONTENT_LENGTH"] == 16 * 1024 * 1024


def test_metrics_need_the_token_when_one_is_set(make_client):
    client = make_client(METRICS_TOKEN="s3cret-metrics")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics"})
    assert ok.status_code == 200 and b"stockroute_http_requests_total" in ok.data


def test_metrics_are_open_without_a_token(make_client):
    assert make_client().get("/metrics").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/inventory/counts", "/api/v1/routing/plan"])
def test_a_chunked_body_over_the_limit_is_413_too(database_url, sessions, path):
    """A body without Content-Length (Transfer-Encoding: chunked) is cut at the limit
    while it is read; that was answered 400 "not valid JSON" (or, with a valid prefix,
    processed), not the 413 that names the limit."""
    import io
    import json

    from ledger.access import create_token
    from ledger.db import unit_of_work
    app = create_app(TestConfig(DATABASE_URL=database_url, MAX_CONTENT_LENGTH=1024))
    with unit_of_work(sessions) as s:
        _, token = create_token(s, "ops", ["admin"])
    client = app.test_client()

    def chunked(body: bytes):
        return client.post(path, input_stream=io.BytesIO(body),
                           headers={"Authorization": f"Bearer {token}",
                                    "Content-Type": "application/json",
                                    "Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True})
    try:
        for body in (json.dumps({"sku": "A", "node": "N1", "counted": 1, "x": "y" * 2000}),
                     '{"sku": "A", "node": "N1", "counted": 1}' + " " * 2000):
            resp = chunked(body.encode())
            assert resp.status_code == 413, resp.get_json()
            assert resp.get_json()["error"]["code"] == "payload_too_large"
            assert "1024 bytes" in resp.get_json()["error"]["message"]
        small = chunked(b'{"sku": "A"}')          # under the limit: read and validated
        assert small.status_code == 422, small.get_json()
    finally:
        app.extensions["stockroute.db"]["engine"].dispose()
