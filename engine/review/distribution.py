"""Unit-level rules (the kurva distribusi): counts and shares of a unit's results, checked exactly.

A policy's `unit_rules` bound the share of some labels of an output (predikat) among a unit's
employees, with cases chosen by an attribute of the unit itself (its own predikat). Shares
compare as fractions: 7 of 10 is exactly 70%, which "at most 70%" allows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from engine.diagnostics import Diagnostics, Position
from engine.i18n import N_, _, decimal_mark, language, using
from engine.numbers import RoundingMode, format_number, round_to
from engine.policy import source
from engine.policy.model import ShareCondition, UnitRule

_HUNDRED = Fraction(100)


@dataclass
class Unit:
    id: str
    name: str
    attributes: dict
    members: list[str]
    position: Position


@dataclass
class Violation:
    condition: ShareCondition
    count: int
    total: int


@dataclass
class UnitReport:
    unit: Unit
    rule: UnitRule
    counts: dict  # label -> employees with that label
    total: int  # employees with a result
    case: str | None
    checked: bool
    small: bool = False  # fewer employees than the rule checks
    violations: list[Violation] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # members with no result, or an error

    @property
    def problem(self) -> bool:
        """The unit's own attribute names no case of the rule (a typo, or no predikat at all)."""
        return self.case not in self.rule.cases

    @property
    def failed(self) -> bool:
        return bool(self.violations or self.problem or self.missing)


def read_units(path: Path, diagnostics: Diagnostics) -> list[Unit]:
    """Units from a YAML (or JSON) file: `units: [{id, name, predikat, members: [...]}, ...]`."""
    file = str(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        diagnostics.add(Position(file), "units.read", _("cannot read the file: {reason}", reason=error.strerror))
        return []
    data, sources = source.load(raw, file, diagnostics)
    if data is None:
        return []
    entries = data.get("units") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        diagnostics.add(
            sources.position((), file),
            "units.format",
            _("the file needs a list `units:`"),
            _("each unit has id, name, predikat and members (the ids of its employees)"),
        )
        return []
    units: list[Unit] = []
    owner: dict[str, str] = {}
    for index, entry in enumerate(entries):
        where = sources.position(("units", index), file)
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("id"), str)
            or not isinstance(entry.get("members"), list)
        ):
            diagnostics.add(where, "units.format", _("a unit needs an id (text) and members (a list of employee ids)"))
            continue
        members = [_text(m) for m in entry["members"]]
        for member in members:
            if member in owner:
                diagnostics.add(
                    where,
                    "units.member_twice",
                    _(
                        "employee {member} is in unit {unit} and in unit {other}",
                        member=member,
                        unit=entry["id"],
                        other=owner[member],
                    ),
                )
            owner[member] = entry["id"]
        attributes = {k: _text(v) for k, v in entry.items() if k not in ("id", "name", "members")}
        units.append(Unit(entry["id"], str(entry.get("name", entry["id"])), attributes, members, where))
    return units


def _text(value) -> str:
    if isinstance(value, Fraction):
        return format_number(value)
    return str(value)


def assess(rule: UnitRule, units: list[Unit], outputs: dict[str, dict | None]) -> list[UnitReport]:
    """One report per unit. `outputs` maps an employee id to its outputs (None: it had errors)."""
    reports = []
    for unit in units:
        counts: dict = {}
        missing, total = [], 0
        for member in unit.members:
            result = outputs.get(member)
            if result is None or rule.counts not in result:
                missing.append(member)
                continue
            total += 1
            label = result[rule.counts]
            counts[label] = counts.get(label, 0) + 1
        case = unit.attributes.get(rule.by)
        report = UnitReport(unit, rule, counts, total, case, checked=False, missing=missing)
        if report.problem:
            pass
        elif rule.small_units_below is not None and total < rule.small_units_below:
            report.small = True
        else:
            report.checked = True
            for condition in rule.cases[case]:  # type: ignore[index]  # not a problem: the case is one of the rule's
                count = sum(counts.get(label, 0) for label in condition.labels)
                if not holds(condition, count, total):
                    report.violations.append(Violation(condition, count, total))
        reports.append(report)
    return reports


def holds(condition: ShareCondition, count: int, total: int) -> bool:
    """Exact: a share of count/total against a percentage is compared as count x 100 vs p x total."""
    if condition.bound == "at_most":
        return count * _HUNDRED <= condition.limit * total
    if condition.bound == "at_least":
        return count * _HUNDRED >= condition.limit * total
    if condition.bound == "at_most_count":
        return count <= condition.limit
    return count >= condition.limit


_WORDS = {  # English message ids; the Indonesian texts are in the catalogue
    "unit": N_("Unit {id} ({name}): unit {by} {case}, {n} employees"),
    "of": N_("{count} of {total} employees"),
    "at_most": N_("at most {limit}%"),
    "at_least": N_("at least {limit}%"),
    "at_most_count": N_("at most {limit} employees"),
    "at_least_count": N_("at least {limit} employees"),
    "or": N_(" or "),
    "violates": N_("violates"),
    "meets": N_("meets {rule}"),
    "missing": N_("without a result"),
    "summary": N_("{units} units checked, {failed} with problems"),
    "problem": N_("cannot be checked: no rule for unit {by} {case} (known: {known})"),
    "small": N_("fewer than {n} employees: not checked"),
}


def _words() -> dict:
    """The words in the language in force."""
    return {key: tuple(_(t) for t in text) if isinstance(text, tuple) else _(text) for key, text in _WORDS.items()}


def _percent(count: int, total: int, mark: str) -> str:
    if total == 0:
        return "-"
    share = round_to(Fraction(count * 100, total), 2, RoundingMode.HALF_UP)
    return format_number(share, None, mark) + "%"


def condition_text(condition: ShareCondition, lang: str | None = None) -> str:
    with using(lang or language()):
        words, mark = _words(), decimal_mark()
    labels = words["or"].join(map(str, condition.labels))
    return f"{labels} {words[condition.bound].format(limit=format_number(condition.limit, None, mark))}"


def render(reports: list[UnitReport], labels: list, lang: str | None = None) -> str:
    with using(lang or language()):
        return _render(reports, labels)


def _render(reports: list[UnitReport], labels: list) -> str:
    words, mark, lang = _words(), decimal_mark(), language()
    lines = []
    for report in reports:
        unit = report.unit
        lines.append(
            words["unit"].format(id=unit.id, name=unit.name, by=report.rule.by, case=report.case, n=report.total)
        )
        lines.append(
            "  "
            + " · ".join(
                f"{label} {report.counts.get(label, 0)} ({_percent(report.counts.get(label, 0), report.total, mark)})"
                for label in labels
            )
        )
        if report.missing:
            lines.append(
                f"  {len(report.missing)} {words['missing']}: {', '.join(report.missing[:10])}"
                + (" …" if len(report.missing) > 10 else "")
            )
        if report.problem:
            lines.append(
                "  " + words["problem"].format(by=report.rule.by, case=report.case, known=", ".join(report.rule.cases))
            )
        elif report.small:
            lines.append("  " + words["small"].format(n=report.rule.small_units_below))
        for violation in report.violations:
            shown = words["of"].format(count=violation.count, total=violation.total)
            percent = _percent(violation.count, violation.total, mark)
            lines.append(f"  {words['violates']}: {condition_text(violation.condition, lang)}: {shown} ({percent})")
        if report.checked and not report.violations:
            lines.append(f"  {words['meets'].format(rule=report.rule.label or report.rule.name)}")
    failed = sum(1 for r in reports if r.failed)
    lines.append(words["summary"].format(units=len(reports), failed=failed))
    return "\n".join(lines)


def report_json(report: UnitReport) -> dict:
    return {
        "unit": report.unit.id,
        "name": report.unit.name,
        "rule": report.rule.name,
        report.rule.by: report.case,
        "employees": report.total,
        "counts": report.counts,
        "checked": report.checked,
        "violations": [
            {"condition": condition_text(v.condition, "en"), "count": v.count, "total": v.total}
            for v in report.violations
        ],
        "missing": report.missing,
        "no_rule": report.problem,
        "small": report.small,
    }
