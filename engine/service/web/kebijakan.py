"""The policies and their rulebooks (/kebijakan): every policy, its versions, and the rulebook of
one version with each rule's legal basis. Every signed-in user reads them: an employee's sheet
links each number of its explanation here (`/kebijakan/<id>#nilai-<name>`)."""

from __future__ import annotations

from flask import Blueprint, request

from engine.i18n import N_
from engine.service import review as review_service
from engine.service.web import nav_item, render, requires, store

bp = Blueprint("kebijakan", __name__)
nav_item("kebijakan.index", N_("Policies"), ("agency", "reviewer", "admin"), order=20)
EVERYONE = ("agency", "reviewer", "admin")


@bp.get("/kebijakan")
@requires(*EVERYONE)
def index():
    return render("kebijakan/index.html", entries=review_service.policy_catalogue(store()))


@bp.get("/kebijakan/<policy_id>")
@requires(*EVERYONE)
def show(policy_id: str):
    """`?versi=VERSION` or `?versi=sha256:HASH` shows another version than the one in force."""
    wanted = request.args.get("versi", "").strip()
    ref = f"{policy_id}@{wanted}" if wanted else policy_id
    book = review_service.rulebook(store(), ref)
    hashes = [v["hash"] for v in book.versions]
    position = hashes.index(book.loaded.policy.hash) if book.loaded.policy.hash in hashes else -1
    chain = book.loaded.policy.chain
    previous = f"{policy_id}@{hashes[position - 1]}" if position > 0 else (chain[1] if len(chain) > 1 else None)
    return render("kebijakan/show.html", book=book, policy_id=policy_id, compare_with=previous)
