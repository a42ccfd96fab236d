"""Extensions created unbound and bound to an app in ``create_app``."""

from __future__ import annotations

from flask import Flask, current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ledger.db import make_engine, session_factory


class Database:
    """Holds the engine and session factory of one app."""

    def init_app(self, app: Flask) -> None:
        state = {"engine": None, "factory": None}
        app.extensions["stockroute.db"] = state

        @app.teardown_appcontext
        def _noop(_exc):  # sessions are scoped by units of work, not by request
            return None

    @staticmethod
    def _state() -> dict:
        return current_app.extensions["stockroute.db"]

    @property
    def engine(self) -> Engine:
        state = self._state()
        if state["engine"] is None:  # built lazily: importing the app connects to nothing
            state["engine"] = make_engine(current_app.config["DATABASE_URL"])
            state["factory"] = session_factory(state["engine"])
        return state["engine"]

    @property
    def sessions(self) -> sessionmaker[Session]:
        self.engine
        return self._state()["factory"]


db = Database()
