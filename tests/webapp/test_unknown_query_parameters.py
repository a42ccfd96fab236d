"""docs/api.md: unknown query parameters are a 422 — on every endpoint, not only those that
take a query string. A parameter the endpoint does not read would otherwise be ignored in
silence: ``GET /inventory/A?node=N1`` answering for every node, or
``POST /routing/reoptimize?dry_run=true`` re-routing for real."""

from __future__ import annotations


from ledger import queries
from ledger.db import read_only


def refused(resp, field):
    assert resp.status_code == 422, resp.get_json()
    error = resp.get_json()["error"]
    assert error["code"] == "invalid_request" and error["field"] == field, error


def test_a_read_without_query_parameters_refuses_one(client, admin):
    resp = client.get("/api/v1/inventory/A?node=N1", headers=admin)
    refused(resp, "node")
    assert resp.get_json()["error"]["message"] == ("unknown query parameter 'node': this "
                                                   "endpoint takes no query parameters")
    refused(client.get("/api/v1/orders/NOPE?expand=history", headers=admin), "expand")
    assert client.get("/api/v1/inventory/A", headers=admin).status_code == 200


def test_a_write_with_a_query_parameter_changes_nothing(client, admin, sessions):
    resp = client.post("/api/v1/inventory/counts?dry_run=true", headers=admin,
                       json={"sku": "A", "node": "N1", "counted": 9})
    refused(resp, "dry_run")
    with read_only(sessions) as s:
        assert [b.available for b in queries.balances(s, sku="A", node="N1")] == [5]


def test_reoptimize_dry_run_must_be_in_the_body(client, admin):
    refused(client.post("/api/v1/routing/reoptimize?dry_run=true", headers=admin, json={}),
            "dry_run")


def test_endpoints_with_a_query_model_still_take_their_parameters(client, admin):
    resp = client.get("/api/v1/inventory/A/N1/movements?limit=1", headers=admin)
    assert resp.status_code == 200 and len(resp.get_json()["items"]) == 1
    refused(client.get("/api/v1/inventory/A/N1/movements?limit=1&foo=2", headers=admin), "foo")
