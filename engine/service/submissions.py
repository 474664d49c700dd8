"""Submissions as people make and read them: upload with preview, send, results, one employee's sheet.

The rules, so the web's views stay thin and the API could offer the same:
- Preview stores nothing. A file whose every record is valid is kept as an `Upload` whose id is a
  one-time token; Kirim sends that upload through engine.service.submit with the idempotency key
  "web:" + token, so a double click, a refresh or a second tab store it once (the database's
  unique constraint decides, as for the API), and the whole file or nothing is stored.
- Who sees what is engine.service's rule: an agency its own submissions and evaluations, a
  reviewer or admin every one; another agency's is absent (404).
- The unit kerja of a submission come from an optional units file sent with it (the format of
  `kinerja distribution --units`); the results page filters by them and checks each unit rule
  (kurva distribusi) of the policy with engine.review.distribution.
"""

from __future__ import annotations

import functools
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, cast

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from engine import api, i18n, service
from engine.evaluate.io import decode_json, encode
from engine.i18n import _
from engine.review import distribution
from engine.service.common import Caller, ServiceError, _fits, _visible_row, iso, require
from engine.service.store import (
    FILENAME_LENGTH,
    PERIOD_LENGTH,
    POLICY_ID_LENGTH,
    Evaluation,
    Store,
    Submission,
    SubmissionUnits,
    Upload,
    now,
)

if TYPE_CHECKING:
    from engine.evaluate.sheets import Preview

#: Most submissions listed on one page.
MAX_LISTED = 200
#: Rows of the results table per page.
PAGE_SIZE = 500
#: A previewed file not sent within this time is forgotten.
UPLOAD_LIFETIME = timedelta(days=1)
#: Largest units file (bytes).
MAX_UNITS_BYTES = 2_000_000
#: The inputs an employee influences, for "what would have made it better": the last field of
#: the input's path. Targets, ranks and a unit's own figures are not the employee's to change.
INFLUENCED_FIELDS = ("realisasi",)
#: Idempotency keys of submissions sent from the web: this prefix and the upload's token.
WEB_KEY_PREFIX = "web:"


def list_submissions(store: Store, caller: Caller, limit: int = MAX_LISTED) -> list[dict]:
    """The caller's submissions (every agency's for reviewers and admins), newest first."""
    query = select(Submission).order_by(Submission.created_at.desc(), Submission.id).limit(limit)
    if not caller.reads_everything:
        query = query.where(Submission.agency == caller.agency)
    with store.session() as session:
        rows = session.scalars(query).all()
    return [
        {
            "id": row.id,
            "agency": row.agency,
            "policy_id": row.policy_id,
            "policy_hash": row.policy_hash,
            "period": row.period,
            "record_count": row.record_count,
            "created_by": row.created_by,
            "created_at": iso(row.created_at),
        }
        for row in rows
    ]


def policies(store: Store) -> list[dict]:
    """The policies an agency can send data for (id, title, version in force): the built-in ones and
    those published under a new id, such as a region's child made in the workbench."""
    return service.policies_in_force(store)


# Templates ------------------------------------------------------------------------------------


def template(policy_id: str, fmt: str, period: str | None = None, store: Store | None = None) -> tuple[bytes, str]:
    """The data template of a policy, built in or published (the version in force for `period`,
    else today), and its file name."""
    from engine.evaluate import sheets

    loaded = (
        service.load_policy(policy_id, path="", store=store)
        if period is None
        else service._chooser(policy_id, "", store, period).default
    )
    data = sheets.template_xlsx(loaded) if fmt == "xlsx" else sheets.template_csv(loaded)
    return data, f"templat-{loaded.policy.id}-{loaded.policy.version}.{fmt}"


# Upload, preview and send ---------------------------------------------------------------------


@dataclass
class Staged:
    """An upload as previewed: every row, the units read, and the token to send it (None: it cannot
    be sent as it is; nothing was kept)."""

    preview: Preview
    policy: str
    period: str
    units: list[distribution.Unit] | None
    unit_errors: list[str]
    token: str | None

    @property
    def ok(self) -> bool:
        return self.token is not None

    @property
    def columns(self) -> list[str]:
        """The outputs shown for each valid record: those that are single values."""
        first = next((row.result for row in self.preview.rows if row.result and "outputs" in row.result), None)
        return [name for name, value in (first or {}).get("outputs", {}).items() if not isinstance(value, (dict, list))]

    @property
    def cell_errors(self) -> list:
        """Every error at its cell: the file's, then each row's, in the order of the sheets' rows."""
        return list(self.preview.errors) + [error for row in self.preview.rows for error in row.errors]


def _form_errors(policy: str, period: str, filename: str, data: bytes) -> list[str]:
    errors = []
    if not _fits(policy, POLICY_ID_LENGTH):
        errors.append(_("choose a policy"))
    if not _fits(period, PERIOD_LENGTH):
        errors.append(
            _("write the period (a year, a month YYYY-MM or a day YYYY-MM-DD), at most {n} characters", n=PERIOD_LENGTH)
        )
    if not filename or not data:
        errors.append(_("choose the file to send (.xlsx or .csv)"))
    return errors


def stage_upload(
    store: Store,
    caller: Caller,
    user_id: str,
    policy: str,
    period: str,
    filename: str,
    data: bytes,
    units_name: str | None = None,
    units_data: bytes | None = None,
) -> Staged:
    """Read and evaluate an uploaded file for the preview; keep it (and return a token) only when
    every record is valid, under the version in force for the period. Nothing else is stored."""
    from engine.evaluate import sheets

    require(caller, "agency")
    problems = _form_errors(policy, period, filename, data)
    if problems:
        raise ServiceError(
            422,
            "invalid_form",
            "; ".join(problems),
            [{"path": "", "code": "invalid_form", "message": p} for p in problems],
        )
    chooser = service._chooser(policy, "/policy", store, period)
    preview = sheets.preview(chooser, filename, data)
    default = chooser.default
    for row in preview.rows:  # a record whose own periode falls under another version
        if row.record is not None and not row.errors and chooser.for_record(row.record) is not default:
            row.errors.append(
                sheets.CellError(
                    row.sheet,
                    row.row,
                    None,
                    None,
                    "/periode",
                    "period_mismatch",
                    _(
                        "this record's periode is not under the version of {policy} in force for the period {period}; "
                        "send it in a file of its own",
                        policy=default.policy.id,
                        period=period,
                    ),
                )
            )
    units, unit_errors = read_units(units_name, units_data) if units_data else (None, [])
    token = None
    if preview.ok and not unit_errors:
        token = uuid.uuid4().hex
        moment = now()
        with store.session() as session, session.begin():
            session.execute(
                delete(Upload).where(Upload.submission_id.is_(None), Upload.created_at < moment - UPLOAD_LIFETIME)
            )
            session.add(
                Upload(
                    id=token,
                    user_id=user_id,
                    agency=caller.agency,
                    policy_id=policy,
                    period=period,
                    filename=filename[-FILENAME_LENGTH:],
                    data=data,
                    created_at=moment,
                    units=encode(units_json(units)).decode("utf-8") if units is not None else None,
                )
            )
            service._audit(
                session,
                caller,
                "upload.preview",
                f"upload/{token}",
                f"policy={policy} period={period} records={len(preview.rows)} file={filename[-80:]}",
            )
    return Staged(preview, policy, period, units, unit_errors, token)


def send_upload(store: Store, caller: Caller, user_id: str, token: str) -> str:
    """Store a previewed upload as one submission (all of it or nothing), once: the id of the
    submission, the same for every repeat of the same token."""
    from engine.evaluate import sheets

    require(caller, "agency")
    with store.session() as session:
        upload = session.get(Upload, token) if _fits(token, 32) else None
    if upload is None or upload.user_id != user_id:
        raise ServiceError(404, "not_found", _("this preview is no longer available; upload the file again"))
    if upload.submission_id is not None:
        return upload.submission_id
    chooser = service._chooser(upload.policy_id, "/policy", store, upload.period)
    records = sheets.read_upload(chooser.default, upload.filename, upload.data).records
    body = {"policy": upload.policy_id, "period": upload.period, "records": records}
    _status, stored, _replayed = service.submit(store, caller, body, WEB_KEY_PREFIX + token, encode(body))
    try:
        with store.session() as session, session.begin():
            row: Upload = session.get(Upload, token)  # type: ignore[assignment]  # read above
            if row.submission_id is None:
                row.submission_id = stored["id"]
                if upload.units is not None and session.get(SubmissionUnits, stored["id"]) is None:
                    session.add(SubmissionUnits(submission_id=stored["id"], units=upload.units))
    except IntegrityError:
        pass  # a concurrent Kirim of the same token wrote the same rows first
    return stored["id"]


def read_units(name: str | None, data: bytes) -> tuple[list[distribution.Unit] | None, list[str]]:
    """Units from an uploaded YAML or JSON units file (as `kinerja distribution --units` reads)."""
    from engine.diagnostics import Diagnostics

    if len(data) > MAX_UNITS_BYTES:
        return None, [_("the units file is larger than {n:,} bytes", n=MAX_UNITS_BYTES)]
    suffix = ".json" if (name or "").lower().endswith(".json") else ".yaml"
    problems = Diagnostics()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"unit{suffix}"
        path.write_bytes(data)
        units = distribution.read_units(path, problems)
    if problems:
        return None, [d.render().replace(str(path), name or "unit") for d in problems.sorted()]
    return units, []


def units_json(units: list[distribution.Unit]) -> list[dict]:
    return [{"id": u.id, "name": u.name, "attributes": u.attributes, "members": u.members} for u in units]


def _units(session, submission_id: str) -> list[distribution.Unit] | None:
    row = session.get(SubmissionUnits, submission_id)
    if row is None:
        return None
    from engine.diagnostics import Position

    stored = cast(list, decode_json(row.units.encode("utf-8")))  # as units_json wrote them
    return [
        distribution.Unit(u["id"], u["name"], u["attributes"], [str(m) for m in u["members"]], Position("unit", 0, 0))
        for u in stored
    ]


# Results --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _version(store_url: str, policy_id: str, policy_hash: str) -> api.LoadedPolicy | None:
    """The policy version a submission used, compiled once per process (a version never changes):
    from its file when it is built in or published, so its outputs keep the author's order (as
    `kinerja eval` writes them), else as the store kept it."""
    from engine.service.replay import load_stored
    from engine.service.store import open_store

    store = open_store(store_url, migrate=False)
    try:
        try:
            loaded = service.load_policy(f"{policy_id}@{policy_hash}", path="", store=store)
            if loaded.policy.hash == policy_hash:
                return loaded
        except ServiceError:
            pass
        return load_stored(store, policy_hash)
    finally:
        store.dispose()


def _policy_of(store: Store, policy_id: str, policy_hash: str) -> api.LoadedPolicy:
    loaded = _version(store.url, policy_id, policy_hash)
    if loaded is None:
        raise ServiceError(
            500, "policy_broken", _("the policy version {hash} of this submission cannot be rebuilt", hash=policy_hash)
        )
    return loaded


@dataclass
class ChartBar:
    label: str
    count: int
    share: Decimal  # percent, 2 places


@dataclass
class UnitChart:
    """The predikat distribution of one unit (or of the whole submission) and its unit rules' verdicts."""

    id: str
    name: str
    total: int
    bars: list[ChartBar]
    limits: list[dict] = field(default_factory=list)  # {text, count, share, limit, percent, holds}
    notes: list[str] = field(default_factory=list)

    @property
    def violations(self) -> list[dict]:
        return [limit for limit in self.limits if not limit["holds"]]


@dataclass
class Results:
    submission: dict
    columns: list[str]  # output names shown
    rows: list[dict]  # {evaluation_id, record_id, unit, outputs}
    total: int  # rows after filtering, before paging
    page: int
    pages: int
    units: list[distribution.Unit] | None
    predikat: str | None
    labels: list[str]
    charts: list[UnitChart]


def _share(count: int, total: int) -> Decimal:
    if not total:
        return Decimal(0)
    return (Decimal(count * 100) / Decimal(total)).quantize(Decimal("0.01"))


def submission_meta(store: Store, caller: Caller, submission_id: str) -> dict:
    with store.session() as session:
        row = _visible_row(session, caller, Submission, submission_id, "submission")
    return {
        "id": row.id,
        "agency": row.agency,
        "policy_id": row.policy_id,
        "policy_hash": row.policy_hash,
        "period": row.period,
        "record_count": row.record_count,
        "created_by": row.created_by,
        "created_at": iso(row.created_at),
    }


def _stored_results(store: Store, caller: Caller, submission_id: str):
    meta = submission_meta(store, caller, submission_id)  # the caller may see it, or 404
    rows, units = _read_results(store, submission_id)
    return meta, [dict(row) for row in rows], units


def _read_results(store: Store, submission_id: str) -> tuple:
    """A submission's evaluations and units, decoded once per process: a stored submission never changes."""

    def read():
        with store.session() as session:
            rows = session.execute(
                select(Evaluation.id, Evaluation.record_id, Evaluation.outputs)
                .where(Evaluation.submission_id == submission_id)
                .order_by(Evaluation.position)
            ).all()
            units = _units(session, submission_id)
        return tuple(
            {"evaluation_id": eid, "record_id": rid, "outputs": decode_json(outputs.encode("utf-8"))}
            for eid, rid, outputs in rows
        ), units

    return _RESULTS.get((store.url, submission_id)) or _RESULTS.put((store.url, submission_id), read())


class _Recent:
    """The few most recently read submissions (a results page is read again as it is sorted and filtered)."""

    def __init__(self, size: int):
        self.size = size
        self.items: dict = {}

    def get(self, key):
        value = self.items.pop(key, None)
        if value is not None:
            self.items[key] = value
        return value

    def put(self, key, value):
        self.items[key] = value
        while len(self.items) > self.size:
            self.items.pop(next(iter(self.items)))
        return value


#: Submissions whose results were decoded last, at most this many kept.
RECENT_SUBMISSIONS = 4
_RESULTS = _Recent(RECENT_SUBMISSIONS)


def results(
    store: Store,
    caller: Caller,
    submission_id: str,
    unit: str | None = None,
    predikat: str | None = None,
    sort: str | None = None,
    descending: bool = False,
    page: int = 1,
) -> Results:
    """A submission's results, filtered by unit and predikat, sorted by a column, a page at a time,
    with the predikat distribution of each unit against the policy's unit rules."""
    from engine.review.whatif import predikat_output

    meta, rows, units = _stored_results(store, caller, submission_id)
    loaded = _policy_of(store, meta["policy_id"], meta["policy_hash"])
    policy = loaded.policy
    columns = [
        name for name in policy.outputs if all(not isinstance(r["outputs"].get(name), (dict, list)) for r in rows[:50])
    ]
    output = predikat_output(policy)
    name = output.name if output is not None else None
    labels = [str(label) for label in output.labels] if output is not None else []
    unit_of = {member: u for u in units or () for member in u.members}
    for row in rows:
        unit_ = unit_of.get(str(row["record_id"]))
        row["unit"], row["unit_name"] = (unit_.id, unit_.name) if unit_ is not None else (None, None)
    charts = _charts(loaded, rows, units, name, labels)
    chosen = rows
    if unit:
        chosen = [r for r in chosen if r["unit"] == unit]
    if predikat and name:
        chosen = [r for r in chosen if str(r["outputs"].get(name)) == predikat]
    if sort in ("nip", "unit") or sort in columns:
        chosen = sorted(chosen, key=_sort_key(sort, name, labels), reverse=descending)
    pages = max(1, -(-len(chosen) // PAGE_SIZE))
    page = min(max(1, page), pages)
    shown = chosen[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return Results(meta, columns, shown, len(chosen), page, pages, units, name, labels, charts)


def _sort_key(sort: str, predikat: str | None, labels: list[str]):
    def key(row):
        if sort == "nip":
            value = row["record_id"]
        elif sort == "unit":
            value = row["unit_name"]
        else:
            value = row["outputs"].get(sort)
        if value is None:
            return (2, 0, "")
        if sort == predikat and str(value) in labels:
            return (0, labels.index(str(value)), "")  # best first, as the policy lists them
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            return (0, value, "")
        return (1, 0, str(value))

    return key


def _charts(loaded, rows: list[dict], units, predikat: str | None, labels: list[str]) -> list[UnitChart]:
    if predikat is None:
        return []
    outputs = {str(r["record_id"]): r["outputs"] for r in rows if r["record_id"] is not None}
    if not units:
        counts: dict[str, int] = {}
        for row in rows:
            value = str(row["outputs"].get(predikat))
            counts[value] = counts.get(value, 0) + 1
        bars = [ChartBar(label, counts.get(label, 0), _share(counts.get(label, 0), len(rows))) for label in labels]
        return [
            UnitChart(
                "",
                _("All employees of this submission"),
                len(rows),
                bars,
                notes=[
                    _("No units were sent with this submission: the unit rules (kurva distribusi) are not checked.")
                ],
            )
        ]
    lang = i18n.language()
    rules = [rule for rule in loaded.policy.unit_rules.values() if rule.counts == predikat]
    charts = []
    for unit in units:
        counts, total = {}, 0
        for member in unit.members:
            result = outputs.get(member)
            if result is not None and predikat in result:
                total += 1
                counts[str(result[predikat])] = counts.get(str(result[predikat]), 0) + 1
        chart = UnitChart(
            unit.id,
            unit.name,
            total,
            [ChartBar(label, counts.get(label, 0), _share(counts.get(label, 0), total)) for label in labels],
        )
        for rule in rules:
            report = distribution.assess(rule, [unit], outputs)[0]
            if report.problem:
                chart.notes.append(
                    _(
                        "not checked: the rule {rule} has no case for {by} {case}",
                        rule=rule.label or rule.name,
                        by=rule.by,
                        case=report.case,
                    )
                )
                continue
            if report.small:
                chart.notes.append(_("not checked: fewer than {n} employees", n=rule.small_units_below))
                continue
            for condition in rule.cases[report.case]:
                count = sum(counts.get(str(label), 0) for label in condition.labels)
                percent = condition.bound in ("at_most", "at_least")
                chart.limits.append(
                    {
                        "text": distribution.condition_text(condition, lang),
                        "count": count,
                        "total": total,
                        "share": _share(count, total),
                        "percent": percent,
                        "limit": Decimal(condition.limit.numerator) / Decimal(condition.limit.denominator),
                        "holds": distribution.holds(condition, count, total),
                        "rule": rule.label or rule.name,
                        "number": len(chart.limits) + 1,
                    }
                )
            if report.missing:
                chart.notes.append(_("{n} members have no result in this submission", n=len(report.missing)))
        if not rules:
            chart.notes.append(_("this policy states no unit rules (kurva distribusi)"))
        charts.append(chart)
    return charts


def results_file(store: Store, caller: Caller, submission_id: str, fmt: str) -> tuple[bytes, str]:
    """The results as .xlsx or .csv, as `kinerja eval` writes them for the same records."""
    from engine.evaluate import sheets

    meta, rows, _units_ = _stored_results(store, caller, submission_id)
    loaded = _policy_of(store, meta["policy_id"], meta["policy_hash"])
    names = list(loaded.policy.outputs)
    results_ = [{"id": r["record_id"], "outputs": r["outputs"]} for r in rows]
    data = sheets.results_xlsx(results_, names) if fmt == "xlsx" else sheets.results_csv(results_, names)
    return data, f"hasil-{meta['policy_id']}-{meta['period']}-{submission_id[:8]}.{fmt}"


# One employee's sheet --------------------------------------------------------------------------


@dataclass
class EmployeeSheet:
    evaluation: dict
    policy: dict  # id, version, title, legal basis
    outputs: list[tuple[str, str, object]]  # (name, label, value)
    steps: list[str]
    better: list[str]  # sentences: what would have reached the next predikat
    current: str | None
    goal: str | None


def employee_sheet(store: Store, caller: Caller, evaluation_id: str) -> EmployeeSheet:
    """One evaluation as the employee's sheet: outputs, every step in words with its legal basis,
    and the smallest change of an input the employee influences that reaches a better predikat."""
    from engine.review.explain import explain
    from engine.review.whatif import change_text, what_if

    evaluation = service.get_evaluation(store, caller, evaluation_id)
    loaded = _policy_of(store, evaluation["policy"]["id"], evaluation["policy"]["hash"])
    policy = loaded.policy
    lang = i18n.language()
    result = api.evaluate(loaded, evaluation["inputs"], trace=True)
    steps = explain(result.get("trace", []), lang)
    outputs = [
        (name, spec.label or name, evaluation["outputs"].get(name))
        for name, spec in policy.outputs.items()
        if not isinstance(evaluation["outputs"].get(name), (dict, list))
    ]
    report = what_if(loaded, evaluation["inputs"])
    better, current, goal = [], None, None
    if report is not None:
        current, goal = report.current, report.goal
        influenced = [c for c in report.changes if _influenced(c.path)]
        better = [change_text(c, lang) for c in influenced]
    meta = {
        "id": policy.id,
        "version": policy.version,
        "title": policy.title,
        "legal_basis": policy.legal_basis,
        "hash": policy.hash,
    }
    return EmployeeSheet(evaluation, meta, outputs, steps, better, current, goal)


def _influenced(path: tuple) -> bool:
    names = [part for part in path if isinstance(part, str)]
    return bool(names) and names[-1] in INFLUENCED_FIELDS
