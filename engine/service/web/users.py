"""The admins' users page: every account, a form to add one, a button to disable one."""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for

from engine.i18n import N_
from engine.service import ROLES, ServiceError, accounts
from engine.service.web import current_user, nav_item, render, requires, store

bp = Blueprint("users", __name__)
nav_item("users.index", N_("Users"), ("admin",), order=90)


@bp.get("/pengguna")
@requires("admin")
def index():
    return render("pengguna.html", users=accounts.list_users(store()), roles=ROLES, error=None, form={})


@bp.post("/pengguna")
@requires("admin")
def create():
    form = {name: request.form.get(name, "").strip() for name in ("username", "role", "agency")}
    try:
        accounts.create_user(
            store(),
            form["username"],
            request.form.get("password", ""),
            form["role"],
            form["agency"] or None,
            actor=current_user.caller,
        )
    except ServiceError as error:
        return render(
            "pengguna.html", users=accounts.list_users(store()), roles=ROLES, error=error.message, form=form
        ), error.status
    return redirect(url_for("users.index"))


@bp.post("/pengguna/<username>/nonaktifkan")
@requires("admin")
def disable(username: str):
    accounts.disable_user(store(), username, actor=current_user.caller)
    return redirect(url_for("users.index"))
