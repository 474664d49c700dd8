"""The HTTP service (PRODUCT.md, HTTP). Thin by design: routes parse, call engine.api, serialise.

Only the app factory and the health endpoint exist so far; the authenticated /v1 API with
persistent submissions is issue 4 and is not implemented here yet.
"""
from __future__ import annotations

from flask import Flask, jsonify


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(config or {})

    @app.get("/v1/health")
    def health():
        from engine import __version__
        return jsonify({"status": "ok", "version": __version__})

    return app
