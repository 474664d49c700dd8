"""The agencies' pages: submissions (kiriman), upload with preview, results, templates, one employee's sheet.

Each view parses the request, calls one function of engine.service.submissions (where the rules are) with
the signed-in user, and renders a template or sends a file.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, request, url_for

from engine.i18n import N_
from engine.service import submissions
from engine.service.web import current_user, nav_item, render, requires, store

bp = Blueprint("kiriman", __name__)
nav_item("kiriman.index", N_("Submissions"), ("agency", "reviewer", "admin"), order=10)
nav_item("kiriman.baru", N_("Send a file"), ("agency",), order=11)

MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
#: Sort directions as they appear in the address.
ASCENDING, DESCENDING = "naik", "turun"


def _download(data: bytes, filename: str, fmt: str) -> Response:
    return Response(
        data, mimetype=MIMETYPES[fmt], headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@bp.get("/kiriman")
@requires("agency", "reviewer", "admin")
def index():
    return render("kiriman.html", submissions=submissions.list_submissions(store(), current_user.caller))


@bp.get("/kiriman/baru")
@requires("agency")
def baru():
    return render("kiriman_baru.html", policies=submissions.policies(store()), form={}, errors=[])


@bp.post("/kiriman/baru")
@requires("agency")
def pratinjau():
    form = {name: request.form.get(name, "").strip() for name in ("policy", "period")}
    berkas, unit = request.files.get("berkas"), request.files.get("unit")
    unit_data = unit.read() if unit is not None and unit.filename else None
    staged = submissions.stage_upload(
        store(),
        current_user.caller,
        current_user.id,
        form["policy"],
        form["period"],
        berkas.filename if berkas else "",
        berkas.read() if berkas else b"",
        unit.filename if unit_data else None,
        unit_data,
    )
    return render("kiriman_pratinjau.html", staged=staged, preview=staged.preview), 200 if staged.ok else 422


@bp.post("/kiriman/kirim")
@requires("agency")
def kirim():
    submission_id = submissions.send_upload(
        store(), current_user.caller, current_user.id, request.form.get("token", "")
    )
    return redirect(url_for("kiriman.show", submission_id=submission_id), 303)


@bp.get("/kiriman/<submission_id>")
@requires("agency", "reviewer", "admin")
def show(submission_id: str):
    args = request.args
    page = int(args["halaman"]) if args.get("halaman", "").isdigit() and len(args["halaman"]) < 7 else 1
    found = submissions.results(
        store(),
        current_user.caller,
        submission_id,
        unit=args.get("unit") or None,
        predikat=args.get("predikat") or None,
        sort=args.get("urut") or None,
        descending=args.get("arah") == DESCENDING,
        page=page,
    )
    return render("kiriman_hasil.html", r=found, args=args, ASCENDING=ASCENDING, DESCENDING=DESCENDING)


@bp.get("/kiriman/<submission_id>/hasil.<any(xlsx, csv):fmt>")
@requires("agency", "reviewer", "admin")
def hasil(submission_id: str, fmt: str):
    return _download(*submissions.results_file(store(), current_user.caller, submission_id, fmt), fmt)


@bp.get("/kebijakan/<policy_id>/templat.<any(xlsx, csv):fmt>")
@requires("agency", "reviewer", "admin")
def templat(policy_id: str, fmt: str):
    return _download(*submissions.template(policy_id, fmt, request.args.get("periode") or None, store()), fmt)


@bp.get("/evaluasi/<evaluation_id>")
@requires("agency", "reviewer", "admin")
def evaluasi(evaluation_id: str):
    return render("evaluasi.html", sheet=submissions.employee_sheet(store(), current_user.caller, evaluation_id))
