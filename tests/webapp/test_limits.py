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
