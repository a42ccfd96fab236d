"""Security headers on every answer.

- ``X-Content-Type-Options: nosniff``: a browser never guesses another type
  (a JSON answer echoing a SKU or a note is never run as HTML or script);
- ``X-Frame-Options: DENY`` and CSP ``frame-ancestors 'none'``: no page may be
  framed (clickjacking);
- ``Referrer-Policy: no-referrer``;
- a Content-Security-Policy: on HTML pages only this server's scripts, styles
  and images (Swagger UI needs inline styles and ``data:`` images, never inline
  script); on everything else nothing at all;
- ``Cache-Control: no-store`` on ``/api/`` answers, which carry stock, orders and
  purchase orders for an authenticated caller: no proxy or browser keeps them.

A view may set its own ``Cache-Control``; the others are always these.
"""

from __future__ import annotations

from flask import Flask, Response, request

PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'")
OTHER_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"


def register(app: Flask) -> None:
    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "no-referrer"
        headers["Content-Security-Policy"] = (PAGE_CSP if response.mimetype == "text/html"
                                              else OTHER_CSP)
        if request.path.startswith("/api/") and "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store"
        return response
