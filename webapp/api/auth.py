"""Who is calling, and may they? Every endpoint declares one permission.

``@requires("inventory:read")`` records the scope on the view function (the
route-enumeration test reads it) and, per request, authenticates the caller:
an ``Authorization: Bearer sr_…`` token, or else the logged-in session user
through ``session_user_loader`` (the hook the planner pages will set). No
credentials → 401; credentials without the scope → 403. A write authenticated
by the session (not a token) must come from this origin (CSRF), else 403. The ``admin`` scope
satisfies every requirement. ``@public`` marks the few endpoints that need no
credentials (health, metrics, the API description), explicitly.

A verified token is remembered per process for ``TOKEN_CACHE_TTL_S`` seconds
(``STOCKROUTE_TOKEN_CACHE_SECONDS``, default 2; 0 turns the cache off), so a
busy client costs no database read per request. Expiry is checked on every
request; a revocation is honoured at once by the process that made it and by
every other process (gunicorn workers, after a CLI revoke) within that bound.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Callable

from flask import g, request

from ledger.access import (
    SCOPES, TOUCH_EVERY, _aware, revocation_listeners, touch_token, verify_token)
from ledger.models import utcnow
from ledger.db import read_only, unit_of_work
from webapp.errors import ApiError
from webapp.extensions import db

PUBLIC = "public"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="stockroute"'}


@dataclass(frozen=True)
class Principal:
    kind: str            # "token" or "user"
    name: str            # token prefix (never the secret) or username
    scopes: frozenset[str]
    id: int | None = None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


# The planner pages set this to a function returning a Principal for the
# logged-in session user, or None. Until then only tokens authenticate.
session_user_loader: Callable[[], Principal | None] | None = None


def permission_of(view) -> str | None:
    """The permission a view function declared, ``"public"``, or None."""
    return getattr(view, "_permission", None)


def public(view):
    view._permission = PUBLIC
    return view


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        if header:
            raise ApiError(401, "the Authorization header must be 'Bearer <token>'",
                           field="Authorization", headers=CHALLENGE)
        return None
    return credentials.strip()


# Verified tokens, per engine: sha256(plaintext) -> _Verified. A hit skips the
# database for TOKEN_CACHE_TTL_S seconds after the token was read. Expiry is
# checked on every hit; a revocation made in this process (``revoke_token``)
# evicts the token at once; one made elsewhere (another worker, the CLI) is
# honoured here within TOKEN_CACHE_TTL_S. Unknown or refused tokens are never
# cached: they always go to the database.
TOKEN_CACHE_TTL_S = float(os.environ.get("STOCKROUTE_TOKEN_CACHE_SECONDS", "2"))
TOKEN_CACHE_MAX = 10_000
_verified: "weakref.WeakKeyDictionary[object, dict[str, _Verified]]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


@dataclass
class _Verified:
    principal: Principal
    expires_at: dt.datetime | None   # the token's own expiry
    last_used_at: dt.datetime | None
    fresh_until: float               # time.monotonic() after which it is read again


def _forget(token_id: int) -> None:
    with _lock:
        for cache in list(_verified.values()):
            for key in [k for k, v in cache.items() if v.principal.id == token_id]:
                cache.pop(key, None)


revocation_listeners.append(_forget)


def _verify(plaintext: str) -> _Verified | None:
    engine = db.engine
    key = hashlib.sha256(plaintext.encode()).hexdigest()
    cache = _verified.get(engine)
    if cache is None:
        with _lock:
            cache = _verified.setdefault(engine, {})
    hit = cache.get(key)
    if hit is not None and hit.fresh_until > time.monotonic():
        if hit.expires_at is None or hit.expires_at > utcnow():
            return hit
        cache.pop(key, None)
        return None
    with read_only(db.sessions) as session:
        token = verify_token(session, plaintext, touch=False)
        if token is None:
            cache.pop(key, None)
            return None
        hit = _Verified(Principal("token", token.prefix, token.scope_set, token.id),
                        _aware(token.expires_at) if token.expires_at else None,
                        _aware(token.last_used_at) if token.last_used_at else None,
                        time.monotonic() + TOKEN_CACHE_TTL_S)
    if TOKEN_CACHE_TTL_S > 0:
        with _lock:
            if len(cache) >= TOKEN_CACHE_MAX:
                cache.clear()
            cache[key] = hit
    return hit


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _check_same_origin() -> None:
    """CSRF: a browser sends the session cookie with any request, also one another
    site's page makes (a form POST needs no preflight, and the bodiless actions
    read no JSON). A write authenticated by the session must therefore come from
    this origin: browsers send ``Origin`` on every POST, and no page can forge it.
    A bearer token is never sent on its own, so token requests are not checked."""
    origin = request.headers.get("Origin", "")
    _, sep, netloc = origin.partition("://")
    if not sep or netloc.rstrip("/").lower() != request.host.lower():
        raise ApiError(403, "a write with the session cookie must come from this site's own "
                       "pages (the Origin header is missing or another site's)",
                       code="csrf_failed", field="Origin")


def current_principal() -> Principal | None:
    if "principal" in g:
        return g.principal
    principal = None
    plaintext = _bearer()
    if plaintext is not None:
        verified = _verify(plaintext)
        if verified is None:
            raise ApiError(401, "the token is unknown, expired or revoked",
                           field="Authorization", headers=CHALLENGE)
        principal = verified.principal
        now = utcnow()
        if verified.last_used_at is None or now - verified.last_used_at > TOUCH_EVERY:
            verified.last_used_at = now  # kept to the minute: see ledger.access.needs_touch
            with unit_of_work(db.sessions) as session:
                touch_token(session, principal.id, now)
    elif session_user_loader is not None:
        principal = session_user_loader()
        if principal is not None and request.method not in SAFE_METHODS:
            _check_same_origin()
    g.principal = principal
    return principal


def requires(scope: str):
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = current_principal()
            if principal is None:
                raise ApiError(401, "authentication required: send 'Authorization: Bearer "
                               "<token>'", field="Authorization", headers=CHALLENGE)
            if not principal.allows(scope):
                raise ApiError(403, f"this token lacks the scope {scope!r}", field="scopes")
            return view(*args, **kwargs)

        wrapper._permission = scope
        return wrapper

    return decorate


def check_declared(app) -> list[str]:
    """Endpoints with no declared permission (static files excepted)."""
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        if permission_of(app.view_functions[rule.endpoint]) is None:
            missing.append(f"{rule.endpoint} {rule.rule}")
    return missing


