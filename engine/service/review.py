"""What reviewers read: policies and their versions, rulebooks, two versions compared with their
impact on stored evaluations, replays, and the audit log.

The web's reviewer pages (/kebijakan, /tinjauan, /audit) are thin views over these functions;
every rule about who may read what lives here or in engine.service, whose helpers these reuse.
Nothing here writes, except a replay's audit entry (an auditor's act is itself recorded).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any, cast

from sqlalchemy import func, select

from engine import api, service
from engine.evaluate.io import decode_json
from engine.i18n import N_, _
from engine.numbers import format_number
from engine.review import rulebook as render
from engine.review.diff import Change
from engine.review.diff import compare as semantic_diff
from engine.service.common import Caller, ServiceError
from engine.service.store import STORED_ORDER, AuditEntry, Evaluation, Store

#: Audit entries on one page.
AUDIT_PAGE = 50
#: Longest filter text the audit page matches (the columns are shorter).
AUDIT_FILTER_LENGTH = 120
#: Movers listed on the compare page (the CSV download holds them all).
MOVERS_SHOWN = 200


def require_reader(caller: Caller) -> None:
    """Reviewers and admins read everything here; anyone else is told the page does not exist."""
    if caller.role not in ("reviewer", "admin"):
        raise ServiceError(404, "not_found", _("no such page"))


# Policies and rulebooks --------------------------------------------------------------------------


@dataclass
class PolicyEntry:
    id: str
    title: str
    extends: str | None
    versions: list[dict]  # as service.list_versions gives them, with `in_force` added


def policy_catalogue(store: Store) -> list[PolicyEntry]:
    """Every policy id, built in or published, with its versions; the version in force today marked."""
    ids = {p["id"]: p for p in service.list_policies()}
    published = service.published_policy_ids(store)
    entries = []
    for policy_id in sorted(set(ids) | published):
        try:
            listed = service.list_versions(store, policy_id)["versions"]
            current = service.load_policy(policy_id, path="", store=store)
        except ServiceError:
            continue  # a broken file is reported by `kinerja check`, not listed
        for version in listed:
            version["in_force"] = version["hash"] == current.policy.hash
        p = current.policy
        entries.append(PolicyEntry(p.id, p.title, p.chain[1] if len(p.chain) > 1 else None, listed))
    return entries


@dataclass
class Rulebook:
    loaded: api.LoadedPolicy
    versions: list[dict]
    html: str  # the rulebook's sections (engine.review.rulebook), escaped there
    anchors: dict  # (scope, name) -> anchor of that value's section


def rulebook(store: Store, ref: str) -> Rulebook:
    """A policy's rulebook: `ID` (the version in force), `ID@VERSION` or `ID@sha256:HASH`."""
    loaded = service.load_policy(ref, path="", store=store)
    listed = service.list_versions(store, loaded.policy.id)["versions"]
    current = service.load_policy(loaded.policy.id, path="", store=store)
    for version in listed:
        version["in_force"] = version["hash"] == current.policy.hash
    from engine.review.cases import run_tests

    html = render.render_fragment(loaded.policy, run_tests(loaded))
    return Rulebook(loaded, listed, html, render.value_anchors(loaded.policy))


def anchor_of(policy, name: str, scope: str | None = None) -> str | None:
    """The rulebook anchor of a value (for /kebijakan/<id>#<anchor> links), or None."""
    return render.value_anchors(policy).get((scope, name))


# Comparing two versions -------------------------------------------------------------------------


@dataclass
class ChangeRow:
    """One difference of meaning between two versions, in words."""

    kind: str  # added | removed | changed
    where: str  # the place, in words
    path: str  # the place as `kinerja diff` prints it
    old: str
    new: str


@dataclass
class AgencyChange:
    agency: str
    records: int = 0
    moved: int = 0
    up: int = 0  # moved to a better label (earlier in the output's `labels`)
    down: int = 0
    old: dict = field(default_factory=dict)  # label -> count
    new: dict = field(default_factory=dict)
    totals: dict = field(default_factory=dict)  # numeric output -> [old total, new total]


@dataclass
class Mover:
    evaluation_id: str
    agency: str
    record_id: str | None
    period: str
    old: object
    new: object
    numbers: dict  # numeric output -> (old, new), where they differ


@dataclass
class Comparison:
    old: api.LoadedPolicy
    new: api.LoadedPolicy
    changes: list[ChangeRow]
    policy: str | None  # the stored evaluations compared: made under this policy id
    period: str | None
    records: int = 0
    label_output: str | None = None
    labels: list = field(default_factory=list)
    transitions: dict = field(default_factory=dict)  # (old, new) -> count
    movers: list[Mover] = field(default_factory=list)
    agencies: list[AgencyChange] = field(default_factory=list)
    totals: dict = field(default_factory=dict)  # numeric output -> (old total, new total)
    failed: list = field(default_factory=list)  # (evaluation id, record id, side, first error)

    @property
    def matrix(self) -> list[tuple[object, list[int]]]:
        """Rows of the transition matrix: (old label, counts per new label), in `labels` order."""
        return [(old, [self.transitions.get((old, new), 0) for new in self.labels]) for old in self.labels]

    @property
    def peak(self) -> int:
        return max(self.transitions.values(), default=0)

    @property
    def tpp_totals(self) -> dict:
        return {name: pair for name, pair in self.totals.items() if "tpp" in name}


def compare(
    store: Store, caller: Caller, old_ref: str, new_ref: str, policy: str | None = None, period: str | None = None
) -> Comparison:
    """The semantic diff of two versions and their impact on the stored evaluations made under
    `policy` (by default the old version's id), in `period` if given. Reviewers and admins."""
    require_reader(caller)
    old = service.comparable_policy(store, old_ref, "/old")
    new = service.comparable_policy(store, new_ref, "/new")
    return compare_loaded(store, old, new, policy or old.policy.id, period or None)


def compare_loaded(
    store: Store, old: api.LoadedPolicy, new: api.LoadedPolicy, policy: str | None, period: str | None
) -> Comparison:
    """`compare` for policies already loaded (the workbench compares a draft with the version in force)."""
    result = Comparison(
        old, new, [_change_row(c) for c in semantic_diff(old.policy.data, new.policy.data)], policy, period
    )
    common = [o for o in old.policy.outputs if o in new.policy.outputs]
    labelled = [o for o in common if old.policy.outputs[o].labels is not None]
    result.label_output = "predikat" if "predikat" in labelled else (labelled[0] if labelled else None)
    if result.label_output:
        result.labels = list(old.policy.outputs[result.label_output].labels)  # type: ignore[arg-type]  # labelled
    rows = _stored_rows(store, policy, period)
    texts = [row.inputs for row in rows]
    quick = (
        api.record_pairs(b'{"records":[' + b",".join(t.encode("utf-8") for t in texts) + b"]}", len(texts))
        if texts
        else None
    )
    before, after = _evaluate_all(old, texts, quick), _evaluate_all(new, texts, quick)
    agencies: dict[str, AgencyChange] = {}
    label = result.label_output
    rank = {name: index for index, name in enumerate(result.labels)}
    tracked = [name for name in common if "tpp" in name]  # the totals the page shows
    for row, a, b in zip(rows, before, after):
        result.records += 1
        agency = agencies.get(row.agency) or agencies.setdefault(row.agency, AgencyChange(row.agency))
        agency.records += 1
        if "errors" in a or "errors" in b:
            side = "both" if "errors" in a and "errors" in b else "old" if "errors" in a else "new"
            first = (a.get("errors") or b.get("errors"))[0]  # type: ignore[index]  # one side has errors
            result.failed.append((row.id, row.record_id, side, first))
            continue
        x_out, y_out = a["outputs"], b["outputs"]
        for name in tracked:
            x, y = _exact(x_out.get(name)), _exact(y_out.get(name))
            if x is not None and y is not None:
                for totals in (result.totals, agency.totals):
                    total = totals.get(name) or totals.setdefault(name, [Fraction(0), Fraction(0)])
                    total[0] += x
                    total[1] += y
        pair = (x_out.get(label), y_out.get(label)) if label is not None else (None, None)
        if label is not None:
            result.transitions[pair] = result.transitions.get(pair, 0) + 1
            agency.old[pair[0]] = agency.old.get(pair[0], 0) + 1
            agency.new[pair[1]] = agency.new.get(pair[1], 0) + 1
        moved = pair[0] != pair[1] or (label is None and x_out != y_out)
        if moved:
            agency.moved += 1
            if pair[0] in rank and pair[1] in rank:
                agency.up += rank[pair[1]] < rank[pair[0]]
                agency.down += rank[pair[1]] > rank[pair[0]]
            numbers = {
                name: (_exact(x_out.get(name)), _exact(y_out.get(name)))
                for name in common
                if _exact(x_out.get(name)) is not None
                and _exact(y_out.get(name)) is not None
                and x_out.get(name) != y_out.get(name)
            }
            result.movers.append(Mover(row.id, row.agency, row.record_id, row.period, pair[0], pair[1], numbers))
    result.labels += [x for pair in result.transitions for x in pair if x not in result.labels]
    result.agencies = sorted(agencies.values(), key=lambda a: a.agency)
    return result


def _evaluate_all(loaded: api.LoadedPolicy, texts: list[str], quick: list | None) -> list[dict]:
    """Each stored record's result by the facade's rule: the fast kernel on the records as it reads
    them, the exact evaluator (reading the stored text only then) for anything it hands back."""
    return [
        loaded.result(lambda text=text: _record(text), quick[index] if quick is not None else None)
        for index, text in enumerate(texts)
    ]


def _exact(value) -> Fraction | None:
    """A numeric output as a Fraction (the fast kernel gives int and Decimal, exactly); else None."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, Fraction)):
        return None
    return Fraction(value)


def _stored_rows(store: Store, policy: str | None, period: str | None) -> Sequence[Any]:
    conditions = [
        column == value
        for column, value in ((Evaluation.policy_id, policy), (Evaluation.period, period))
        if value is not None
    ]
    with store.session() as session:
        count = cast(int, session.scalar(select(func.count()).select_from(Evaluation).where(*conditions)))
        if count > service.MAX_IMPACT_EVALUATIONS:
            raise ServiceError(
                422,
                "too_many_evaluations",
                _(
                    "{count} stored evaluations match; at most {limit} are compared at once: choose a period",
                    count=count,
                    limit=service.MAX_IMPACT_EVALUATIONS,
                ),
            )
        query = (
            select(Evaluation.id, Evaluation.agency, Evaluation.record_id, Evaluation.period, Evaluation.inputs)
            .where(*conditions)
            .order_by(*STORED_ORDER)
        )
        return session.execute(query).all()


def _record(text: str):
    try:
        return decode_json(text.encode("utf-8"))
    except ValueError:
        return None  # unreadable: reported as a record with errors, not a crash


#: The kinds of change, as message ids (translated where they are shown).
CHANGE_KINDS = (N_("added"), N_("removed"), N_("changed"))


def _change_row(change: Change) -> ChangeRow:
    from engine.review.diff import _path_text, _value_text

    old = "" if change.old is None else _value_text(change.old)
    new = "" if change.new is None else _value_text(change.new)
    return ChangeRow(change.kind, describe_path(change.path), _path_text(change.path), old, new)


def describe_path(path: tuple) -> str:
    """A place in a policy in words: 'weight of capaian_x for bidan in capaian_hasil_kerja'."""
    parts = list(path)
    head = parts[0] if parts else ""
    if head in ("values", "item_values") and len(parts) >= 2:
        scope = None
        if head == "item_values" and len(parts) >= 3:
            scope, parts = parts[1], ["values"] + parts[2:]
        name, rest = parts[1], parts[2:]
        where = (
            _("value {name}", name=name) if scope is None else _("value {name} of each {scope}", name=name, scope=scope)
        )
        if rest[:2] == ["weighted", "weights"] and len(rest) >= 4:
            return _(
                "weight of {indicator} for {group} in {where}",
                indicator=rest[3],
                group=_("others") if rest[2] == "default" else rest[2],
                where=where,
            )
        if rest[:2] == ["weighted", "weights"] and len(rest) == 3:
            return _("weights for {group} in {where}", group=rest[2], where=where)
        if rest[:2] == ["table", "rows"] and len(rest) >= 3:
            what = {
                "when": _("condition"),
                "then": _("result"),
                "formula": _("result formula"),
                "basis": _("legal basis"),
            }.get(rest[3] if len(rest) > 3 else "", _("row"))
            return _("{what} of row {row} of the table of {where}", what=what, row=rest[2] + 1, where=where)
        if rest[:2] == ["table", "rows"]:
            return _("rows of the table of {where}", where=where)
        if rest[:2] == ["matrix", "cells"] and len(rest) >= 4:
            return _("cell {row} × {column} of the matrix of {where}", row=rest[2], column=rest[3], where=where)
        if rest == ["formula"]:
            return _("formula of {where}", where=where)
        if rest == ["basis"]:
            return _("legal basis of {where}", where=where)
        if rest == ["label"]:
            return _("label of {where}", where=where)
        if not rest:
            return where
        return f"{where}: {'.'.join(str(p) for p in rest)}"
    names = {
        "version": _("version"),
        "title": _("title"),
        "berlaku_mulai": _("in force from"),
        "berlaku_sampai": _("in force until"),
        "legal_basis": _("legal basis"),
        "description": _("description"),
        "id": _("policy id"),
        "extends": _("extends"),
    }
    if len(parts) == 1 and head in names:
        return names[head]
    if head == "inputs" and len(parts) >= 2:
        return _("input {name}", name=".".join(str(p) for p in parts[1:]))
    if head == "outputs" and len(parts) >= 2:
        return _("output {name}", name=".".join(str(p) for p in parts[1:]))
    if head == "unit_rules" and len(parts) >= 2:
        return _("unit rule {name}", name=".".join(str(p) for p in parts[1:]))
    return ".".join(str(p) for p in parts)


def number_text(value) -> str:
    """A number as an Indonesian reader writes it (decimal comma, thousands dots)."""
    if isinstance(value, Fraction) and not isinstance(value, bool):
        return render.number(value)
    return "" if value is None else str(value)


def movers_csv(result: Comparison) -> str:
    """The employees a change moves, one row each, for a spreadsheet (formula-like cells neutralised)."""
    numeric = sorted({name for mover in result.movers for name in mover.numbers})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "evaluation_id",
            "agency",
            "record_id",
            "period",
            f"{result.label_output or 'label'}_old",
            f"{result.label_output or 'label'}_new",
            *[f"{name}_{side}" for name in numeric for side in ("old", "new")],
        ]
    )
    for m in result.movers:
        values = [m.evaluation_id, m.agency, m.record_id or "", m.period, m.old or "", m.new or ""]
        for name in numeric:
            pair = m.numbers.get(name)
            values += [format_number(pair[0]), format_number(pair[1])] if pair else ["", ""]
        writer.writerow([_safe_cell(str(v)) for v in values])
    return out.getvalue()


def _safe_cell(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# Evaluations and replay -------------------------------------------------------------------------


def replay_submission(store: Store, caller: Caller, submission_id: str) -> list:
    """Replay every evaluation of a submission the caller may see (404 otherwise); audited once."""
    service.get_submission(store, caller, submission_id)  # 404 unless visible
    return service.replay_evaluations(store, submission=submission_id, actor=caller)


# The audit log ----------------------------------------------------------------------------------


@dataclass
class AuditPage:
    entries: Sequence[AuditEntry]
    next: int | None  # the `sebelum` of the next page (older entries), or None at the end


def audit_log(
    store: Store,
    caller: Caller,
    actor: str = "",
    action: str = "",
    target: str = "",
    since: str = "",
    until: str = "",
    before: int | None = None,
    limit: int = AUDIT_PAGE,
) -> AuditPage:
    """Newest first, a page at a time. Pages follow the entries' ids (keyset), so entries added
    while a reader pages never shift a page nor make the reader skip an older entry.

    `actor` matches the user or key exactly, `action` and `target` by their start; `since` and
    `until` are days (YYYY-MM-DD), both included, in UTC."""
    require_reader(caller)
    if not 1 <= limit <= 500:
        raise ServiceError(422, "limit", _("limit must be 1 to {most}", most=500))
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    for text in (actor, action, target):
        if len(text or "") > AUDIT_FILTER_LENGTH:
            return AuditPage([], None)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    if target:
        query = query.where(AuditEntry.object.startswith(target, autoescape=True))
    if since:
        query = query.where(AuditEntry.at >= datetime.combine(_day(since, "since"), time.min, UTC))
    if until:
        query = query.where(AuditEntry.at < datetime.combine(_day(until, "until") + timedelta(days=1), time.min, UTC))
    if before is not None:
        query = query.where(AuditEntry.id < before)
    with store.session() as session:
        rows = session.scalars(query.limit(limit + 1)).all()
        session.expunge_all()
    return AuditPage(rows[:limit], rows[limit - 1].id if len(rows) > limit else None)


def audit_actors(store: Store, caller: Caller) -> list[str]:
    """Everyone who wrote to the audit log, for the filter's choices."""
    require_reader(caller)
    with store.session() as session:
        return sorted(session.scalars(select(AuditEntry.actor).distinct()))


def audit_actions(store: Store, caller: Caller) -> list[str]:
    require_reader(caller)
    with store.session() as session:
        return sorted(session.scalars(select(AuditEntry.action).distinct()))


def _day(text: str, field_name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ServiceError(
            422, "invalid_date", _("{field}: write a day as YYYY-MM-DD, got {got}", field=field_name, got=text[:40])
        ) from None


def in_force(store: Store, policy_id: str, period: str | None = None) -> api.LoadedPolicy:
    """The version of `policy_id` in force for `period` (today when None)."""
    chooser = service._chooser(policy_id, "", store, period) if period else None
    return chooser.default if chooser is not None else service.load_policy(policy_id, path="", store=store)
