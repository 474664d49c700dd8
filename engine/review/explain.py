"""Trace -> words. The trace is data returned with a result; this module only renders it:
one sentence per value, in the order the values were computed, in Bahasa Indonesia by default
or in English, each naming its rule, the numbers that went in and the policy line behind it.
"""

from __future__ import annotations

from fractions import Fraction
from typing import cast

from engine.diagnostics import shown_file
from engine.evaluate.exact import TraceEntry
from engine.evaluate.runtime import Item, _Absent
from engine.i18n import N_, _, decimal_mark, language, using
from engine.language.nodes import Expr
from engine.language.printer import to_text, value_text
from engine.policy.model import ComputedValue, Formula, IndicatorValue, MatrixValue, TableValue, WeightedValue

_WORDS = {  # English message ids; the Indonesian texts are in the catalogue
    "item": N_("{list} {n}"),
    "because": N_("since {test}: {answer}"),
    "because_row": N_("because {columns} matches row {row} ({when})"),
    "with_formula": N_("by the formula {formula} = {numbers}"),
    "cell": N_("from the matrix: {cells}"),
    "weighted": N_("weighted mean of {parts} (weight set {key})"),
    "weight": N_("{name} = {value} (weight {weight})"),
    "not_applicable": N_("not applicable: {names} ({how})"),
    "renormalised": N_("the other weights scaled up"),
    "as_zero": N_("counted as 0"),
    "basis": N_("basis: {basis}"),
    "at": N_("policy {file} line {line}"),
    "yes": N_("yes"),
    "no": N_("no"),
    "of": N_("from the values {values}"),
    "none": N_("none"),
    "missing": N_("not given"),
}


def _words() -> dict:
    """The words in the language in force."""
    return {key: _(text) for key, text in _WORDS.items()}


def explain(trace: list[TraceEntry], lang: str | None = None) -> list[str]:
    """One sentence per computed value (in `lang`, else the language in force)."""
    with using(lang or language()):
        words = _words()
        mark = decimal_mark()
        return [_sentence(entry, words, mark) for entry in trace]


def _show(value, words: dict, mark: str) -> str:
    if isinstance(value, bool):
        return words["yes"] if value else words["no"]
    if isinstance(value, str):
        return value
    if isinstance(value, _Absent):
        return words["missing"]
    return value_text(value, mark)


def _sentence(entry: TraceEntry, words: dict, mark: str) -> str:
    d = entry.definition
    label = d.label or d.name.replace("_", " ")
    prefix = ""
    if entry.item is not None:
        steps = entry.item.strip("/").split("/")
        prefix = words["item"].format(list=steps[0].replace("_", " ").capitalize(), n=int(steps[1]) + 1) + ": "
    scalars, repeated = _reads(entry.reads, _aggregate_vars(d))
    value = _show(entry.value, words, mark)
    clauses: list[str] = []
    if isinstance(d, (ComputedValue, IndicatorValue)) and d.formula is not None and d.formula.node is not None:
        node, conditions = _taken_branch(d.formula.node, scalars, entry)
        for test, holds in conditions:
            clauses.append(
                words["because"].format(
                    test=to_text(test, math=True, decimal_mark=mark), answer=words["yes"] if holds else words["no"]
                )
            )
        substituted = to_text(node, math=True, values=scalars, decimal_mark=mark)
        formula = to_text(node, math=True, decimal_mark=mark)
        text = f"{prefix}{label} = {formula}"
        if substituted != formula:
            text += f" = {substituted}"
        if substituted != value:
            text += f" = {value}"
        if repeated:
            clauses.append(
                words["of"].format(
                    values="; ".join(
                        f"{name}: {', '.join(_show(v, words, mark) for v in values)}"
                        for name, values in repeated.items()
                    )
                )
            )
    elif isinstance(d, TableValue) and entry.detail:  # the variant of each kind
        text = f"{prefix}{label} = {value}"
        columns = ", ".join(
            f"{to_text(f.node, math=True, decimal_mark=mark)} = {_show(_lookup(f, scalars), words, mark)}"
            for f in cast(tuple[Formula, ...], d.table.on)  # a table that ran read each column
            if f.node is not None
        )
        when = "; ".join(w.replace(".", mark) if mark != "." else w for w in entry.detail["when"])
        clauses.append(words["because_row"].format(columns=columns, row=entry.detail["row"], when=when))
        row = d.table.rows[entry.detail["row"] - 1]
        if not isinstance(row.then, (str, bool, Fraction)) and getattr(row.then, "node", None) is not None:
            clauses.append(
                words["with_formula"].format(
                    formula=to_text(row.then.node, math=True, decimal_mark=mark),
                    numbers=to_text(row.then.node, math=True, values=scalars, decimal_mark=mark),
                )
            )
    elif isinstance(d, MatrixValue) and entry.detail:
        text = f"{prefix}{label} = {value}"
        axes = cast(tuple[Formula, Formula], (d.matrix.rows, d.matrix.columns))  # a matrix that ran read both
        cells = " × ".join(f"{to_text(cast(Expr, f.node))} = {c}" for f, c in zip(axes, entry.detail["cell"]))
        clauses.append(words["cell"].format(cells=cells))
    elif isinstance(d, WeightedValue) and entry.detail:
        text = f"{prefix}{label} = {value}"
        parts = (
            ", ".join(
                words["weight"].format(name=name, value=_show(v, words, mark), weight=_show(w, words, mark))
                for name, v, w in entry.detail["applied"]
            )
            or words["none"]
        )
        clauses.append(words["weighted"].format(parts=parts, key=_show(entry.detail["weights"], words, mark)))
        if entry.detail.get("not_applicable"):
            how = words["renormalised"] if entry.detail["renormalised"] else words["as_zero"]
            clauses.append(words["not_applicable"].format(names=", ".join(entry.detail["not_applicable"]), how=how))
    else:
        text = f"{prefix}{label} = {value}"
    if d.basis:
        clauses.append(words["basis"].format(basis=d.basis))
    location = words["at"].format(file=shown_file(d.position.file), line=d.position.line)
    body = text + ("; " + "; ".join(clauses) if clauses else "")
    return f"{body} ({location})."


def _taken_branch(node, scalars: dict, entry: TraceEntry):
    """Follow `if ... then ... else` through the branches the trace says were taken, so the
    sentence shows only the rule that applied, and say which conditions decided it. A test is
    followed only when the sentence can show it with its reading (a present(), a yes/no input, a
    comparison of a read value with a literal); past any other, the rest of the formula is shown."""
    from engine.language import nodes as n
    from engine.language.printer import path_text

    conditions = []
    while isinstance(node, n.Conditional):
        test = node.test
        holds = entry.branches.get(node.loc)
        shown = (
            (isinstance(test, n.Call) and test.function == "present" and path_text(test.args[0]) is not None)
            or (path_text(test) is not None and isinstance(scalars.get(path_text(test)), bool))
            or (
                isinstance(test, n.Compare)
                and path_text(test.left) in scalars
                and isinstance(test.right, (n.Text, n.Number, n.Bool))
            )
        )
        if holds is None or not shown:
            break
        conditions.append((test, holds))
        node = node.then if holds else node.otherwise
    return node, conditions


def _lookup(formula, scalars: dict):
    from engine.language.printer import path_text

    name = path_text(formula.node)
    return scalars.get(name) if name is not None else None


def _aggregate_vars(d) -> set[str]:
    from engine.language import nodes as n

    found, todo = (
        set(),
        [d.formula.node]
        if isinstance(d, (ComputedValue, IndicatorValue)) and d.formula is not None and d.formula.node is not None
        else [],
    )
    while todo:
        node = todo.pop()
        if isinstance(node, n.Aggregate):
            found.add(node.var)
        todo.extend(n.children(node))
    return found


def _reads(reads: list, per_item: set[str]) -> tuple[dict, dict]:
    """Single values (to write into the formula) and the per-item values an aggregate read."""
    seen: dict[str, list] = {}
    for name, value in reads:
        if not isinstance(value, (Item, list, _Absent)):
            seen.setdefault(name, []).append(value)
    repeated = {
        name: values
        for name, values in seen.items()
        if name.split(".")[0] in per_item or any(v != values[0] for v in values)
    }
    scalars = {name: values[0] for name, values in seen.items() if name not in repeated}
    return scalars, repeated


def trace_json(trace: list[TraceEntry]) -> list[dict]:
    """The trace as data: one object per value, for JSON output and storage."""
    result = []
    for entry in trace:
        d = entry.definition
        item = {
            "name": d.name,
            "kind": d.kind,
            "at": f"{shown_file(d.position.file)}:{d.position.line}:{d.position.column}",
            "value": entry.value,
        }
        if entry.item is not None:
            item["item"] = entry.item
        if d.label:
            item["label"] = d.label
        if isinstance(d, (ComputedValue, IndicatorValue)) and d.formula is not None:
            item["formula"] = d.formula.text.strip()
        if d.basis:
            item["basis"] = d.basis
        item["reads"] = [
            {"name": name, "value": value} for name, value in entry.reads if not isinstance(value, (Item, list))
        ]
        if entry.detail:
            item.update({k: v for k, v in entry.detail.items()})
        result.append(item)
    return result
