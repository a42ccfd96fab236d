"""Who is calling, and may they? Every endpoint declares one permission.

``@requires("inventory:read")`` records the scope on the view function (the
route-enumeration test reads it) and, per request, authenticates the caller:
an ``Authorization: Bearer sr_…`` token, or else the logged-in session user
through ``session_user_loader`` (the hook the planner pages will set). No
credentials → 401; credentials without the scope → 403. The ``admin`` scope
satisfies every requirement. ``@public`` marks the few endpoints that need no
credentials (health, metrics, the API description), explicitly.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

from flask import g, request

from ledger.access import SCOPES, needs_touch, touch_token, verify_token
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


def current_principal() -> Principal | None:
    if "principal" in g:
        return g.principal
    principal = None
    plaintext = _bearer()
    if plaintext is not None:
        with read_only(db.sessions) as session:
            token = verify_token(session, plaintext, touch=False)
            if token is not None:  # read it before the session ends
                principal = Principal("token", token.prefix, token.scope_set, token.id)
                stale = needs_touch(token)
        if principal is None:
            raise ApiError(401, "the token is unknown, expired or revoked",
                           field="Authorization", headers=CHALLENGE)
        if stale:
            with unit_of_work(db.sessions) as session:
                touch_token(session, principal.id)
    elif session_user_loader is not None:
        principal = session_user_loader()
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


