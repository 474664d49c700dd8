"""Semantic diff of two policies, and the impact of the change on data.

Two policies are compared by meaning, not text: each merged policy is put in a canonical form
(formulas and table cells in their printed form, mappings unordered), so reordering keys or
reformatting a formula produces no difference, while a changed weight, threshold, row, cell,
rounding or output does. Test cases are not rules and are left out.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from .numbers import format_number
from .parser import FormulaError, parse_cell, parse_formula
from .printer import cell_text, to_text

#: Parts of a policy that are formulas, as paths with '*' for any key or index.
_FORMULA_PATHS = [
    ("values", "*"), ("values", "*", "formula"), ("values", "*", "table", "on"), ("values", "*", "table", "on", "*"),
    ("values", "*", "table", "rows", "*", "formula"), ("values", "*", "matrix", "rows"),
    ("values", "*", "matrix", "columns"), ("values", "*", "weighted", "by"),
    ("values", "*", "weighted", "indicators", "*", "formula"),
    ("values", "*", "weighted", "indicators", "*", "applies_when"),
    ("outputs", "*", "value"), ("outputs", "*", "when"), ("requirements", "*", "rule"),
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


def impact(old_loaded, new_loaded, records) -> Impact:
    """Evaluate every record under both policies and compare the results."""
    from .api import evaluate
    common = [o for o in old_loaded.policy.outputs if o in new_loaded.policy.outputs]
    labelled = [o for o in common if old_loaded.policy.outputs[o].labels is not None]
    label = "predikat" if "predikat" in labelled else (labelled[0] if labelled else None)
    result = Impact(label)
    for position, record in enumerate(records, start=1):
        result.records += 1
        before, after = evaluate(old_loaded, record), evaluate(new_loaded, record)
        who = before.get("id") if before.get("id") is not None else f"#{position}"
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
    return result


def render_impact(result: Impact, labels: list) -> list[str]:
    lines = [f"{result.records} records evaluated under both policies"]
    if result.label_output is not None:
        seen = labels + [x for pair in result.transitions for x in pair if x not in labels]
        width = max([len(str(x)) for x in seen] + [8])
        lines.append(f"{result.label_output}: old (rows) x new (columns)")
        lines.append(" " * (width + 2) + " ".join(f"{str(x):>{width}}" for x in seen))
        for old in seen:
            counts = [result.transitions.get((old, new), 0) for new in seen]
            lines.append(f"  {str(old):<{width}}" + " ".join(f"{c:>{width}}" for c in counts))
        lines.append(f"{len(result.moved)} records change {result.label_output}:")
        lines += [f"  {who}: {old} -> {new}" for who, old, new in result.moved]
    for name, (old_total, new_total) in sorted(result.totals.items()):
        if old_total != new_total:
            lines.append(f"total {name}: {format_number(old_total)} -> {format_number(new_total)} "
                         f"({'+' if new_total >= old_total else ''}{format_number(new_total - old_total)})")
    for who, side, errors in result.failed:
        lines.append(f"not compared: {who} has errors under the {side} policy: {errors[0]['path']}: {errors[0]['message']}")
    return lines
