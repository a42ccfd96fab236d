"""``@idempotent(scope)``: the ``Idempotency-Key`` header, the same way on every
write endpoint.

The decorator runs the view in one unit of work, handed to it as ``work``
(``work.session``), and with a key:

- the key is claimed in ``scope`` (one per operation) with a digest of the
  request: its path parameters and its validated body (defaults filled in,
  so equivalent bodies agree);
- a retry with the same key and request gets the first answer, with the
  first status, and nothing runs; the same key with another request is 409
  ``idempotency_conflict``, and while the first is still running 409
  ``idempotency_in_progress`` (``webapp.services.idempotency``);
- the answer is stored in the work's own transaction, so it is kept if and
  only if the work commits; when the work fails, the key is released and a
  corrected request may use it.

Steps that must run after the commit (re-routing backorders onto arriving
stock) are registered with ``work.after_commit(fn)``: ``fn`` gets the answer as
a dict and may add to it; the stored answer is then brought up to date, so a
retry sees what the first caller saw.

Place it below ``@spec`` (closest to the function)::

    @bp.post("/purchase-orders/<code>/receipts")
    @requires("inventory:write")
    @spec(summary=..., body=ReceiptIn, response=PoOut)
    @idempotent("po.receipts")
    def receive(code: str, body: ReceiptIn, work: Work) -> PoOut: ...
"""

from __future__ import annotations

import functools
import json
from typing import Any, Callable

from flask import Response, request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from ledger.db import unit_of_work
from webapp.extensions import db
from webapp.services import idempotency

HEADER = "Idempotency-Key"


class Work:
    """The unit of work a keyed view runs in."""

    def __init__(self, session: Session):
        self.session = session
        self._after: list[Callable[[dict], Any]] = []

    def after_commit(self, fn: Callable[[dict], Any]) -> None:
        """Run ``fn(answer)`` once the work has committed (not on a replay)."""
        self._after.append(fn)


def request_payload(kwargs: dict) -> dict:
    """What a key is checked against: the path parameters and the parsed body."""
    return {name: value.model_dump(mode="json") if isinstance(value, BaseModel) else value
            for name, value in sorted(kwargs.items())}


def _text(answer) -> str:
    if isinstance(answer, BaseModel):
        return answer.model_dump_json(by_alias=True)
    return json.dumps(answer, default=str)


def idempotent(scope: str, *, status: int = 200,
               payload: Callable[[dict], Any] = request_payload,
               commit: Callable[[dict], bool] | None = None):
    """Honour ``Idempotency-Key`` on this view, with keys of its own ``scope``.

    ``payload(kwargs)`` gives what the key is checked against (by default the
    path parameters and body); ``commit(kwargs)`` False makes a dry run, whose
    work is rolled back while its answer is still kept for the key.
    """

    def decorate(view):
        @functools.wraps(view)
        def wrapper(**kwargs):
            key = request.headers.get(HEADER)
            if key is not None:
                first = idempotency.claim(db.sessions, key, scope, payload(kwargs))
                if first is not None:
                    return Response(json.dumps(first), status=status,
                                    mimetype="application/json")
            keep = commit(kwargs) if commit is not None else True
            try:
                with unit_of_work(db.sessions, commit=keep) as session:
                    work = Work(session)
                    answer = _text(view(work=work, **kwargs))
                    if key is not None and keep:
                        idempotency.complete(session, key, scope, answer)
                if key is not None and not keep:
                    with unit_of_work(db.sessions) as session:
                        idempotency.complete(session, key, scope, answer)
            except BaseException:
                if key is not None:
                    idempotency.abandon(db.sessions, key, scope)
                raise
            if work._after:
                data = json.loads(answer)
                for fn in work._after:
                    fn(data)
                answer = json.dumps(data)
                if key is not None:
                    with unit_of_work(db.sessions) as session:
                        idempotency.complete(session, key, scope, answer)
            return Response(answer, status=status, mimetype="application/json")

        wrapper._idempotency_scope = scope
        return wrapper

    return decorate


def idempotency_scope(view) -> str | None:
    """The key scope of a view declared ``@idempotent``, else None."""
    while view is not None:
        scope = getattr(view, "_idempotency_scope", None)
        if scope is not None:
            return scope
        view = getattr(view, "__wrapped__", None)
    return None
