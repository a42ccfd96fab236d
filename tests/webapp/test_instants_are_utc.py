"""Instants are stored in UTC and read back with their offset, on SQLite as on PostgreSQL.

SQLite keeps no offset: a snooze ``until`` given at +05:00 was stored as its wall-clock
time, as if it were UTC, so the exception came back five hours late (or, at -05:00, at
once); and every instant read back there (movement and exception ``created_at``, a PO's
``placed_at``, …) had no offset, unlike the same answer on PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger.access import create_token
from ledger.db import unit_of_work
from ledger.models import ExceptionItem
from tests.ledger.helpers import make_world


@pytest.fixture
def client(app, sessions):
    make_world(sessions, stock=5)
    with unit_of_work(sessions) as s:
        _, plaintext = create_token(s, "ops", ["admin"])
        s.add(ExceptionItem(kind="po_late", severity="warning", message="late"))
    c = app.test_client()
    c.headers = {"Authorization": f"Bearer {plaintext}"}
    return c


def ids(client, status):
    resp = client.get(f"/api/v1/exceptions?status={status}", headers=client.headers)
    assert resp.status_code == 200
    return [e["id"] for e in resp.get_json()["items"]]


@pytest.mark.parametrize("offset_hours", [5, -5])
def test_a_snooze_with_any_offset_lasts_until_that_instant(client, offset_hours):
    zone = dt.timezone(dt.timedelta(hours=offset_hours))
    until = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=30)).astimezone(zone)
    resp = client.post("/api/v1/exceptions/1/snooze", headers=client.headers,
                       json={"until": until.isoformat()})
    assert resp.status_code == 200, resp.get_json()
    assert dt.datetime.fromisoformat(resp.get_json()["snoozed_until"]) == until
    assert ids(client, "open") == []          # not back before its time
    assert ids(client, "snoozed") == [1]
    listed = client.get("/api/v1/exceptions?status=snoozed", headers=client.headers)
    assert dt.datetime.fromisoformat(listed.get_json()["items"][0]["snoozed_until"]) == until


def test_a_snooze_that_has_run_out_is_open_again(client, sessions):
    with unit_of_work(sessions) as s:   # a snooze that ended a minute ago, given at +05:00
        e = s.get(ExceptionItem, 1)
        e.status = "snoozed"
        e.snoozed_until = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
                           ).astimezone(dt.timezone(dt.timedelta(hours=5)))
    assert ids(client, "open") == [1]


def test_instants_in_answers_carry_their_utc_offset(client):
    resp = client.post("/api/v1/inventory/counts", headers=client.headers,
                       json={"sku": "A", "node": "N1", "counted": 7})
    assert resp.status_code == 200
    movements = client.get("/api/v1/inventory/A/N1/movements", headers=client.headers)
    exceptions = client.get("/api/v1/exceptions", headers=client.headers)
    stamps = ([m["created_at"] for m in movements.get_json()["items"]]
              + [e["created_at"] for e in exceptions.get_json()["items"]])
    assert len(stamps) >= 3
    for stamp in stamps:
        assert dt.datetime.fromisoformat(stamp).utcoffset() == dt.timedelta(0), stamp


def test_an_instant_past_the_last_utc_datetime_is_refused_naming_the_field(client, sessions):
    # 9999-12-31T23:59:59-14:00 is in the year 10000 in UTC: not storable (it was a 500)
    resp = client.post("/api/v1/exceptions/1/snooze", headers=client.headers,
                       json={"until": "9999-12-31T23:59:59-14:00"})
    assert resp.status_code == 422, resp.get_json()
    assert resp.get_json()["error"]["field"] == "until"
    assert ids(client, "snoozed") == []
    ok = client.post("/api/v1/exceptions/1/snooze", headers=client.headers,
                     json={"until": "9999-12-31T09:59:59-14:00"})
    assert ok.status_code == 200, ok.get_json()
