"""The JSON API under ``/api/v1``.

Declare an endpoint with the route, its permission and its description::

    @bp.get("/inventory/<sku>/<node>/movements")
    @requires("inventory:read")
    @spec(summary="Movement history", query=MovementsQuery, response=MovementsPage)
    def movements(sku, node, query: MovementsQuery): ...

Endpoint modules register on ``bp`` when imported below.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from webapp.api import inventory, operations, orders, scenarios  # noqa: E402,F401  (register routes on bp)
