"""One error shape for API clients, friendly pages for browsers.

API clients (paths under ``/api/`` or ``Accept: application/json``) get
``{"error": {"code", "message", "field"}}`` with the right 4xx status; browsers
get a short HTML page. Bad input is always a 4xx: the catch-all 500 is for bugs
only, is logged with the request id, and tells the client nothing more. A database
that cannot be reached or has no schema yet is a 503 (``unavailable``), not a bug.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template_string, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from ledger.errors import IdempotencyConflict, LedgerError

log = logging.getLogger("stockroute.errors")

MAX_DETAILS = 20  # validation errors listed per response

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 406: "not_acceptable", 409: "conflict",
         413: "payload_too_large", 415: "unsupported_media_type", 422: "invalid_request",
         429: "too_many_requests", 500: "internal_error", 503: "unavailable"}

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<link rel="stylesheet" href="/static/app.css"></head><body><main>
<h1>{{ title }}</h1><p>{{ message }}</p><p><a href="/">Back to the overview</a></p>
</main></body></html>"""


class ApiError(Exception):
    """An HTTP-level refusal raised by webapp code (auth, paging, content type)."""

    def __init__(self, status: int, message: str, *, code: str | None = None,
                 field: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field
        self.code = code or CODES.get(status, "error")
        self.headers = headers or {}


def wants_json() -> bool:
    """JSON unless a browser asks for HTML: ``/api/`` paths always get JSON, and
    elsewhere only a client preferring ``text/html`` (a browser) gets the page;
    ``*/*`` (curl, scrapers, load balancers) gets JSON."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best != "text/html"


def field_path(loc) -> str | None:
    """pydantic's ``("lines", 0, "qty")`` as ``lines[0].qty``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or None


def error_response(status: int, code: str, message: str, field: str | None = None,
                   details=None, headers: dict | None = None) -> Response:
    if wants_json():
        body = {"code": code, "message": message, "field": field}
        if details is not None:
            body["details"] = details
        resp = jsonify({"error": body})
    else:
        resp = Response(render_template_string(PAGE, title=f"{status} {code.replace('_', ' ')}",
                                               message=message), mimetype="text/html")
    resp.status_code = status
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def validation_details(err: ValidationError) -> list[dict]:
    return [{"field": field_path(e["loc"]), "message": e["msg"], "type": e["type"]}
            for e in err.errors(include_url=False, include_input=False)[:MAX_DETAILS]]


def ledger_status(err: LedgerError) -> tuple[int, str]:
    """The HTTP status and code of a domain error, as docs/api.md promises them.

    400 is only for malformed JSON, so a plain ``LedgerError`` (bad input the
    service found: a same-node transfer, a SKU not on the PO, a return over
    what was shipped, a snooze without a UTC offset, an unknown filter value)
    is a 422 naming its field; an idempotency key reused with another body is
    a conflict (409), like a key still in flight. Domain errors with their own
    status (404, 409, 422) keep it.
    """
    if isinstance(err, IdempotencyConflict):
        return 409, err.code
    if err.status == 400:
        return 422, "invalid_request" if err.code == LedgerError.code else err.code
    return err.status, err.code


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(err: ApiError):
        return error_response(err.status, err.code, err.message, err.field, headers=err.headers)

    @app.errorhandler(LedgerError)
    def _ledger_error(err: LedgerError):
        body = err.to_dict()
        status, code = ledger_status(err)
        details = body.get("details")
        if isinstance(details, list):   # a list of problems: at most MAX_DETAILS of them
            details = details[:MAX_DETAILS]
        return error_response(status, code, body["message"], body["field"], details=details)

    @app.errorhandler(ValidationError)
    def _validation_error(err: ValidationError):
        details = validation_details(err)
        first = details[0] if details else {"field": None, "message": "invalid request"}
        return error_response(422, "invalid_request", first["message"], first["field"],
                              details=details)

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        status = err.code or 500
        headers, field, message = {}, None, err.description or err.name
        if status == 405 and err.valid_methods:
            headers["Allow"] = ", ".join(err.valid_methods)
        if status == 413:  # e.g. a chunked body found too large while it was read
            limit = app.config.get("MAX_CONTENT_LENGTH")
            field = "Content-Length"
            if limit:
                message = (f"the request body is larger than the limit of {limit} bytes "
                           f"(STOCKROUTE_MAX_REQUEST_BYTES)")
        return error_response(status, CODES.get(status, "http_error"), message, field,
                              headers=headers)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        from ledger.db import setup_problem
        problem = setup_problem(err)
        if problem is not None:   # the database's setup, not a bug: unavailable, retry
            first = (str(getattr(err, "orig", None) or err).strip().splitlines() or [""])[0]
            log.error("database unavailable (%s) on %s %s: %s", problem, request.method,
                      request.path, first)
            return error_response(503, "unavailable",
                                  "the database is unavailable; retry later, and quote the "
                                  "X-Request-ID header if it lasts", headers={"Retry-After": "5"})
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error",
                              "internal error; quote the X-Request-ID header when reporting it")
