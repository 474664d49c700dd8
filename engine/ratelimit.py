"""The app's one rate limiter (Flask-Limiter), shared by the API (per key) and the web (sign-in).

Limits are counted in memory by default, per process; `RATELIMIT_STORAGE_URI` in the app's
configuration (for example a Redis URL) shares them between processes. Each route states its own
limit with `@limiter.limit(...)`; nothing is limited by default.
"""
from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, default_limits=[], storage_uri="memory://")


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
