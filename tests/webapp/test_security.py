"""Security review: what an unauthenticated caller can read."""

from __future__ import annotations

from ledger.access import create_token
from ledger.db import unit_of_work
from tests.ledger.helpers import make_world

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
