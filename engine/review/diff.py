"""Semantic diff of two policies, and the impact of the change on data.

Two policies are compared by meaning, not text: each merged policy is put in a canonical form
(formulas and table cells in their printed form, mappings unordered), so reordering keys or
reformatting a formula produces no difference, while a changed weight, threshold, row, cell,
rounding or output does. Test cases are not rules and are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from engine.i18n import _
from engine.language.parser import FormulaError, parse_cell, parse_formula
from engine.language.printer import cell_text, to_text
from engine.numbers import format_number

#: Parts of a policy that are formulas, as paths with '*' for any key or index.
_FORMULA_PATHS = [
    ("values", "*"),
    ("values", "*", "formula"),
    ("values", "*", "table", "on"),
    ("values", "*", "table", "on", "*"),
    ("values", "*", "table", "rows", "*", "formula"),
    ("values", "*", "matrix", "rows"),
    ("values", "*", "matrix", "columns"),
    ("values", "*", "weighted", "by"),
    ("values", "*", "weighted", "indicators", "*", "formula"),
    ("values", "*", "weighted", "indicators", "*", "applies_when"),
    ("outputs", "*", "value"),
    ("outputs", "*", "when"),
    ("requirements", "*", "rule"),
]
_CELL_PATHS = [("values", "*", "table", "rows", "*", "when"), ("values", "*", "table", "rows", "*", "when", "*")]
#: Not rules: they do not change what a policy computes.
_IGNORED = ("tests",)


@dataclass
class Change:
    path: tuple
    old: object = None
    new: object = None

    @property
    def kind(self) -> str:
        return "added" if self.old is None else "removed" if self.new is None else "changed"

    def render(self) -> str:
        where = _path_text(self.path)
        if self.kind == "added":
            return f"+ {where}: {_value_text(self.new)}"
        if self.kind == "removed":
            return f"- {where}: {_value_text(self.old)}"
        return f"~ {where}: {_value_text(self.old)} -> {_value_text(self.new)}"


def canonical(data: dict) -> dict:
    """The policy with every formula and cell in canonical printed form."""
    result = {}
    for key, value in data.items():
        if key not in _IGNORED:
            result[key] = _canonical(value, (key,))
    return result


def _matches(path: tuple, patterns) -> bool:
    for pattern in patterns:
        if len(pattern) == len(path) and all(p == "*" or p == k for p, k in zip(pattern, path)):
            return True
    # item values share the shape of values: ("item_values", list, name, ...) ~ ("values", name, ...)
    if len(path) > 2 and path[0] == "item_values":
        return _matches(("values",) + path[2:], patterns)
    return False


def _canonical(value, path: tuple):
    if isinstance(value, dict):
        return {k: _canonical(v, path + (k,)) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v, path + (i,)) for i, v in enumerate(value)]
    if isinstance(value, str) and _matches(path, _FORMULA_PATHS):
        try:
            return to_text(parse_formula(value))
        except FormulaError:
            return value
    if isinstance(value, str) and _matches(path, _CELL_PATHS):
        try:
            return cell_text(parse_cell(value))
        except FormulaError:
            return value
    return value


def compare(old: dict, new: dict) -> list[Change]:
    """Every difference of meaning between two merged policies, in a stable order."""
    changes: list[Change] = []
    _compare(canonical(old), canonical(new), (), changes)
    return changes


def _compare(old, new, path: tuple, changes: list[Change]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [k for k in new if k not in old]:
            if key not in new:
                changes.append(Change(path + (key,), old[key], None))
            elif key not in old:
                changes.append(Change(path + (key,), None, new[key]))
            else:
                _compare(old[key], new[key], path + (key,), changes)
        return
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new)):
            _compare(a, b, path + (index,), changes)
        return
    if old != new or type(old) is not type(new):
        changes.append(Change(path, old, new))


def _path_text(path: tuple) -> str:
    text = ""
    for part in path:
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _value_text(value) -> str:
    if isinstance(value, Fraction):
        return format_number(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_value_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_value_text(v) for v in value) + "]"
    return str(value)


@dataclass
class Impact:
    """What a change does to a set of records: who moves, and by how much."""

    label_output: str | None
    transitions: dict = field(default_factory=dict)  # (old label, new label) -> count
    moved: list = field(default_factory=list)  # (record id, old label, new label)
    totals: dict = field(default_factory=dict)  # numeric output -> (old total, new total)
    failed: list = field(default_factory=list)  # (record id or line, which side, errors)
    records: int = 0
    units: list = field(default_factory=list)  # UnitImpact per unit, when units were given


def impact(old_loaded, new_loaded, records, units: list | None = None) -> Impact:
    """Evaluate every record under both policies and compare the results; with `units`
    (engine.review.distribution.read_units), also each unit's predikat distribution and unit-rule verdicts."""
    from engine.api import evaluate

    common = [o for o in old_loaded.policy.outputs if o in new_loaded.policy.outputs]
    labelled = [o for o in common if old_loaded.policy.outputs[o].labels is not None]
    label = "predikat" if "predikat" in labelled else (labelled[0] if labelled else None)
    result = Impact(label)
    kept_old: dict = {}
    kept_new: dict = {}
    for position, record in enumerate(records, start=1):
        result.records += 1
        before, after = evaluate(old_loaded, record), evaluate(new_loaded, record)
        who = before.get("id") if before.get("id") is not None else f"#{position}"
        if units is not None and before.get("id") is not None:  # as kinerja distribution counts them
            kept_old[str(before["id"])], kept_new[str(before["id"])] = before.get("outputs"), after.get("outputs")
        if "errors" in before or "errors" in after:
            side = "both" if "errors" in before and "errors" in after else "old" if "errors" in before else "new"
            result.failed.append((who, side, (before.get("errors") or after.get("errors"))))
            continue
        if label is not None:
            pair = (before["outputs"].get(label), after["outputs"].get(label))
            result.transitions[pair] = result.transitions.get(pair, 0) + 1
            if pair[0] != pair[1]:
                result.moved.append((who, pair[0], pair[1]))
        for name in common:
            a, b = before["outputs"].get(name), after["outputs"].get(name)
            if isinstance(a, Fraction) and isinstance(b, Fraction):
                old_total, new_total = result.totals.get(name, (Fraction(0), Fraction(0)))
                result.totals[name] = (old_total + a, new_total + b)
    if units is not None and label is not None:
        result.units = unit_impacts(old_loaded.policy, new_loaded.policy, units, label, kept_old, kept_new)
    return result


def render_impact(result: Impact, labels: list) -> list[str]:
    lines = [_("{count} records evaluated under both policies", count=result.records)]
    if result.label_output is not None:
        seen = labels + [x for pair in result.transitions for x in pair if x not in labels]
        width = max([len(str(x)) for x in seen] + [8])
        lines.append(_("{output}: old (rows) x new (columns)", output=result.label_output))
        lines.append(" " * (width + 2) + " ".join(f"{str(x):>{width}}" for x in seen))
        for old in seen:
            counts = [result.transitions.get((old, new), 0) for new in seen]
            lines.append(f"  {str(old):<{width}}" + " ".join(f"{c:>{width}}" for c in counts))
        lines.append(_("{count} records change {output}:", count=len(result.moved), output=result.label_output))
        lines += [f"  {who}: {old} -> {new}" for who, old, new in result.moved]
    for name, (old_total, new_total) in sorted(result.totals.items()):
        if old_total != new_total:
            lines.append(
                _(
                    "total {name}: {old} -> {new} ({change})",
                    name=name,
                    old=format_number(old_total),
                    new=format_number(new_total),
                    change=f"{'+' if new_total >= old_total else ''}{format_number(new_total - old_total)}",
                )
            )
    for who, side, errors in result.failed:
        sides = {"both": _("both policies"), "old": _("the old policy"), "new": _("the new policy")}
        lines.append(
            _(
                "not compared: {id} has errors under {side}: {path}: {message}",
                id=who,
                side=sides[side],
                path=errors[0]["path"],
                message=errors[0]["message"],
            )
        )
    return lines


def impact_json(result: Impact, labels: list | None = None) -> dict:
    """The impact as JSON data (the service's answer): the matrix as a list of cells, labels in `labels`' order."""
    order = list(labels or []) + [x for pair in result.transitions for x in pair if x not in (labels or [])]
    cells = sorted(result.transitions.items(), key=lambda item: (order.index(item[0][0]), order.index(item[0][1])))
    return {
        "records": result.records,
        "label_output": result.label_output,
        "transitions": [{"old": old, "new": new, "count": count} for (old, new), count in cells],
        "moved": [{"id": who, "old": old, "new": new} for who, old, new in result.moved],
        "totals": {
            name: {"old": old_total, "new": new_total, "change": new_total - old_total}
            for name, (old_total, new_total) in sorted(result.totals.items())
        },
        "failed": [{"id": who, "side": side, "errors": errors} for who, side, errors in result.failed],
    }


@dataclass
class UnitImpact:
    """One unit's distribution of the label output under the old and the new policy, and the
    verdict of each unit rule (kurva distribusi) under each."""

    unit: object  # engine.review.distribution.Unit
    old: dict  # label -> employees
    new: dict
    old_total: int  # members with a result under the old policy
    new_total: int
    verdicts: list  # (rule name, old Verdict, new Verdict)

    @property
    def verdict_changed(self) -> bool:
        return any(old.changed(new) for _, old, new in self.verdicts)


@dataclass(frozen=True)
class Verdict:
    """What a unit rule says of one unit: meets, violates (which conditions, with their counts),
    not_checked (a small unit), no_case (the unit's attribute names no case) or no_rule."""

    status: str
    violated: tuple = ()  # conditions in words
    counts: tuple = ()  # (count, total) per violated condition
    note: str = ""

    def changed(self, other: Verdict) -> bool:
        """A different status or other conditions violated; the same violation with other counts is not a change."""
        return (self.status, self.violated) != (other.status, other.violated)

    def text(self) -> str:
        if self.status == "violates":
            return _(
                "violates {conditions}",
                conditions="; ".join(
                    _("{condition} ({count} of {total})", condition=c, count=count, total=total)
                    for c, (count, total) in zip(self.violated, self.counts)
                ),
            )
        return self.note or (_("meets") if self.status == "meets" else self.status)


def unit_impacts(old_policy, new_policy, units: list, label: str, old_outputs: dict, new_outputs: dict) -> list:
    """Per unit: counts of `label` under both policies, and each policy's own unit rules judged
    on its own results (a change may alter the rules as well as the predikat)."""
    from engine.review.distribution import assess

    rules = list(old_policy.unit_rules) + [r for r in new_policy.unit_rules if r not in old_policy.unit_rules]
    found = []
    for unit in units:
        counts = []
        for outputs in (old_outputs, new_outputs):
            tally: dict = {}
            for member in unit.members:
                value = (outputs.get(member) or {}).get(label)
                if value is not None:
                    tally[value] = tally.get(value, 0) + 1
            counts.append(tally)
        verdicts = []
        for name in rules:
            pair = []
            for policy, outputs in ((old_policy, old_outputs), (new_policy, new_outputs)):
                rule = policy.unit_rules.get(name)
                pair.append(
                    _verdict(assess(rule, [unit], outputs)[0])
                    if rule is not None
                    else Verdict("no_rule", note=_("no such rule"))
                )
            verdicts.append((name, *pair))
        found.append(UnitImpact(unit, counts[0], counts[1], sum(counts[0].values()), sum(counts[1].values()), verdicts))
    return found


def _verdict(report) -> Verdict:
    from engine.review.distribution import condition_text

    if report.problem:
        return Verdict("no_case", note=_("no case for {by} {case}", by=report.rule.by, case=report.case))
    if report.small:
        return Verdict(
            "not_checked", note=_("not checked (fewer than {count} employees)", count=report.rule.small_units_below)
        )
    if report.violations:
        return Verdict(
            "violates",
            tuple(condition_text(v.condition) for v in report.violations),
            tuple((v.count, v.total) for v in report.violations),
        )
    return Verdict("meets")


def render_units(result: Impact, labels: list) -> list[str]:
    """Lines for the per-unit part of the impact report."""
    if not result.units:
        return []
    lines = [_("per unit: {output} under the old -> new policy", output=result.label_output)]
    for change in result.units:
        unit = change.unit
        seen = labels + [x for x in list(change.old) + list(change.new) if x not in labels]
        lines.append(
            "  "
            + _(
                "{id} ({name}): {old} -> {new} employees with a result",
                id=unit.id,
                name=unit.name,
                old=change.old_total,
                new=change.new_total,
            )
        )
        parts = []
        for label in seen:
            a, b = change.old.get(label, 0), change.new.get(label, 0)
            parts.append(f"{label} {a} -> {b}" + (f" ({'+' if b > a else ''}{b - a})" if a != b else ""))
        lines.append("    " + " · ".join(parts))
        for name, old, new in change.verdicts:
            lines.append(f"    {name}: {old.text()}" + (" " + _("(unchanged)") if new == old else f" -> {new.text()}"))
    moved = sum(1 for change in result.units if change.verdict_changed)
    lines.append(
        _("1 unit changes a unit-rule verdict")
        if moved == 1
        else _("{count} units change a unit-rule verdict", count=moved)
    )
    return lines


def unit_impacts_json(result: Impact) -> list[dict]:
    """The per-unit part of the impact as JSON data."""
    return [
        {
            "unit": c.unit.id,
            "name": c.unit.name,
            "attributes": c.unit.attributes,
            "old": {"employees": c.old_total, "counts": c.old},
            "new": {"employees": c.new_total, "counts": c.new},
            "change": {label: c.new.get(label, 0) - c.old.get(label, 0) for label in {**c.old, **c.new}},
            "verdicts": [
                {"rule": name, "old": _verdict_json(old), "new": _verdict_json(new), "changed": old.changed(new)}
                for name, old, new in c.verdicts
            ],
        }
        for c in result.units
    ]


def _verdict_json(verdict: Verdict) -> dict:
    return {
        "status": verdict.status,
        "text": verdict.text(),
        "violations": [
            {"condition": c, "count": count, "total": total}
            for c, (count, total) in zip(verdict.violated, verdict.counts)
        ],
    }
