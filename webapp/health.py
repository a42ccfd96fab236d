"""Liveness, readiness and Prometheus metrics.

``/livez`` answers while the process can serve; ``/readyz`` also checks the
database (503 when it cannot be reached); ``/metrics`` exposes request counts
and latencies by endpoint and status (behind a bearer token when
``STOCKROUTE_METRICS_TOKEN`` is set). Under gunicorn, ``gunicorn.conf.py`` sets
``PROMETHEUS_MULTIPROC_DIR`` before the workers import this module, so every
worker writes to files there and ``/metrics`` aggregates them all.
"""

from __future__ import annotations

import hmac
import logging
import os
import time

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from prometheus_client import (
    CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest,
)
from sqlalchemy import text

from webapp.api.auth import public
from webapp.errors import ApiError
from webapp.extensions import db

log = logging.getLogger("stockroute.health")

bp = Blueprint("health", __name__)

REQUESTS = Counter("stockroute_http_requests_total", "HTTP requests",
                   ["method", "endpoint", "status"])
LATENCY = Histogram("stockroute_http_request_duration_seconds", "HTTP request latency",
                    ["method", "endpoint"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))


@bp.get("/livez")
@public
def livez():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
@public
def readyz():
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as err:  # any failure means not ready; the reason goes to the log only
        log.warning("readiness: database check failed: %s", type(err).__name__)
        return jsonify({"status": "unavailable", "checks": {"database": "unreachable"}}), 503
    return jsonify({"status": "ok", "checks": {"database": "ok"}})


@bp.get("/metrics")
@public
def metrics():
    expected = current_app.config.get("METRICS_TOKEN")
    if expected:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
            raise ApiError(401, "/metrics needs its bearer token (STOCKROUTE_METRICS_TOKEN)",
                           headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def register(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.before_request
    def _start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.pop("request_started", None)
        if started is not None:
            # the endpoint name, not the path: SKUs in URLs must not become label values
            endpoint = request.url_rule.endpoint if request.url_rule else "unmatched"
            REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
            LATENCY.labels(request.method, endpoint).observe(time.perf_counter() - started)
        return response
