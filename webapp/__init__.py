"""The Flask app factory. Nothing connects to a database at import time."""

from __future__ import annotations

from flask import Flask, request

from webapp.config import Config


def create_app(config: Config | None = None) -> Flask:
    app = Flask(__name__)
    cfg = config or Config()
    app.config.from_object(cfg)

    from webapp import extensions
    extensions.db.init_app(app)

    from webapp import pages
    app.register_blueprint(pages.bp)

    from webapp import api, errors, headers, health, logging as app_logging
    from webapp.api import openapi
    app_logging.configure(app)
    errors.register(app)
    headers.register(app)
    health.register(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(openapi.docs_bp)

    @app.before_request
    def _refuse_oversized_bodies():
        # Before authentication or any view: a declared body over the limit is never read.
        limit = app.config.get("MAX_CONTENT_LENGTH")
        if limit and (request.content_length or 0) > limit:
            raise openapi.too_large(limit)

    return app
