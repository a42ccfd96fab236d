"""Idempotency keys for HTTP writes (``Idempotency-Key`` header).

1. ``claim`` records the key as *pending* in its own committed transaction, so
   a concurrent request with the same key sees it at once (409, in flight).
2. The work runs in its own unit of work and calls ``complete`` in that same
   transaction: the stored answer commits if and only if the work does.
3. If the work fails, ``abandon`` removes the pending key, so a corrected
   request may use it again.
A retry of a completed request gets the stored answer; the same key with a
different body is refused (409 over HTTP; ``webapp.errors``). Keys are unique
per scope (the operation, e.g. ``orders``), so a key an orders client chose never
collides with the same key on a ledger posting. A pending key older than ``STALE_AFTER``
(a crashed worker) may be taken over.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, update
from sqlalchemy.orm import Session, sessionmaker

from ledger.db import unit_of_work
from ledger.errors import IdempotencyConflict, IdempotencyInProgress, LedgerError
from ledger.models import IdempotencyRecord, utcnow
from ledger.posting import claim_idempotency_key, request_hash
from ledger.rawsql import fetch

STALE_AFTER = dt.timedelta(seconds=60)
MAX_KEY = 255


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def claim(sessions: sessionmaker[Session], key: str, scope: str, body) -> dict | None:
    """None if this request now holds the key; else the stored answer of the first."""
    if not key or len(key) > MAX_KEY:
        raise LedgerError(f"Idempotency-Key must be 1-{MAX_KEY} characters",
                          field="Idempotency-Key")
    digest = request_hash(body)
    engine = sessions.kw["bind"]
    if engine.dialect.name == "postgresql":
        # One statement, so no transaction around it: one round trip, not three.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            try:
                return claim_idempotency_key(conn, key, scope, digest)
            except IdempotencyInProgress:
                pass  # perhaps a worker that died: look again, under a lock
    with unit_of_work(sessions) as session:
        try:
            return claim_idempotency_key(session.connection(), key, scope, digest)
        except IdempotencyInProgress:
            row = session.get(IdempotencyRecord, {"scope": scope, "key": key},
                              with_for_update=True)
            if row is not None and utcnow() - _aware(row.created_at) > STALE_AFTER:
                row.created_at = utcnow()  # take over from a worker that died
                return None
            raise


def complete(session: Session, key: str, scope: str, response: dict | str) -> None:
    """Store the answer (a dict, or its JSON text) in the work's transaction."""
    if not isinstance(response, str):
        session.execute(update(IdempotencyRecord)
                        .where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
                        .values(status="done", response=response))
        return
    conn = session.connection()
    pg = conn.dialect.name == "postgresql"
    fetch(conn,
          "UPDATE idempotency_keys SET status = 'done', response = %s::json"
          " WHERE scope = %s AND key = %s" if pg else
          "UPDATE idempotency_keys SET status = 'done', response = ? WHERE scope = ? AND key = ?",
          (response, scope, key))


def abandon(sessions: sessionmaker[Session], key: str, scope: str) -> None:
    with unit_of_work(sessions) as session:
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.scope == scope,
                                                        IdempotencyRecord.key == key,
                                                        IdempotencyRecord.status == "pending"))


__all__ = ["claim", "complete", "abandon", "IdempotencyConflict", "IdempotencyInProgress"]
