"""Configuration from the environment, with an embedded SQLite default."""

from __future__ import annotations

import os
from pathlib import Path


def default_database_url() -> str:
    return f"sqlite:///{Path.cwd() / 'stockroute.sqlite3'}"


class Config:
    def __init__(self, **overrides):
        self.DATABASE_URL = os.environ.get("DATABASE_URL") or default_database_url()
        # SECRET_KEY must be set in production; without one a random key is made
        # per process (sessions then do not survive a restart).
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or os.urandom(32).hex()
        self.SECRET_KEY_FROM_ENV = "SECRET_KEY" in os.environ
        self.MAX_PAGE_SIZE = int(os.environ.get("STOCKROUTE_MAX_PAGE_SIZE", "500"))
        self.ROUTING_TIME_LIMIT_S = float(os.environ.get("STOCKROUTE_ROUTING_TIME_LIMIT_S", "10"))
        self.TESTING = False
        for key, value in overrides.items():
            setattr(self, key, value)


class TestConfig(Config):
    def __init__(self, **overrides):
        super().__init__(TESTING=True, SECRET_KEY="test-secret", **overrides)
