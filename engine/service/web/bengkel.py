"""The policy workbench (/bengkel, admins only; anyone else gets 404).

An author opens a policy, changes numbers in a form and gets a child policy that extends it
(engine.service.workbench), or edits YAML in the editor; then Periksa (checks), Uji (its own cases with
coverage), Coba (one record, from a form or a file, with its explanation), Dampak (against the
version in force, on stored evaluations) and Terbitkan (publish, only when checks and cases
pass). The draft travels in the page's form, so nothing is kept on the server until it is published.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from engine import service
from engine.evaluate.io import detect_format, read_records
from engine.i18n import N_
from engine.service import ServiceError, workbench
from engine.service import review as review_service
from engine.service.web import current_user, nav_item, render, requires, store

bp = Blueprint("bengkel", __name__)
nav_item("bengkel.index", N_("Workbench"), ("admin",), order=40)
#: Records of an uploaded file evaluated on the Coba tab.
MAX_TRY_RECORDS = 20
ACTIONS = ("periksa", "uji", "coba", "dampak", "terbitkan", "unduh")


def _parent(policy_id: str):
    wanted = request.values.get("versi", "").strip()
    return service.load_policy(f"{policy_id}@{wanted}" if wanted else policy_id, path="", store=store())


@bp.get("/bengkel")
@requires("admin")
def index():
    return render("bengkel/index.html", entries=review_service.policy_catalogue(store()))


@bp.get("/bengkel/<policy_id>")
@requires("admin")
def show(policy_id: str):
    loaded = _parent(policy_id)
    return render(
        "bengkel/angka.html",
        loaded=loaded,
        numbers=workbench.numbers(loaded),
        identity=workbench.default_identity(loaded),
        values={},
        problems={},
    )


@bp.post("/bengkel/<policy_id>")
@requires("admin")
def make_child(policy_id: str):
    """The numbers form -> the child policy, shown in the editor."""
    loaded = _parent(policy_id)
    identity = _identity(loaded)
    form = {n.key: request.form[n.key] for n in workbench.numbers(loaded) if n.key in request.form}
    try:
        text = workbench.child_yaml(loaded, workbench.changes_from(loaded, form), identity)
    except workbench.WorkbenchError as error:
        return render(
            "bengkel/angka.html",
            loaded=loaded,
            numbers=workbench.numbers(loaded),
            identity=identity,
            values=form,
            problems=dict(error.problems),
        ), 422
    return _draft_page(loaded, text, None)


def _identity(loaded) -> workbench.Identity:
    default = workbench.default_identity(loaded)
    return workbench.Identity(
        *(
            request.form.get(name, getattr(default, name)).strip()
            for name in ("id", "version", "title", "berlaku_mulai", "berlaku_sampai")
        )
    )


@bp.post("/bengkel/<policy_id>/draf")
@requires("admin")
def draft(policy_id: str):
    """One action on the draft in the editor (`aksi`): check, test, try, impact, publish or download."""
    loaded = _parent(policy_id)
    text = request.form.get("teks", "").replace("\r\n", "\n")
    action = request.form.get("aksi", "periksa")
    if action == "unduh":
        name = _draft_id(text) or f"{loaded.policy.id}-ubah"
        return Response(
            text, mimetype="application/yaml", headers={"Content-Disposition": f'attachment; filename="{name}.yaml"'}
        )
    return _draft_page(loaded, text, action if action in ACTIONS else "periksa")


def _draft_id(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith("id:"):
            value = line[3:].strip().strip("'\"")
            return value if value.replace("-", "").isalnum() else None
    return None


def _draft_page(loaded, text: str, action: str | None):
    result: dict = {"action": action}
    status = 200
    try:
        checked = workbench.check(store(), text)
    except workbench.WorkbenchError as error:
        checked, result["problem"] = workbench.Checked([], None), error.problems[0][1]
    result["checked"] = checked
    target = checked.loaded or loaded
    if action == "uji":
        result["report"] = workbench.run_cases(checked)
    elif action == "coba" and checked.loaded is not None:
        result["tries"] = _try(checked.loaded)
    elif action == "dampak" and checked.loaded is not None:
        result["comparison"] = workbench.impact(
            store(), checked.loaded, request.form.get("periode", "").strip() or None
        )
    elif action == "terbitkan":
        try:
            status, result["published"] = workbench.publish(store(), current_user.caller, text)
        except ServiceError as error:
            result["refused"], status = error, error.status
            if error.code == "cases_failed":
                result["report"] = workbench.run_cases(checked)
    lines = text.split("\n")
    marks = {d.position.line: d for d in checked.diagnostics if d.position.file == workbench.DRAFT_NAME}
    return render(
        "bengkel/draf.html",
        loaded=loaded,
        text=text,
        lines=lines,
        marks=marks,
        result=result,
        fields=workbench.input_fields(target),
        form=request.form,
    ), status


def _try(loaded) -> list[dict]:
    """The record of the Coba form, or the records of an uploaded file (the first MAX_TRY_RECORDS)."""
    upload = request.files.get("berkas")
    if upload is not None and upload.filename:
        head = upload.stream.read(4096)
        upload.stream.seek(0)
        results: list[dict] = []
        for incoming in read_records(upload.stream, detect_format(upload.filename, head), loaded.policy):
            if len(results) == MAX_TRY_RECORDS:
                break
            results.append(
                workbench.try_record(loaded, incoming.record)
                if incoming.error is None
                else {"errors": [incoming.error]}
            )
        return results
    fields = {name[len("coba.") :]: value for name, value in request.form.items() if name.startswith("coba.")}
    record = workbench.empty_lists(loaded, workbench.record_from_form(loaded, fields))
    return [workbench.try_record(loaded, record)]
