"""Structured JSON logs, one request id per request.

The id comes from ``X-Request-ID`` when the caller sends a sane one, else it is
generated; it is echoed in the response header and added to every log record
written while the request runs. Tokens and passwords are never logged: the
access line names a token by its public prefix only.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request

REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = logging.getLogger("stockroute.access")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                 + f".{int(record.msecs):03d}Z",
                 "level": record.levelname.lower(), "logger": record.name,
                 "message": record.getMessage()}
        for key in ("request_id", "method", "path", "status", "duration_ms", "principal"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None and has_request_context():
            record.request_id = g.get("request_id")
        return True


def configure(app: Flask) -> None:
    logger = logging.getLogger("stockroute")
    if not any(getattr(h, "_stockroute", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler._stockroute = True
        handler.setFormatter(JsonFormatter())
        handler.addFilter(RequestIdFilter())
        logger.addHandler(handler)
        logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))
        logger.propagate = bool(app.config.get("TESTING"))  # pytest's caplog sees them

    @app.before_request
    def _request_id():
        sent = request.headers.get("X-Request-ID", "")
        g.request_id = sent if REQUEST_ID_RE.match(sent) else uuid.uuid4().hex
        g.log_started = time.perf_counter()

    @app.after_request
    def _access(response):
        request_id = g.get("request_id")
        if request_id:
            response.headers["X-Request-ID"] = request_id
        principal = g.get("principal")
        access_log.info("%s %s %s", request.method, request.path, response.status_code,
                        extra={"request_id": request_id, "method": request.method,
                               "path": request.path, "status": response.status_code,
                               "duration_ms": round((time.perf_counter()
                                                     - g.get("log_started", time.perf_counter()))
                                                    * 1000, 2),
                               "principal": principal.name if principal else None})
        return response
