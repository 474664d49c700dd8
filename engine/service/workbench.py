"""The policy author's workbench: the numbers of a policy as a form, and a child policy from changed numbers.

A BKD author changes a weight or a threshold without reading YAML: `numbers` lists every number
an author may change (a value that is a plain number, a weight, a number inside a decision
table's condition or result, a matrix cell) with its label, legal basis and place in the file;
`child_yaml` writes a policy that `extends` the original and holds only the changes, plus the
original's own test cases (cases are never inherited; copied, they show at once which expected
results the change breaks). The text is then checked, tested, tried and published like any
policy, through the functions below, which the web's /bengkel pages call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import cast

import yaml

from engine import api
from engine.diagnostics import Position, Severity
from engine.i18n import N_, _
from engine.numbers import NumberError, format_number, parse_number
from engine.policy.model import ComputedValue, MatrixValue, TableValue, WeightedValue
from engine.review import cases as testing

#: Longest policy text the workbench accepts (as engine.policy.source.MAX_POLICY_BYTES reads files).
MAX_TEXT_CHARACTERS = 1_000_000
#: Items of a list input offered on the try-a-record form.
FORM_LIST_ITEMS = 3
#: A number inside a decision-table condition: not part of a name, not inside quotes.
_NUMBER_IN_CELL = re.compile(r"""("[^"]*"|'[^']*')|(?<![\w.])(\d+(?:\.\d+)?)(?![\w.])""")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
KIND_WORDS = {
    "nilai": N_("number"),
    "bobot": N_("weight"),
    "batas": N_("table bound"),
    "hasil": N_("table result"),
    "sel": N_("matrix cell"),
}


class WorkbenchError(Exception):
    """Input the workbench cannot use: each problem names its form field."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(message for _field, message in problems))
        self.problems = problems


@dataclass(frozen=True)
class Number:
    """One number an author may change."""

    key: str  # the form field: the data path joined by '/', and '#n' for the n-th number in a cell
    kind: str  # nilai | bobot | batas | hasil | sel
    value: object  # a Fraction, or a matrix cell's label
    label: str  # in words
    group: str  # the value it belongs to, in words
    basis: str
    position: Position
    path: tuple
    index: int | None = None  # which number inside a table cell's text
    choices: tuple = ()  # a matrix cell's possible labels

    @property
    def kind_words(self) -> str:
        """The kind as a message id (translate it where it is shown)."""
        return KIND_WORDS[self.kind]

    @property
    def text(self) -> str:
        return (
            self.value if isinstance(self.value, str) else format_number(cast(Fraction, self.value), decimal_mark=",")
        )


# Listing the numbers ---------------------------------------------------------------------------


def numbers(loaded: api.LoadedPolicy) -> list[Number]:
    """Every changeable number of a policy, in the order of its values."""
    policy = loaded.policy
    found: list[Number] = []
    for d in policy.values.values():
        group = f"{d.label} ({d.name})" if d.label else d.name
        where = lambda path: policy.sources.position(path, policy.file)  # noqa: E731
        if isinstance(d, ComputedValue) and d.formula is not None and _plain_number(d.formula.text) is not None:
            found.append(
                Number(
                    _key(d.formula.path),
                    "nilai",
                    _plain_number(d.formula.text),
                    d.label or d.name,
                    group,
                    d.basis,
                    where(d.formula.path),
                    d.formula.path,
                )
            )
        if isinstance(d, WeightedValue):
            for key, weights in d.weighted.weights.items():
                for name, weight in weights.items():
                    path = d.path + ("weighted", "weights", key, name)
                    label = _(
                        "weight of {indicator} for {group}",
                        indicator=name,
                        group=_("others") if key == "default" else key,
                    )
                    found.append(Number(_key(path), "bobot", weight, label, group, d.basis, where(path), path))
        if isinstance(d, TableValue):
            found += _table_numbers(policy, d, group, where)
        if isinstance(d, MatrixValue):
            labels = _labels_of(policy, d)
            for (row, column), value in d.matrix.cells.items():
                path = d.path + ("matrix", "cells", row, column)
                label = _("cell {row} × {column}", row=row, column=column)
                found.append(
                    Number(
                        _key(path),
                        "sel",
                        value,
                        label,
                        group,
                        d.basis,
                        where(path),
                        path,
                        choices=labels if value in labels else (value, *labels),
                    )
                )
    own = str(policy.file)
    return sorted(found, key=lambda number: number.position.file != own)  # the policy's own numbers first


def _key(path: tuple, index: int | None = None) -> str:
    key = "/".join(str(part) for part in path)
    return key if index is None else f"{key}#{index}"


def _plain_number(text) -> Fraction | None:
    if isinstance(text, Fraction) and not isinstance(text, bool):
        return text
    try:
        return parse_number(text) if isinstance(text, str) else None
    except NumberError:
        return None


def _cell_texts(when) -> list[tuple[int | None, object]]:
    """A row's conditions as (column or None for a single column, text)."""
    return list(enumerate(when)) if isinstance(when, list) else [(None, when)]


def _numbers_in(text: str) -> list[re.Match]:
    return [m for m in _NUMBER_IN_CELL.finditer(text) if m.group(2) is not None]


def _table_numbers(policy, d, group: str, where) -> list[Number]:
    found = []
    for index, row in enumerate(d.table.rows, start=1):
        data = _at(policy.data, d.path + ("table", "rows", index - 1))
        for column, text in _cell_texts(data.get("when")):
            path = d.path + ("table", "rows", index - 1, "when") + (() if column is None else (column,))
            heading = (
                _("row {row}, condition", row=index)
                if column is None
                else _("row {row}, condition {column}", row=index, column=column + 1)
            )
            if isinstance(text, Fraction) and not isinstance(text, bool):
                found.append(
                    Number(_key(path, 0), "batas", text, heading, group, row.basis or d.basis, where(path), path, 0)
                )
            elif isinstance(text, str):
                for n, match in enumerate(_numbers_in(text)):
                    found.append(
                        Number(
                            _key(path, n),
                            "batas",
                            parse_number(match.group(2)),
                            f"{heading} ({text})",
                            group,
                            row.basis or d.basis,
                            where(path),
                            path,
                            n,
                        )
                    )
        for name in ("then", "formula"):
            value = _plain_number(data.get(name)) if name in data else None
            if value is not None:
                path = d.path + ("table", "rows", index - 1, name)
                found.append(
                    Number(
                        _key(path),
                        "hasil",
                        value,
                        _("row {row}, result", row=index),
                        group,
                        row.basis or d.basis,
                        where(path),
                        path,
                    )
                )
    return found


def _at(data, path: tuple):
    for part in path:
        data = data[part]
    return data


def _labels_of(policy, d) -> tuple:
    for output in policy.outputs.values():
        if output.labels and output.value.node is not None and getattr(output.value.node, "name", None) == d.name:
            return tuple(output.labels)
    return tuple(dict.fromkeys(v for v in d.matrix.cells.values() if isinstance(v, str)))


# A child policy from changed numbers -----------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """Who the child policy is: the author names it."""

    id: str
    version: str
    title: str
    berlaku_mulai: str
    berlaku_sampai: str = ""


def default_identity(loaded: api.LoadedPolicy) -> Identity:
    p = loaded.policy
    return Identity(
        f"{p.id}-ubah"[:63],
        "1",
        _("{title} (changed)", title=p.title or p.id),
        p.berlaku_mulai or date.today().isoformat(),
        "",
    )


def _check_identity(identity: Identity) -> list[tuple[str, str]]:
    problems = []
    if not _ID.fullmatch(identity.id or ""):
        problems.append(
            ("id", _("the id is 1 to 63 lower-case letters, digits and '-', starting with a letter or digit"))
        )
    if not identity.version.strip() or len(identity.version) > 64 or "\n" in identity.version:
        problems.append(("version", _("the version is 1 to 64 characters on one line")))
    if not identity.title.strip() or "\n" in identity.title:
        problems.append(("title", _("the title is required, on one line")))
    for name in ("berlaku_mulai", "berlaku_sampai"):
        text = getattr(identity, name)
        if name == "berlaku_sampai" and not text:
            continue
        try:
            valid = bool(_DAY.fullmatch(text)) and date.fromisoformat(text) is not None
        except ValueError:
            valid = False
        if not valid:
            problems.append((name, _("write a day of the calendar as YYYY-MM-DD, got {got}", got=text or "-")))
    return problems


def read_number(text: str) -> Fraction:
    """A number as an author types it: '0,5' or '0.5'; raises NumberError."""
    return parse_number(_decimal_text(text))


def _decimal_text(text: str) -> str:
    cleaned = (text or "").strip().replace(" ", "")
    return cleaned.replace(",", ".") if cleaned.count(",") == 1 and "." not in cleaned else cleaned


def changes_from(loaded: api.LoadedPolicy, form: dict) -> dict[str, object]:
    """The numbers a form changes: key -> new value (Fraction or label); raises WorkbenchError."""
    changed: dict[str, object] = {}
    problems: list[tuple[str, str]] = []
    for number in numbers(loaded):
        if number.key not in form:
            continue
        text = str(form[number.key]).strip()
        if number.kind == "sel":
            if text not in number.choices:
                problems.append((number.key, _("choose one of {choices}", choices=", ".join(number.choices))))
            elif text != number.value:
                changed[number.key] = text
            continue
        try:
            value = read_number(text)
        except NumberError:
            problems.append(
                (
                    number.key,
                    _("{label}: write a number, such as 60 or 0,5; got {got}", label=number.label, got=text or "-"),
                )
            )
            continue
        if number.kind == "bobot" and value < 0:
            problems.append((number.key, _("{label}: a weight is 0 or more, got {got}", label=number.label, got=text)))
        elif value != number.value:
            changed[number.key] = value
    if problems:
        raise WorkbenchError(problems)
    return changed


def child_yaml(loaded: api.LoadedPolicy, changed: dict[str, object], identity: Identity) -> str:
    """A policy that extends `loaded` and holds only `changed` (from `changes_from`), with the
    parent's own test cases copied (cases are not inherited). Raises WorkbenchError."""
    problems = _check_identity(identity)
    if identity.id == loaded.policy.id:
        problems.append(("id", _("a child policy needs an id of its own, not {id}", id=loaded.policy.id)))
    if problems:
        raise WorkbenchError(problems)
    p = loaded.policy
    by_key = {n.key: n for n in numbers(loaded)}
    override: dict = {}
    tables: dict[tuple, list] = {}
    for key, value in changed.items():
        number = by_key[key]
        if number.kind in ("batas", "hasil"):
            rows_path = number.path[: number.path.index("rows") + 1]
            rows = tables.setdefault(rows_path, _copy(_at(p.data, rows_path)))
            _edit_row(rows, number, cast(Fraction, value))
        elif number.kind == "nilai":
            _put(override, number.path, format_number(cast(Fraction, value)))
        else:
            _put(override, number.path, value)
    for rows_path, rows in tables.items():
        _put(override, rows_path, rows)
    about = _(
        "Changes {id} version {version} ({hash}): only the numbers changed in the workbench, and the cases of {id}.",
        id=p.id,
        version=p.version,
        hash=p.hash[:19],
    )
    head = [
        f"# {about}",
        "kinerja: 1",
        f"id: {identity.id}",
        f"extends: {p.id}",
        f"title: {_scalar(identity.title)}",
        f"version: {_scalar(identity.version)}",
        f"berlaku_mulai: {identity.berlaku_mulai}",
    ]
    if identity.berlaku_sampai:
        head.append(f"berlaku_sampai: {identity.berlaku_sampai}")
    body = (
        yaml.dump(override, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000, default_flow_style=None)
        if override
        else ""
    )
    tests = parent_tests_text(loaded)
    return "\n".join(head) + "\n" + (("\n" + body) if body else "") + (("\n" + tests) if tests else "")


def _copy(value):
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _put(tree: dict, path: tuple, value) -> None:
    for part in path[:-1]:
        tree = tree.setdefault(part, {})
    tree[path[-1]] = value


def _edit_row(rows: list, number: Number, value: Fraction) -> None:
    rows_at = number.path.index("rows")
    row = rows[number.path[rows_at + 1]]
    name = number.path[rows_at + 2]
    if number.kind == "hasil":
        row[name] = value if not isinstance(row[name], str) else format_number(value)
        return
    column = number.path[rows_at + 3] if len(number.path) > rows_at + 3 else None
    text = row["when"] if column is None else row["when"][column]
    if isinstance(text, Fraction):
        new = value
    else:
        match = _numbers_in(text)[number.index]  # type: ignore[index]  # a number in a cell's text has its index
        new = text[: match.start(2)] + format_number(value) + text[match.end(2) :]
    if column is None:
        row["when"] = new
    else:
        row["when"][column] = new


class _Dumper(yaml.SafeDumper):
    """Numbers as their exact decimal text; no anchors (the engine refuses aliases)."""

    def ignore_aliases(self, data) -> bool:
        return True


def _fraction(dumper: yaml.SafeDumper, value: Fraction):
    text = format_number(value)
    return dumper.represent_scalar("tag:yaml.org,2002:" + ("float" if "." in text else "int"), text)


_Dumper.add_representer(Fraction, _fraction)


def _scalar(text: str) -> str:
    return yaml.dump(text, Dumper=_Dumper, allow_unicode=True, width=10_000).removesuffix("\n...\n").strip()


def parent_tests_text(loaded: api.LoadedPolicy) -> str:
    """The `tests:` block of the policy's own file, as written there."""
    p = loaded.policy
    if not p.tests:
        return ""
    try:
        lines = Path(p.tests[0].position.file).read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    start = next((i for i, line in enumerate(lines) if line.rstrip() == "tests:" or line.startswith("tests: ")), None)
    if start is None:
        return ""
    end = next((i for i in range(start + 1, len(lines)) if lines[i][:1].isalpha()), len(lines))
    return "\n".join(lines[start:end]).rstrip() + "\n"


# Checking, testing, trying, comparing and publishing a draft ----------------------------------

#: The name a draft's diagnostics are placed in.
DRAFT_NAME = "kebijakan.yaml"


@dataclass
class Checked:
    """A draft's diagnostics, and the draft loaded when it has no error."""

    diagnostics: list
    loaded: api.LoadedPolicy | None

    @property
    def errors(self) -> list:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]


def check(store, text: str) -> Checked:
    """The draft's diagnostics (each at its line of the draft, or of the policy it extends)."""
    from engine import service
    from engine.evaluate.exact import CompiledPolicy
    from engine.evaluate.records import RecordReader

    if len(text) > MAX_TEXT_CHARACTERS:
        raise WorkbenchError(
            [("policy", _("the policy text is longer than {most} characters", most=MAX_TEXT_CHARACTERS))]
        )
    policy, diagnostics = api.check_text(text, DRAFT_NAME, [service.published_dir(store)])
    failed = policy is None or any(d.severity is Severity.ERROR for d in diagnostics)
    loaded = (
        None
        if failed or policy is None
        else api.LoadedPolicy(policy, CompiledPolicy(policy), RecordReader(policy), diagnostics)
    )
    return Checked(diagnostics, loaded)


def run_cases(checked: Checked) -> testing.TestReport | None:
    """The draft's own cases with their coverage; None while the draft has errors."""
    return testing.run_tests(checked.loaded) if checked.loaded is not None else None


def try_record(loaded: api.LoadedPolicy, record) -> dict:
    """One record evaluated with its explanation (nothing stored)."""
    from engine.i18n import language
    from engine.review.explain import explain

    result = api.evaluate(loaded, record, trace=True)
    trace = result.pop("trace", None)
    if trace is not None:
        anchors = _value_anchor_map(loaded)
        result["steps"] = [
            (sentence, anchors.get((entry.definition.scope, entry.definition.name)))
            for sentence, entry in zip(explain(trace, language()), trace)
        ]
    return result


def _value_anchor_map(loaded: api.LoadedPolicy) -> dict:
    from engine.review.rulebook import value_anchors

    return value_anchors(loaded.policy)


def impact(store, loaded: api.LoadedPolicy, period: str | None = None):
    """The draft against the version in force of the policy it extends (or of its own id, once
    published), over the stored evaluations made under that id: engine.service.review.Comparison."""
    from engine import service
    from engine.service import review as review_service

    base_id = loaded.policy.chain[1] if len(loaded.policy.chain) > 1 else loaded.policy.id
    try:
        current = review_service.in_force(store, loaded.policy.id, period)
        base_id = loaded.policy.id
    except service.ServiceError:
        current = review_service.in_force(store, base_id, period)
    return review_service.compare_loaded(store, current, loaded, base_id, period)


def publish(store, caller, text: str) -> tuple[int, dict]:
    """Publish a draft, only when it passes its checks and every one of its own cases
    (engine.service.publish_policy checks the versions and stores it); admins only."""
    from engine import service

    service.require(caller, "admin")
    checked = check(store, text)
    if checked.errors or checked.loaded is None:
        raise service.ServiceError(
            422,
            "invalid_policy",
            _("the policy does not pass its checks; nothing was published"),
            [{"path": "/policy", "code": d.code, "message": d.render()} for d in checked.errors],
        )
    report = run_cases(checked)
    assert report is not None  # the draft loaded, so its cases ran
    if report.failed:
        raise service.ServiceError(
            422,
            "cases_failed",
            _(
                "{failed} of {total} own cases fail; nothing was published",
                failed=len(report.failed),
                total=len(report.cases),
            ),
            [
                {
                    "path": "/policy",
                    "code": "case_failed",
                    "message": f"{case.name} ({DRAFT_NAME}:{case.line}): {'; '.join(case.failures)}",
                }
                for case in report.failed
            ],
        )
    return service.publish_policy(store, caller, {"policy": text})


# The try-a-record form --------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One input of the try-a-record form: `name` is its dotted path in the record."""

    name: str
    label: str
    type: str
    required: bool
    choices: tuple = ()
    description: str = ""
    group: str = ""


def input_fields(loaded: api.LoadedPolicy) -> list[Field]:
    """The inputs of a policy as form fields; a list input offers FORM_LIST_ITEMS items."""
    found: list[Field] = []
    for spec in loaded.policy.inputs.values():
        _fields_of(spec, spec.name, "", found)
    return found


def _fields_of(spec, name: str, group: str, found: list) -> None:
    if spec.type == "record":
        for child in spec.fields.values():
            _fields_of(child, f"{name}.{child.name}", spec.label or spec.name, found)
    elif spec.type == "list" and spec.items is not None:
        for index in range(FORM_LIST_ITEMS):
            item_group = _("{list} item {n}", list=spec.label or spec.name, n=index + 1)
            if spec.items.type == "record":
                for child in spec.items.fields.values():
                    _fields_of(child, f"{name}.{index}.{child.name}", item_group, found)
            else:
                _fields_of(spec.items, f"{name}.{index}", item_group, found)
    else:
        choices = (
            tuple(str(c) for c in spec.enum) if spec.enum else (("true", "false") if spec.type == "boolean" else ())
        )
        found.append(Field(name, spec.label or spec.name, spec.type, spec.required, choices, spec.description, group))


def record_from_form(loaded: api.LoadedPolicy, form: dict) -> dict:
    """The record a filled form describes: empty fields left out, numbers read exactly
    ('0,5' or '0.5'), list items kept when any of their fields is filled. A number that is not
    one is passed as text, so the record's validation reports it at its JSON pointer."""
    record: dict = {}
    for f in input_fields(loaded):
        text = str(form.get(f.name, "")).strip()
        if not text:
            continue
        if f.type in ("number", "integer", "number_or_range"):
            try:
                number = read_number(text)
                value: object = int(number) if number.denominator == 1 else Decimal(_decimal_text(text))
            except NumberError:
                value = text
        elif f.type == "boolean":
            value = text == "true"
        else:
            value = text
        _put_dotted(record, f.name.split("."), value)
    return _lists(record)


def _put_dotted(node: dict, parts: list[str], value) -> None:
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _lists(node):
    """{'0': a, '2': b} -> [a, b]: list items by their index, gaps closed."""
    if isinstance(node, dict):
        if node and all(k.isdigit() for k in node):
            return [_lists(node[k]) for k in sorted(node, key=int)]
        return {k: _lists(v) for k, v in node.items()}
    return node


def empty_lists(loaded: api.LoadedPolicy, record: dict) -> dict:
    """Required list inputs left empty on the form are empty lists (no item filled), not absent."""
    for spec in loaded.policy.inputs.values():
        if spec.type == "list" and spec.required and spec.name not in record:
            record[spec.name] = []
    return record
