"""Configuration from the environment, with an embedded SQLite default."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from webapp.limits import (
    DEFAULT_MAX_REQUEST_BYTES, DEFAULT_MAX_SOLVE_S, DEFAULT_WORKER_TIMEOUT_S, SOLVE_MARGIN_S,
)


def default_database_url() -> str:
    return f"sqlite:///{Path.cwd() / 'stockroute.sqlite3'}"


def instance_dir() -> Path:
    return Path(os.environ.get("STOCKROUTE_INSTANCE_DIR") or Path.cwd() / "instance")


def instance_secret_key() -> str:
    path = instance_dir() / "secret_key"
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        # Created owner-only (never readable by others, whatever the umask, not even
        # for a moment), and refused if something already sits at the temp name.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
        os.replace(tmp, path)  # atomic: concurrent workers end up with one key
    return path.read_text().strip()


def worker_timeout_seconds() -> int:
    """gunicorn's worker timeout (``gunicorn.conf.py`` reads it here too)."""
    return int(os.environ.get("STOCKROUTE_WORKER_TIMEOUT", str(DEFAULT_WORKER_TIMEOUT_S)))


def max_solve_seconds(worker_timeout_s: int | None = None) -> float:
    """The longest ``time_limit_seconds`` an HTTP request may ask of a solver.

    Defaults to 30 s and must stay at least ``SOLVE_MARGIN_S`` below the worker
    timeout, or a long solve would get its worker killed mid-request.
    """
    timeout = worker_timeout_s if worker_timeout_s is not None else worker_timeout_seconds()
    ceiling = timeout - SOLVE_MARGIN_S
    raw = os.environ.get("STOCKROUTE_MAX_SOLVE_SECONDS")
    value = float(raw) if raw else min(DEFAULT_MAX_SOLVE_S, ceiling)
    if not 0 < value <= ceiling:
        raise ValueError(
            f"STOCKROUTE_MAX_SOLVE_SECONDS={value:g} must be above 0 and at most the worker "
            f"timeout ({timeout} s, STOCKROUTE_WORKER_TIMEOUT) minus {SOLVE_MARGIN_S} s")
    return value


MAX_PAGE_SIZE = 500   # the API's cap on ``limit`` (webapp.api.params); the setting may lower it


def max_page_size() -> int:
    """``STOCKROUTE_MAX_PAGE_SIZE``: the most items one page of a listing returns (1-500)."""
    raw = os.environ.get("STOCKROUTE_MAX_PAGE_SIZE", str(MAX_PAGE_SIZE))
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_PAGE_SIZE:
        raise ValueError(f"STOCKROUTE_MAX_PAGE_SIZE={raw} must be a whole number from 1 to "
                         f"{MAX_PAGE_SIZE}")
    return value


class Config:
    def __init__(self, **overrides):
        self.DATABASE_URL = os.environ.get("DATABASE_URL") or default_database_url()
        # SECRET_KEY must come from the environment in production. Without one,
        # a random key is made once and kept in the instance folder (never in
        # the repository), so every worker of one installation shares it.
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or instance_secret_key()
        # A lower cap on ``limit`` than the API's 500 (a larger one is a 422).
        self.MAX_PAGE_SIZE = max_page_size()
        # Request bodies over this size are refused with 413 before anything reads them.
        self.MAX_CONTENT_LENGTH = int(os.environ.get("STOCKROUTE_MAX_REQUEST_BYTES",
                                                     str(DEFAULT_MAX_REQUEST_BYTES)))
        # The longest solve an HTTP request may ask for (policy.time_limit_seconds,
        # time_limit_seconds); longer ones are refused with 422. Below gunicorn's timeout.
        self.MAX_SOLVE_SECONDS = max_solve_seconds()
        # When set, /metrics asks for "Authorization: Bearer <this>"; unset, it is open
        # (for a scraper on a private network).
        self.METRICS_TOKEN = os.environ.get("STOCKROUTE_METRICS_TOKEN") or None
        # The overview page at / for anyone, without a token: the local demo of
        # `make run` (served on 127.0.0.1) only; it shows every node's stock.
        self.PUBLIC_OVERVIEW = os.environ.get("STOCKROUTE_PUBLIC_OVERVIEW", "") == "1"
        # INFO writes a JSON access line per request; WARNING keeps only problems.
        self.LOG_LEVEL = os.environ.get("STOCKROUTE_LOG_LEVEL", "INFO").upper()
        self.TESTING = False
        for key, value in overrides.items():
            setattr(self, key, value)


class TestConfig(Config):
    __test__ = False  # not a pytest test class
    def __init__(self, **overrides):
        super().__init__(TESTING=True, SECRET_KEY="test-secret", **overrides)
