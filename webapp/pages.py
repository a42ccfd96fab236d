"""Planner pages.

They show the same data as the API and need the same permission: a bearer
token today, the logged-in user once ``webapp.api.auth.session_user_loader`` is set.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from ledger import queries
from ledger.db import read_only
from webapp.api.auth import requires
from webapp.extensions import db

bp = Blueprint("pages", __name__)


@bp.get("/")
@requires("inventory:read")
def index():
    with read_only(db.sessions) as session:
        nodes = queries.node_summary(session)
        top = queries.stock_overview(session, limit=50)
    return render_template("index.html", nodes=nodes, top=top)
