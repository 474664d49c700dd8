"""The web for people (PRODUCT.md, The web): server-rendered pages in the same Flask app as /v1.

One sign-in, one layout (templates/base.html), one message catalogue (engine.i18n). Each area is
a thin view module with a blueprint (auth, kiriman, users, ...) listed in BLUEPRINTS; its views
parse the request, call engine.service (or engine.uploads, engine.service.accounts) with
`current_user.caller`, and render a template. The foundation every view module uses:

- `requires(*roles)`: the view needs a signed-in user with one of these roles; nobody signed in
  is sent to /masuk, a user of another role gets 404 (PRODUCT.md: absent, not forbidden).
- `current_user`: the signed-in `engine.service.accounts.Account` (falsy when nobody is); `.caller` acts in
  the service.
- `nav_item(endpoint, label, roles, order)`: a link in the header for these roles.
- `render(template, **context)`: render_template with the page's language set.
- `csrf`: Flask-WTF's CSRFProtect; every POST form carries `{{ csrf_field() }}`.

Sessions are Flask's signed cookies (HttpOnly, SameSite=Lax; Secure when KINERJA_SECURE_COOKIES=1
or SESSION_COOKIE_SECURE is set) holding the user's id and language only. The signing key is
SECRET_KEY from the app's configuration, else $KINERJA_SECRET_KEY, else a key generated once and
kept in the database's `settings` table (engine.service.accounts.secret_key), so every server process on
one database signs alike and a restart does not sign everyone out.
"""

from __future__ import annotations

import functools
import importlib
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFProtect, generate_csrf
from markupsafe import Markup
from werkzeug.local import LocalProxy

from engine import i18n
from engine.i18n import N_, _
from engine.service import accounts

#: The view modules, in the order their blueprints are registered. A new area adds its module here.
BLUEPRINTS = [
    "engine.service.web.auth",
    "engine.service.web.users",
    "engine.service.web.kiriman",
    "engine.service.web.kebijakan",
    "engine.service.web.tinjauan",
    "engine.service.web.audit",
    "engine.service.web.bengkel",
]
#: How long a session lasts without a request (seconds): a working day.
SESSION_LIFETIME = 10 * 60 * 60
#: Whole numbers of more digits than this are shown in groups of three (4.001.600 in Indonesian).
GROUP_FROM = 4
#: The cookie that keeps the language chosen before signing in.
LANGUAGE_COOKIE = "kinerja_lang"

csrf = CSRFProtect()
STATIC = Path(__file__).parent / "static"


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str  # a message id, translated when shown
    roles: tuple[str, ...]
    order: int


_NAV: list[NavItem] = []


def nav_item(endpoint: str, label: str, roles: tuple[str, ...], order: int = 50) -> None:
    """A link in the header, shown to users of these roles (lowest `order` first)."""
    if all(item.endpoint != endpoint for item in _NAV):
        _NAV.append(NavItem(endpoint, label, tuple(roles), order))
        _NAV.sort(key=lambda item: (item.order, item.endpoint))


def navigation() -> list[tuple[NavItem, bool]]:
    """The header's links for the signed-in user, each with whether it is the current page (its
    endpoint, else its blueprint when no link names the endpoint)."""
    user = g.get("user")
    items = [item for item in _NAV if user is not None and user.role in item.roles]
    endpoint = request.endpoint or ""
    exact = any(item.endpoint == endpoint for item in items)
    return [
        (item, item.endpoint == endpoint if exact else item.endpoint.split(".")[0] == endpoint.split(".")[0])
        for item in items
    ]


def _user():
    return g.get("user")


# Typed as the account the views behind `requires` act for; with nobody signed in the proxy is
# falsy (`if not current_user`), as Flask-Login's is.
current_user: accounts.Account = LocalProxy(_user)  # type: ignore[assignment]


def requires(*roles: str):
    """The view needs a signed-in user of one of `roles`; others are sent to sign in, or get 404."""

    def decorate(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            user = g.get("user")
            if user is None:
                return redirect(url_for("auth.masuk", next=request.full_path.rstrip("?")))
            if user.role not in roles:
                abort(404)
            return view(*args, **kwargs)

        guarded.required_roles = roles
        return guarded

    return decorate


def render(template: str, **context):
    return render_template(template, **context)


def store():
    return current_app.extensions["kinerja_store"]


def safe_next(target: str | None, default: str = "/") -> str:
    """A path on this site to go back to; anything else (another host, a scheme) is the default."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def init_app(app: Flask, csrf_exempt=()) -> None:
    """Add the web to the app: keys and cookies, CSRF (the blueprints in `csrf_exempt`, the /v1 API
    authenticated by bearer keys, are exempt), languages, templates' helpers, the blueprints."""
    # Flask's defaults are in app.config already; a value given to create_app wins over ours.
    app.config["SECRET_KEY"] = (
        app.config.get("SECRET_KEY")
        or os.environ.get("KINERJA_SECRET_KEY")
        or accounts.secret_key(app.extensions["kinerja_store"])
    )
    if app.config.get("SESSION_COOKIE_NAME") in (None, "session"):
        app.config["SESSION_COOKIE_NAME"] = "kinerja_session"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    app.config["SESSION_COOKIE_SECURE"] = bool(
        app.config.get("SESSION_COOKIE_SECURE") or os.environ.get("KINERJA_SECURE_COOKIES") == "1"
    )
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=SESSION_LIFETIME)
    app.config["WTF_CSRF_TIME_LIMIT"] = SESSION_LIFETIME
    csrf.init_app(app)
    for blueprint in csrf_exempt:
        csrf.exempt(blueprint)
    app.extensions["kinerja_web"] = True
    app.jinja_env.globals.update(
        _=_,
        csrf_field=_csrf_field,
        current_user=current_user,
        navigation=navigation,
        language=i18n.language,
        languages=i18n.LANGUAGES,
    )
    app.jinja_env.filters["number"] = _number
    app.before_request(_begin)
    app.teardown_request(_end)
    app.after_request(_headers)
    for name in BLUEPRINTS:
        module = importlib.import_module(name)
        app.register_blueprint(module.bp)


def _begin() -> None:
    """Who is signed in and which language the page is in (before every request, API's too)."""
    if request.path.startswith("/v1"):
        return
    user_id = session.get("user")
    g.user = accounts.get_user(store(), user_id) if isinstance(user_id, str) else None
    if user_id and g.user is None:
        session.pop("user", None)  # disabled or removed: signed out
    chosen = i18n.normalise(session.get("lang") or request.cookies.get(LANGUAGE_COOKIE))
    g.language_token = i18n.set_language(
        chosen or i18n.negotiate(request.headers.get("Accept-Language")) or i18n.DEFAULT_LANGUAGE
    )


def _end(_error=None) -> None:
    token = g.pop("language_token", None)
    if token is not None:
        i18n.reset_language(token)


def _headers(response):
    if not request.path.startswith("/v1") and response.mimetype == "text/html":
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; "
            "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("Content-Language", i18n.language())
    return response


def _csrf_field() -> Markup:
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(generate_csrf())


def _number(value, places: int | None = None) -> str:
    """A number as a person reads it in the page's language (decimal comma in Indonesian)."""
    from decimal import Decimal
    from fractions import Fraction

    from engine.numbers import format_number

    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, float):  # the batch kernel's rounded outputs: its shortest repr is the decimal
        value = Decimal(repr(value))
    if isinstance(value, (int, Decimal)) and places is None:  # exact already: no Fraction needed
        text = format(value, "f") if isinstance(value, Decimal) else str(value)
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        text = text.replace(".", i18n.decimal_mark())
    elif isinstance(value, (int, Decimal, Fraction)):
        text = format_number(Fraction(value), places, i18n.decimal_mark())
    else:
        return str(value)
    whole, mark, fraction = text.partition(i18n.decimal_mark())
    digits = whole.lstrip("-")
    if len(digits) > GROUP_FROM:
        grouped = f"{int(digits):,}".replace(",", "." if i18n.decimal_mark() == "," else ",")
        text = whole[: len(whole) - len(digits)] + grouped + mark + fraction
    return text


#: The roles' names as people read them (the codes stay as they are).
ROLE_NAMES = (N_("agency"), N_("reviewer"), N_("admin"))

#: Titles of the error pages, by status.
ERROR_TITLES = {
    400: N_("The request could not be read"),
    403: N_("Not allowed"),
    404: N_("Page not found"),
    405: N_("Not allowed"),
    413: N_("The file is too large"),
    429: N_("Too many attempts"),
    500: N_("Something went wrong"),
}


def error_page(error: Exception):
    """Any error on a web page as an HTML page in the reader's language; never a traceback."""
    from flask_wtf.csrf import CSRFError
    from werkzeug.exceptions import HTTPException

    from engine.service import ServiceError

    if isinstance(error, CSRFError):
        status, message = (
            400,
            _("The form has expired or did not come from this site. Go back, reload the page and try again."),
        )
    elif isinstance(error, ServiceError) and error.status != 404:
        status, message = error.status, error.message
    elif isinstance(error, ServiceError):  # absent or another agency's: the same words, naming nothing
        status, message = 404, _("There is no such page, or it is not yours to see.")
    elif isinstance(error, HTTPException):
        status = error.code or 500
        message = {
            404: _("There is no such page, or it is not yours to see."),
            413: _("The file is larger than the server accepts."),
            429: _("Too many attempts: wait a minute and try again."),
        }.get(status, _("The request was refused."))
    else:
        current_app.logger.exception("unexpected error answering %s %s", request.method, request.path)
        status, message = 500, _("The server could not answer this request; the error has been logged.")
    title = _(ERROR_TITLES.get(status, ERROR_TITLES[500 if status >= 500 else 400]))
    headers = {"Retry-After": "60"} if status == 429 else {}
    return render_template("error.html", title=title, message=message, status=status), status, headers
