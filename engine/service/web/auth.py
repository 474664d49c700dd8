"""Signing in and out, the language switch and the home page.

Failed sign-ins are counted per address and per username with the app's shared limiter
(engine.service.ratelimit): past SIGN_IN_LIMIT the form answers 429 until the window passes; each
failure is logged with the name tried and the address, never the password.
"""

from __future__ import annotations

from flask import Blueprint, current_app, make_response, redirect, request, session, url_for

from engine import i18n
from engine.i18n import _
from engine.service import accounts
from engine.service.ratelimit import limiter
from engine.service.web import LANGUAGE_COOKIE, current_user, render, safe_next, store

#: Failed sign-ins allowed per address, and per username, before the form is refused for a while.
SIGN_IN_LIMIT = "5 per minute"
#: A year: how long the language chosen before signing in is remembered.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60

bp = Blueprint("auth", __name__, template_folder="templates", static_folder="static", static_url_path="/aset")


def _limit() -> str:
    return current_app.config.get("KINERJA_SIGN_IN_LIMIT", SIGN_IN_LIMIT)


def _failed(response) -> bool:
    return response.status_code == 401


def _username_key() -> str:
    return "masuk:" + (request.form.get("username") or "").strip().lower()[:64]


@bp.get("/")
def home():
    if not current_user:
        return redirect(url_for("auth.masuk"))
    return render("beranda.html")


@bp.route("/masuk", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"], deduct_when=_failed)
@limiter.limit(_limit, methods=["POST"], deduct_when=_failed, key_func=_username_key)
def masuk():
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user:
            return redirect(target)
        return render("masuk.html", next=target, username="", error=None)
    username = request.form.get("username", "")
    account = accounts.sign_in(store(), username, request.form.get("password", ""))
    if account is None:
        current_app.logger.warning("failed sign-in for %r from %s", username[:64], request.remote_addr)
        page = render(
            "masuk.html",
            next=target,
            username=username[:64],
            error=_("The username or password is wrong, or the account is disabled."),
        )
        return page, 401
    current_app.logger.info("%s signed in from %s", account.username, request.remote_addr)
    language = session.get("lang")
    session.clear()  # a fresh session: nothing from before signing in carries over
    session.permanent = True
    session["user"] = account.id
    if language:
        session["lang"] = language
    return redirect(target)


@bp.post("/keluar")
def keluar():
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    return redirect(url_for("auth.masuk"))


@bp.post("/bahasa")
def bahasa():
    """Switch the pages' language (id/en); kept in the session and in a cookie for the sign-in page."""
    chosen = i18n.normalise(request.form.get("lang")) or i18n.DEFAULT_LANGUAGE
    session["lang"] = chosen
    response = make_response(redirect(safe_next(request.form.get("next"))))
    response.set_cookie(
        LANGUAGE_COOKIE,
        chosen,
        max_age=LANGUAGE_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
    )
    return response
