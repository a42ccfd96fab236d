"""Planner pages.

They show the same data as the API and need the same permission: a bearer
token today, the logged-in user once ``webapp.api.auth.session_user_loader`` is set.
``STOCKROUTE_PUBLIC_OVERVIEW=1`` opens the overview page to anyone: ``make run`` sets
it for the local demo (served on 127.0.0.1), so a browser shows the demo world.
"""

from __future__ import annotations

import functools

from flask import Blueprint, current_app, render_template

from ledger import queries
from ledger.db import read_only
from webapp.api.auth import requires
from webapp.extensions import db

bp = Blueprint("pages", __name__)


def _overview_permission(view):
    """``inventory:read``, unless the app was started with the overview public."""
    guarded = requires("inventory:read")(view)

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if current_app.config.get("PUBLIC_OVERVIEW"):
            return view(*args, **kwargs)
        return guarded(*args, **kwargs)

    wrapper._permission = guarded._permission
    return wrapper


@bp.get("/")
@_overview_permission
def index():
    with read_only(db.sessions) as session:
        nodes = queries.node_summary(session)
        top = queries.stock_overview(session, limit=50)
    return render_template("index.html", nodes=nodes, top=top)
