"""Security review: what an unauthenticated caller can read, the headers every
answer carries, and cookie (session) requests that change state."""

from __future__ import annotations

import pytest

from ledger.access import create_token
from ledger.db import unit_of_work
from tests.ledger.helpers import make_world
from webapp.api import auth

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def bearer(sessions, scopes) -> dict:
    with unit_of_work(sessions) as s:
        _, plaintext = create_token(s, "t", scopes)
    return {"Authorization": f"Bearer {plaintext}"}


# ---------------------------------------------------------------- the overview page

def test_the_overview_page_needs_inventory_read(client, sessions):
    """It lists every node's stock and the most stocked SKUs: the same data as
    GET /inventory, which needs inventory:read. Anonymous callers got it all."""
    make_world(sessions, stock=3)
    anonymous = client.get("/", headers={"Accept": BROWSER})
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert "N1" not in anonymous.get_data(as_text=True)
    assert client.get("/", headers={"Accept": "application/json"}).status_code == 401
    wrong_scope = client.get("/", headers=bearer(sessions, "orders:read"))
    assert wrong_scope.status_code == 403
    page = client.get("/", headers=bearer(sessions, "inventory:read"))
    assert page.status_code == 200 and "N1" in page.get_data(as_text=True)


def test_the_local_demo_may_open_the_overview_page_to_a_browser(database_url, sessions):
    """`make run` sets STOCKROUTE_PUBLIC_OVERVIEW=1 for the demo on 127.0.0.1; the API
    stays behind its tokens."""
    from webapp import create_app
    from webapp.config import TestConfig

    make_world(sessions, stock=3)
    app = create_app(TestConfig(DATABASE_URL=database_url, PUBLIC_OVERVIEW=True))
    try:
        client = app.test_client()
        page = client.get("/", headers={"Accept": BROWSER})
        assert page.status_code == 200 and "N1" in page.get_data(as_text=True)
        assert client.get("/api/v1/inventory/A").status_code == 401
    finally:
        app.extensions["stockroute.db"]["engine"].dispose()


def test_the_overview_is_public_only_when_the_setting_is_1(monkeypatch):
    from webapp.config import Config

    monkeypatch.setenv("SECRET_KEY", "k")   # no key file made for this
    for value, public in (("1", True), ("", False), ("0", False), ("yes", False)):
        monkeypatch.setenv("STOCKROUTE_PUBLIC_OVERVIEW", value)
        assert Config().PUBLIC_OVERVIEW is public


# ---------------------------------------------------------------- response headers

@pytest.mark.parametrize("path", ["/", "/api/docs", "/api/openapi.json", "/livez", "/metrics",
                                  "/api/v1/inventory/A", "/no-such-page",
                                  "/static/app.css"])
def test_every_answer_says_nosniff_and_may_not_be_framed(client, path):
    resp = client.get(path, headers={"Accept": BROWSER})
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("path", ["/", "/api/docs", "/no-such-page"])
def test_html_pages_carry_a_content_security_policy(client, path):
    resp = client.get(path, headers={"Accept": BROWSER})
    assert resp.mimetype == "text/html"
    csp = resp.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "object-src 'none'",
                      "frame-ancestors 'none'", "base-uri 'none'"):
        assert directive in csp


def test_api_answers_are_not_stored_by_caches(client, sessions):
    make_world(sessions, stock=3)
    ok = client.get("/api/v1/inventory/A", headers=bearer(sessions, "inventory:read"))
    assert ok.status_code == 200 and ok.headers["Cache-Control"] == "no-store"
    refused = client.get("/api/v1/inventory/A")
    assert refused.status_code == 401 and refused.headers["Cache-Control"] == "no-store"


# ---------------------------------------------------------------- cookie sessions and CSRF

@pytest.fixture
def session_user(monkeypatch):
    """A logged-in planner as the planner pages' session hook would give one."""
    user = auth.Principal("user", "ann", frozenset({"exceptions:read", "exceptions:write",
                                                    "orders:read", "orders:write"}))
    monkeypatch.setattr(auth, "session_user_loader", lambda: user)
    return user


def test_a_session_user_may_read_without_an_origin(client, sessions, session_user):
    make_world(sessions, stock=3)
    assert client.get("/api/v1/exceptions").status_code == 200


@pytest.mark.parametrize("origin", [None, "https://evil.example", "null"])
def test_a_cross_site_write_with_the_session_cookie_is_refused(client, sessions, session_user,
                                                               origin):
    """A page elsewhere can make the browser POST with its cookies (a form needs no
    preflight, and the bodiless actions take no JSON): session writes must come
    from this origin."""
    make_world(sessions, stock=3)
    headers = {"Origin": origin} if origin else {}
    resp = client.post("/api/v1/exceptions/1/acknowledge", headers=headers)
    assert resp.status_code == 403
    assert resp.json["error"]["code"] == "csrf_failed"
    assert resp.json["error"]["field"] == "Origin"


def test_a_same_origin_write_with_the_session_cookie_passes(client, sessions, session_user):
    make_world(sessions, stock=3)
    resp = client.post("/api/v1/exceptions/999/acknowledge",
                       headers={"Origin": "http://localhost"})
    assert resp.status_code == 404   # past the CSRF check: no such exception


def test_bearer_tokens_need_no_origin(client, sessions, session_user):
    """A bearer token is not sent by the browser on its own: no CSRF check."""
    make_world(sessions, stock=3)
    resp = client.post("/api/v1/exceptions/999/acknowledge",
                       headers=bearer(sessions, "exceptions:write"))
    assert resp.status_code == 404


# ---------------------------------------------------------------- hostile bodies

@pytest.mark.parametrize("path", ["/api/v1/orders", "/api/v1/routing/plan",
                                  "/api/v1/inventory/counts"])
@pytest.mark.parametrize("depth", [990, 100_000])
def test_deeply_nested_json_is_a_400_not_a_crash(client, sessions, path, depth):
    """A 200 kB body of nested brackets blew Python's recursion limit (a 500 and a
    stack trace in the log per request); no contract nests beyond a few levels."""
    headers = {**bearer(sessions, "admin"), "Content-Type": "application/json"}
    for body in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        resp = client.post(path, data=body, headers=headers)
        assert resp.status_code == 400, resp.get_data(as_text=True)[:200]
        assert resp.json["error"]["code"] == "bad_request"
        assert "nested" in resp.json["error"]["message"]


# ---------------------------------------------------------------- the generated SECRET_KEY

def test_the_generated_secret_key_is_never_readable_by_others(tmp_path, monkeypatch):
    """The key file was written with the umask's mode (0644 commonly) and only then
    chmod-ed to 0600: meanwhile any local user could read it. It is created 0600
    from the start, in a folder only the owner may enter."""
    import os
    import stat

    from webapp import config

    monkeypatch.setenv("STOCKROUTE_INSTANCE_DIR", str(tmp_path / "instance"))
    old_umask = os.umask(0o022)
    seen = []
    real_replace = os.replace

    def replace(src, dst):
        seen.append(stat.S_IMODE(os.stat(src).st_mode))
        return real_replace(src, dst)

    monkeypatch.setattr(config.os, "replace", replace)
    monkeypatch.setattr(config.Path, "chmod", lambda self, mode: None)  # no repair afterwards
    try:
        key = config.instance_secret_key()
    finally:
        os.umask(old_umask)
    path = tmp_path / "instance" / "secret_key"
    assert seen == [0o600]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert len(key) == 64 and config.instance_secret_key() == key
