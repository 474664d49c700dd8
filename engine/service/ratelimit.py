"""The app's one rate limiter (Flask-Limiter), shared by the API (per key) and the web (sign-in).

Limits are counted in memory by default, per process; `RATELIMIT_STORAGE_URI` in the app's
configuration (for example a Redis URL) shares them between processes. Each route states its own
limit with `@limiter.limit(...)`; nothing is limited by default.

Flask-Limiter keeps `enabled` on the limiter object, which every app of the process shares, so
the last app created would decide for all. Here each app's own `RATELIMIT_ENABLED` decides for
its own requests (a request filter reads it), whatever other apps were created after it.
"""

from __future__ import annotations

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, default_limits=[], storage_uri="memory://")


@limiter.request_filter
def _disabled_for_this_app() -> bool:
    return not current_app.config.get("RATELIMIT_ENABLED", True)


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    enabled = app.config.setdefault("RATELIMIT_ENABLED", True)
    app.config["RATELIMIT_ENABLED"] = True  # the limiter itself stays on; the filter above decides
    limiter.init_app(app)
    app.config["RATELIMIT_ENABLED"] = enabled
