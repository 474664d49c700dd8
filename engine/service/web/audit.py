"""The audit log (/audit): who wrote what, when, filtered and paged newest first. Reviewers and
admins; anyone else gets 404."""

from __future__ import annotations

from flask import Blueprint, request

from engine.i18n import N_
from engine.service import review as review_service
from engine.service.web import current_user, nav_item, render, requires, store

bp = Blueprint("audit", __name__)
nav_item("audit.index", N_("Audit log"), ("reviewer", "admin"), order=60)


@bp.get("/audit")
@requires("reviewer", "admin")
def index():
    filters = {name: request.args.get(name, "").strip() for name in ("siapa", "apa", "objek", "dari", "sampai")}
    before = request.args.get("sebelum", "")
    page = review_service.audit_log(
        store(),
        current_user.caller,
        filters["siapa"],
        filters["apa"],
        filters["objek"],
        filters["dari"],
        filters["sampai"],
        int(before) if before.isdigit() else None,
    )
    return render(
        "audit/index.html",
        filters=filters,
        page=page,
        actors=review_service.audit_actors(store(), current_user.caller),
        actions=review_service.audit_actions(store(), current_user.caller),
    )
