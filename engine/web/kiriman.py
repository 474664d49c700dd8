"""The agencies' pages: submissions (kiriman), upload with preview, results, templates, one employee's sheet."""
from __future__ import annotations

from flask import Blueprint

from .. import submissions
from ..i18n import N_
from . import current_user, nav_item, render, requires, store

bp = Blueprint("kiriman", __name__)
nav_item("kiriman.index", N_("Submissions"), ("agency", "reviewer", "admin"), order=10)


@bp.get("/kiriman")
@requires("agency", "reviewer", "admin")
def index():
    return render("kiriman.html", submissions=submissions.list_submissions(store(), current_user.caller))


@bp.get("/kiriman/baru")
@requires("agency")
def baru():
    return render("kiriman_baru.html")


@bp.get("/kiriman/<submission_id>")
@requires("agency", "reviewer", "admin")
def show(submission_id: str):
    return render("kiriman_hasil.html", submission=None)
