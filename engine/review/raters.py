"""The rater-bias report per unit (`kinerja distribution --raters`).

Leniency of superiors is a known complaint about e-Kinerja (DOMAIN.md, regional practice): a
superior who rates every subordinate well above what peers and the public see inflates the
whole unit. A policy states, under `bias_penilai`, which input names each employee's superior,
which value is the superior's score, which list holds the other raters' scores, and how many
points above the unit's mean count as far above. The report compares, per unit, each
superior's mean score with the mean of every rating given in the unit (the superiors' and the
others'), exactly, and says in words who stands far above. The rule itself (`bias_penilai`) is
read and checked by engine.policy.raters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from engine.i18n import _, decimal_mark
from engine.numbers import RoundingMode, format_number, round_to
from engine.policy.raters import DEFAULT_FAR_ABOVE, RaterRule, read_rule
from engine.review.distribution import Unit

# The rule is read and checked in the policy stage (engine.policy.raters); the CLI reads it here.
__all__ = [
    "DEFAULT_FAR_ABOVE",
    "RaterRule",
    "Rating",
    "SuperiorReport",
    "UnitRaters",
    "assess",
    "rating_of",
    "read_rule",
    "render",
    "report_json",
]


@dataclass
class Rating:
    """What one employee's record says about its raters."""

    employee: str
    atasan: str | None
    superior_score: Fraction | None
    others: list[Fraction] = field(default_factory=list)


@dataclass
class SuperiorReport:
    atasan: str
    employees: int
    mean: Fraction
    difference: Fraction  # mean minus the unit's mean
    far_above: bool


@dataclass
class UnitRaters:
    unit: Unit
    ratings: int  # every score given in the unit
    mean: Fraction | None
    superiors: list[SuperiorReport]


def rating_of(rule: RaterRule, record: dict, values: dict) -> Rating:
    """The raters of one evaluated record (its inputs and the values of its evaluation)."""
    score = values.get(rule.nilai_atasan, record.get(rule.nilai_atasan))
    others: list[Fraction] = []
    for item in record.get(rule.penilaian) or [] if rule.penilaian else []:
        if not isinstance(item, dict) or (rule.jenis_atasan is not None and item.get(rule.jenis) == rule.jenis_atasan):
            continue
        value: Any = item.get(rule.nilai)  # a number as the record was read, of any exact type
        if isinstance(value, (int, Fraction)) or hasattr(value, "as_integer_ratio"):
            others.append(Fraction(value) if not isinstance(value, Fraction) else value)
    atasan = record.get(rule.atasan)
    return Rating(
        str(record.get("id")),
        str(atasan) if atasan is not None else None,
        Fraction(score) if score is not None else None,
        others,
    )


def assess(rule: RaterRule, units: list[Unit], ratings: dict[str, Rating]) -> list[UnitRaters]:
    reports = []
    for unit in units:
        members = [ratings[m] for m in unit.members if m in ratings]
        scores = [r.superior_score for r in members if r.superior_score is not None]
        every = scores + [v for r in members for v in r.others]
        mean = sum(every, Fraction(0)) / len(every) if every else None
        by_superior: dict[str, list[Fraction]] = {}
        for r in members:
            if r.atasan is not None and r.superior_score is not None:
                by_superior.setdefault(r.atasan, []).append(r.superior_score)
        superiors = []
        for atasan, given in by_superior.items():
            own = sum(given, Fraction(0)) / len(given)
            difference = own - mean if mean is not None else Fraction(0)
            superiors.append(SuperiorReport(atasan, len(given), own, difference, difference >= rule.far_above))
        superiors.sort(key=lambda s: (-s.difference, s.atasan))
        reports.append(UnitRaters(unit, len(every), mean, superiors))
    return reports


def _number(value: Fraction) -> str:
    return format_number(round_to(value, 2, RoundingMode.HALF_UP), decimal_mark=decimal_mark())


def render(reports: list[UnitRaters], rule: RaterRule) -> str:
    lines = []
    flagged = 0
    for report in reports:
        unit = report.unit
        if report.mean is None:
            lines.append(_("Unit {id} ({name}): no ratings", id=unit.id, name=unit.name))
            continue
        lines.append(
            _(
                "Unit {id} ({name}): {ratings} ratings, unit mean {mean}",
                id=unit.id,
                name=unit.name,
                ratings=report.ratings,
                mean=_number(report.mean),
            )
        )
        for s in report.superiors:
            employees = _("employees: {count}", count=s.employees)
            if s.difference >= 0:
                where = _("{points} points above the unit mean", points=_number(s.difference))
            else:
                where = _("{points} points below the unit mean", points=_number(-s.difference))
            line = _(
                "  superior {atasan}: {employees}, mean {mean}, {where}",
                atasan=s.atasan,
                employees=employees,
                mean=_number(s.mean),
                where=where,
            )
            if s.far_above:
                flagged += 1
                line += _(
                    ": far above the unit (from {limit} points); check for leniency", limit=_number(rule.far_above)
                )
            lines.append(line)
    lines.append(
        _("{units} units, {flagged} superiors far above their unit's mean", units=len(reports), flagged=flagged)
    )
    return "\n".join(lines)


def report_json(report: UnitRaters) -> dict:
    from engine.numbers import exact_text

    return {
        "unit": report.unit.id,
        "ratings": report.ratings,
        "mean": exact_text(report.mean) if report.mean is not None else None,
        "superiors": [
            {
                "atasan": s.atasan,
                "employees": s.employees,
                "mean": exact_text(s.mean),
                "difference": exact_text(s.difference),
                "far_above": s.far_above,
            }
            for s in report.superiors
        ],
    }
