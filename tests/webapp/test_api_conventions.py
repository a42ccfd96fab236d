"""Conventions every endpoint shares: declared permissions, one error shape,
4xx for bad input, an OpenAPI description, health, metrics and request ids."""

from __future__ import annotations

import re

import pytest
from flask import Blueprint

from ledger.access import create_token
from ledger.db import unit_of_work
from webapp import create_app
from webapp.api.auth import PUBLIC, check_declared, permission_of, requires
from webapp.api.openapi import spec
from webapp.config import TestConfig
from webapp.errors import field_path
from pydantic import BaseModel, Field

# Endpoints that need no credentials, each on purpose.
PUBLIC_ENDPOINTS = {"health.livez", "health.readyz", "health.metrics",
                    "apidocs.openapi_json", "apidocs.api_docs"}


def bearer(sessions, scopes="inventory:read") -> dict:
    with unit_of_work(sessions) as s:
        _, plaintext = create_token(s, "t", scopes)
    return {"Authorization": f"Bearer {plaintext}"}


# ---------------------------------------------------------------- permissions

def test_every_endpoint_declares_a_permission_or_is_explicitly_public():
    app = create_app(TestConfig(DATABASE_URL="sqlite://"))
    missing = {line.split()[0] for line in check_declared(app)}
    assert not missing, f"endpoints without a permission: {missing}"
    public = {rule.endpoint for rule in app.url_map.iter_rules()
              if permission_of(app.view_functions[rule.endpoint]) == PUBLIC}
    assert public == PUBLIC_ENDPOINTS
    api_rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/")]
    assert api_rules and all(permission_of(app.view_functions[r.endpoint]) not in (None, PUBLIC)
                             for r in api_rules)


def test_the_enumeration_catches_an_endpoint_without_a_permission():
    app = create_app(TestConfig(DATABASE_URL="sqlite://"))
    extra = Blueprint("extra", __name__)
    extra.add_url_rule("/oops", "oops", lambda: "x")
    app.register_blueprint(extra)
    assert "extra.oops /oops" in check_declared(app)


def test_an_unknown_scope_cannot_be_required():
    with pytest.raises(ValueError):
        requires("inventory:reed")


# ---------------------------------------------------------------- authentication

def test_no_token_is_401_with_a_challenge(client, sessions):
    resp = client.get("/api/v1/inventory/A")
    assert resp.status_code == 401
    assert resp.json["error"]["code"] == "unauthorized"
    assert resp.json["error"]["field"] == "Authorization"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_malformed_unknown_or_revoked_token_is_401(client, sessions):
    from ledger.access import revoke_token
    assert client.get("/api/v1/inventory/A",
                      headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get("/api/v1/inventory/A",
                      headers={"Authorization": "Bearer sr_00000000_nope"}).status_code == 401
    with unit_of_work(sessions) as s:
        token, plaintext = create_token(s, "t", "inventory:read")
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert client.get("/api/v1/inventory/A", headers=headers).status_code == 404  # authed
    with unit_of_work(sessions) as s:
        revoke_token(s, token.id)
    resp = client.get("/api/v1/inventory/A", headers=headers)
    assert resp.status_code == 401 and resp.json["error"]["code"] == "unauthorized"


def test_an_expired_token_is_401(client, sessions):
    import datetime as dt
    from ledger.models import utcnow
    with unit_of_work(sessions) as s:
        _, plaintext = create_token(s, "t", "inventory:read", expires_days=1,
                                    now=utcnow() - dt.timedelta(days=3))
    resp = client.get("/api/v1/inventory/A", headers={"Authorization": f"Bearer {plaintext}"})
    assert resp.status_code == 401


def test_a_revocation_made_elsewhere_is_honoured_within_the_token_cache_bound(
        client, sessions, monkeypatch):
    """Another process (a worker, the CLI) revoking a token is not seen at once:
    the verified token is remembered for TOKEN_CACHE_TTL_S, and no longer."""
    import datetime as dt
    import time

    from sqlalchemy import update

    from ledger.access import ApiToken
    from ledger.models import utcnow
    from webapp.api import auth

    monkeypatch.setattr(auth, "TOKEN_CACHE_TTL_S", 0.3)
    with unit_of_work(sessions) as s:
        token, plaintext = create_token(s, "t", "inventory:read")
        token_id = token.id
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert client.get("/api/v1/inventory/A", headers=headers).status_code == 404  # authed
    with unit_of_work(sessions) as s:  # as another process would: no in-process notice
        s.execute(update(ApiToken).where(ApiToken.id == token_id).values(revoked_at=utcnow()))
    revoked_at = time.monotonic()
    while time.monotonic() - revoked_at < 0.2:
        status = client.get("/api/v1/inventory/A", headers=headers).status_code
        assert status in (401, 404)
    time.sleep(max(0.0, 0.35 - (time.monotonic() - revoked_at)))  # a slow request may pass it
    assert client.get("/api/v1/inventory/A", headers=headers).status_code == 401
    # An expiry is checked on every request, cached or not.
    with unit_of_work(sessions) as s:
        token, plaintext = create_token(s, "t2", "inventory:read", expires_days=1,
                                        now=utcnow() - dt.timedelta(days=1) + dt.timedelta(
                                            seconds=1.5))
    headers = {"Authorization": f"Bearer {plaintext}"}
    monkeypatch.setattr(auth, "TOKEN_CACHE_TTL_S", 60)
    assert client.get("/api/v1/inventory/A", headers=headers).status_code == 404
    time.sleep(1.6)
    assert client.get("/api/v1/inventory/A", headers=headers).status_code == 401


def test_a_cached_token_revoked_in_this_process_is_refused_at_once(client, sessions,
                                                                   monkeypatch):
    from ledger.access import revoke_token
    from webapp.api import auth
    monkeypatch.setattr(auth, "TOKEN_CACHE_TTL_S", 60)
    with unit_of_work(sessions) as s:
        token, plaintext = create_token(s, "t", "inventory:read")
    headers = {"Authorization": f"Bearer {plaintext}"}
    for _ in range(3):  # cached now
        assert client.get("/api/v1/inventory/A", headers=headers).status_code == 404
    with unit_of_work(sessions) as s:
        revoke_token(s, token.id)
    assert client.get("/api/v1/inventory/A", headers=headers).status_code == 401


def test_a_token_without_the_scope_is_403_and_admin_may_do_anything(client, sessions):
    resp = client.get("/api/v1/inventory/A", headers=bearer(sessions, "orders:write"))
    assert resp.status_code == 403
    assert resp.json["error"] == {"code": "forbidden", "field": "scopes",
                                  "message": "this token lacks the scope 'inventory:read'"}
    assert client.get("/api/v1/inventory/A",
                      headers=bearer(sessions, "admin")).status_code == 404


def test_the_token_never_reaches_the_logs(client, sessions, caplog):
    headers = bearer(sessions)
    secret = headers["Authorization"].split("_", 2)[2]
    with caplog.at_level("DEBUG"):
        client.get("/api/v1/inventory/A", headers=headers)
    assert caplog.records and secret not in caplog.text


# ---------------------------------------------------------------- errors

def test_unknown_api_routes_are_json_404_and_browsers_get_a_page(client):
    resp = client.get("/api/v1/nope")
    assert resp.status_code == 404 and resp.json["error"]["code"] == "not_found"
    html = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert html.status_code == 404 and html.mimetype == "text/html"
    as_json = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert as_json.status_code == 404 and as_json.json["error"]["code"] == "not_found"


def test_a_wrong_method_is_json_405(client):
    resp = client.delete("/api/v1/inventory/A")
    assert resp.status_code == 405 and resp.json["error"]["code"] == "method_not_allowed"
    assert "GET" in resp.headers["Allow"]


def test_field_paths_read_like_the_json_they_point_at():
    assert field_path(("lines", 0, "qty")) == "lines[0].qty"
    assert field_path(("limit",)) == "limit"
    assert field_path(()) is None


class Line(BaseModel):
    sku: str
    qty: int = Field(gt=0)


class Order(BaseModel):
    lines: list[Line] = Field(max_length=3)


def _app_with_a_write_endpoint(**config):
    app = create_app(TestConfig(DATABASE_URL="sqlite://", **config))
    extra = Blueprint("probe", __name__, url_prefix="/api/v1")

    @extra.post("/probe")
    @spec(summary="probe", body=Order)
    def probe(body: Order):
        return {"lines": len(body.lines)}

    @extra.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    app.register_blueprint(extra)
    return app


def test_request_bodies_are_validated_with_field_paths_never_500():
    client = _app_with_a_write_endpoint(MAX_CONTENT_LENGTH=1 << 20).test_client()
    ok = client.post("/api/v1/probe", json={"lines": [{"sku": "A", "qty": 1}]})
    assert ok.status_code == 200 and ok.json == {"lines": 1}
    bad = client.post("/api/v1/probe", json={"lines": [{"sku": "A", "qty": 1},
                                                        {"sku": "B", "qty": 0}]})
    assert bad.status_code == 422
    assert bad.json["error"]["code"] == "invalid_request"
    assert bad.json["error"]["field"] == "lines[1].qty"
    cases = [
        dict(data="{not json", content_type="application/json"),        # 400
        dict(data="lines=1", content_type="application/x-www-form-urlencoded"),  # 415
        dict(json=[1, 2]), dict(json={"lines": "x"}), dict(json=None),
        dict(json={"lines": [{"sku": "A", "qty": 1}] * 4}),
        dict(data="x" * (2 << 20), content_type="application/json"),  # 413
    ]
    statuses = []
    for kwargs in cases:
        resp = client.post("/api/v1/probe", **kwargs)
        statuses.append(resp.status_code)
        assert set(resp.json["error"]) >= {"code", "message", "field"}
    assert all(400 <= s < 500 for s in statuses), statuses
    assert {400, 413, 415, 422} <= set(statuses)


def test_a_bug_is_a_500_without_details():
    client = _app_with_a_write_endpoint().test_client()
    resp = client.get("/api/v1/boom")
    assert resp.status_code == 500
    assert resp.json["error"]["code"] == "internal_error"
    assert "secret internals" not in resp.get_data(as_text=True)
    assert resp.headers["X-Request-ID"]


# ---------------------------------------------------------------- OpenAPI

def test_the_openapi_document_is_valid_and_lists_every_api_route(client, app):
    from openapi_spec_validator import validate
    doc = client.get("/api/openapi.json").json
    validate(doc)
    assert doc["openapi"].startswith("3.")
    described = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            # <int:id> in Flask is {id} in OpenAPI
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (path, method.lower()) in described
    op = doc["paths"]["/api/v1/inventory/{sku}/{node}/movements"]["get"]
    assert op["security"] == [{"bearer": ["inventory:read"]}]
    limit = next(p for p in op["parameters"] if p["name"] == "limit")
    assert limit["in"] == "query" and limit["schema"]["maximum"] == 500


def test_the_docs_page_uses_only_vendored_assets(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "https://" not in body and "http://" not in body
    for asset in ("/static/vendor/swagger-ui/swagger-ui-bundle.js",
                  "/static/vendor/swagger-ui/swagger-ui.css", "/static/api-docs.js"):
        assert asset in body
        assert client.get(asset).status_code == 200


# ---------------------------------------------------------------- health, metrics, request ids

def test_livez_and_readyz_answer_when_the_database_is_up(client):
    assert client.get("/livez").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"]["database"] == "ok"


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path):
    url = f"sqlite:///{tmp_path}/missing-dir/db.sqlite3"
    client = create_app(TestConfig(DATABASE_URL=url)).test_client()
    assert client.get("/livez").status_code == 200
    resp = client.get("/readyz")
    assert resp.status_code == 503 and resp.json["checks"]["database"] == "unreachable"


def test_metrics_count_requests_by_endpoint_and_status(client):
    client.get("/livez")
    client.get("/api/v1/inventory/A")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'stockroute_http_requests_total{endpoint="health.livez",method="GET",status="200"}' \
        in text
    assert 'endpoint="api.get_inventory",method="GET",status="401"' in text
    assert "stockroute_http_request_duration_seconds_bucket" in text


def test_metrics_aggregate_worker_files_in_multiprocess_mode(tmp_path):
    import subprocess
    import sys
    code = (
        "from webapp import create_app\n"
        "from webapp.config import TestConfig\n"
        "c = create_app(TestConfig(DATABASE_URL='sqlite://')).test_client()\n"
        "c.get('/livez'); print(c.get('/metrics').get_data(as_text=True))\n")
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin",
           "STOCKROUTE_INSTANCE_DIR": str(tmp_path / "instance")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert list(tmp_path.glob("*.db")), "workers write their metrics to files"
    assert 'endpoint="health.livez"' in out.stdout


def test_a_request_id_is_echoed_or_generated(client):
    sent = client.get("/livez", headers={"X-Request-ID": "abc-123"})
    assert sent.headers["X-Request-ID"] == "abc-123"
    made = client.get("/livez", headers={"X-Request-ID": "bad id; with spaces"})
    assert made.headers["X-Request-ID"] != "bad id; with spaces"
    assert len(made.headers["X-Request-ID"]) == 32
