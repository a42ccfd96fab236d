"""Configuration from the environment, with an embedded SQLite default."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def default_database_url() -> str:
    return f"sqlite:///{Path.cwd() / 'stockroute.sqlite3'}"


def instance_dir() -> Path:
    return Path(os.environ.get("STOCKROUTE_INSTANCE_DIR") or Path.cwd() / "instance")


def instance_secret_key() -> str:
    path = instance_dir() / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        os.replace(tmp, path)  # atomic: concurrent workers end up with one key
    return path.read_text().strip()


class Config:
    def __init__(self, **overrides):
        self.DATABASE_URL = os.environ.get("DATABASE_URL") or default_database_url()
        # SECRET_KEY must come from the environment in production. Without one,
        # a random key is made once and kept in the instance folder (never in
        # the repository), so every worker of one installation shares it.
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or instance_secret_key()
        self.MAX_PAGE_SIZE = int(os.environ.get("STOCKROUTE_MAX_PAGE_SIZE", "500"))
        # Request bodies over this size are refused with 413 before anything reads them.
        self.MAX_CONTENT_LENGTH = int(os.environ.get("STOCKROUTE_MAX_REQUEST_BYTES",
                                                     str(16 * 1024 * 1024)))
        # When set, /metrics asks for "Authorization: Bearer <this>"; unset, it is open
        # (for a scraper on a private network).
        self.METRICS_TOKEN = os.environ.get("STOCKROUTE_METRICS_TOKEN") or None
        # INFO writes a JSON access line per request; WARNING keeps only problems.
        self.LOG_LEVEL = os.environ.get("STOCKROUTE_LOG_LEVEL", "INFO").upper()
        self.TESTING = False
        for key, value in overrides.items():
            setattr(self, key, value)


class TestConfig(Config):
    __test__ = False  # not a pytest test class
    def __init__(self, **overrides):
        super().__init__(TESTING=True, SECRET_KEY="test-secret", **overrides)
