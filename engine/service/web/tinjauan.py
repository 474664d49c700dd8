"""The reviewers' pages (/tinjauan): two versions compared with their impact on stored
evaluations, the employees a change moves (downloadable), and stored evaluations searched and
replayed. Reviewers and admins read; the only form that posts is a replay, an auditor's act that
the audit log records."""

from __future__ import annotations

from flask import Blueprint, Response, request

from engine import service
from engine.i18n import N_
from engine.service import review as review_service
from engine.service.web import current_user, nav_item, render, requires, store

bp = Blueprint("tinjauan", __name__)
nav_item("tinjauan.index", N_("Compare versions"), ("reviewer", "admin"), order=30)
nav_item("tinjauan.evaluasi", N_("Evaluations"), ("reviewer", "admin"), order=35)
READERS = ("reviewer", "admin")
#: Evaluations on one page of the search.
EVALUATIONS_PAGE = 50


def _selection() -> dict:
    return {name: request.args.get(name, "").strip() for name in ("lama", "baru", "kebijakan", "periode")}


@bp.get("/tinjauan")
@requires(*READERS)
def index():
    chosen = _selection()
    comparison = None
    if chosen["lama"] and chosen["baru"]:
        comparison = review_service.compare(
            store(),
            current_user.caller,
            chosen["lama"],
            chosen["baru"],
            chosen["kebijakan"] or None,
            chosen["periode"] or None,
        )
    return render(
        "tinjauan/compare.html",
        chosen=chosen,
        comparison=comparison,
        chart=unit_chart(comparison) if comparison else None,
        entries=review_service.policy_catalogue(store()),
        shown=review_service.MOVERS_SHOWN,
    )


@bp.get("/tinjauan/pindah.csv")
@requires(*READERS)
def movers_csv():
    chosen = _selection()
    comparison = review_service.compare(
        store(),
        current_user.caller,
        chosen["lama"],
        chosen["baru"],
        chosen["kebijakan"] or None,
        chosen["periode"] or None,
    )
    name = f"pindah-{comparison.old.policy.id}-{comparison.new.policy.id}.csv"
    return Response(
        review_service.movers_csv(comparison),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/tinjauan/evaluasi")
@requires(*READERS)
def evaluasi():
    filters = {name: request.args.get(name, "").strip() for name in ("kebijakan", "periode", "nip", "setelah")}
    page = service.list_evaluations(
        store(),
        current_user.caller,
        filters["kebijakan"] or None,
        filters["periode"] or None,
        filters["nip"] or None,
        EVALUATIONS_PAGE,
        filters["setelah"] or None,
    )
    return render("tinjauan/evaluasi.html", filters=filters, page=page)


@bp.post("/tinjauan/ulang")
@requires(*READERS)
def ulang():
    """Replay one stored evaluation (`evaluasi`) or a whole submission (`kiriman`)."""
    evaluation_id = request.form.get("evaluasi", "").strip()
    submission_id = request.form.get("kiriman", "").strip()
    if evaluation_id:
        reports = [service.replay_evaluation(store(), current_user.caller, evaluation_id)]
    else:
        reports = [r.as_json() for r in review_service.replay_submission(store(), current_user.caller, submission_id)]
    return render("tinjauan/ulang.html", reports=reports, evaluation_id=evaluation_id, submission_id=submission_id)


# The per-unit chart ----------------------------------------------------------------------------

#: Geometry of the per-agency chart (SVG user units).
CHART_WIDTH, CHART_LABEL, CHART_ROW = 640, 170, 30


def unit_chart(comparison) -> dict:
    """Bars of the per-agency chart: employees moved to a better label to the right, to a worse
    one to the left, each bar's length in proportion to the largest count."""
    agencies = comparison.agencies
    peak = max([a.up for a in agencies] + [a.down for a in agencies] + [1])
    half = (CHART_WIDTH - CHART_LABEL - 60) / 2
    middle = CHART_LABEL + 30 + half
    rows = []
    for index, a in enumerate(agencies):
        y = 30 + index * CHART_ROW
        rows.append(
            {
                "agency": a.agency,
                "y": y,
                "up": a.up,
                "down": a.down,
                "up_width": round(half * a.up / peak, 1),
                "down_width": round(half * a.down / peak, 1),
            }
        )
    return {
        "rows": rows,
        "middle": middle,
        "width": CHART_WIDTH,
        "height": 40 + len(rows) * CHART_ROW,
        "label_x": CHART_LABEL,
    }


@bp.app_template_filter("ribuan")
def grouped(value) -> str:
    """A number with thousands grouped as the page's language writes them: 1.185.022.700 or 1,185,022,700."""
    from decimal import Decimal
    from fractions import Fraction

    from engine.i18n import decimal_mark
    from engine.numbers import format_number

    if isinstance(value, bool) or not isinstance(value, (int, Decimal, Fraction)):
        return "" if value is None else str(value)
    mark = decimal_mark()
    text = format_number(Fraction(value), None, ".")
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _dot, fraction = text.partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        whole, groups = whole[:-3], [whole[-3:]] + groups
    separator = "," if mark == "." else "."
    return sign + separator.join([whole] + groups) + (mark + fraction if fraction else "")
