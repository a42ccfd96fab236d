"""The Flask app factory. Nothing connects to a database at import time."""

from __future__ import annotations

from flask import Flask

from webapp.config import Config


def create_app(config: Config | None = None) -> Flask:
    app = Flask(__name__)
    cfg = config or Config()
    app.config.from_object(cfg)

    from webapp import extensions
    extensions.db.init_app(app)

    from webapp import pages
    app.register_blueprint(pages.bp)

    from webapp import api, errors, health, logging as app_logging
    from webapp.api import openapi
    app_logging.configure(app)
    errors.register(app)
    health.register(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(openapi.docs_bp)
    return app
