"""A policy's data template: the workbook (and CSV header) an agency fills in, laid out from the
policy's own inputs.

Layout: the sheet "Pegawai" holds one row per record; each list input (`kegiatan`, `iki`) has a
sheet of its own name with one row per item, keyed by the record's `id` (NIP) in column A, items
in the order of their rows. Every data sheet has three header rows: labels, descriptions and the
dotted keys (`perilaku.integritas`, `kuantitas.target`) by which engine.evaluate.sheets reads the columns,
so columns may be moved or left out. The row after the keys is an example whose id is `contoh`,
which is never read. Labels and descriptions are the policy's own where it has them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, cast

from engine.evaluate import tabular
from engine.evaluate.tabular import EXAMPLE_ID, column_letter
from engine.i18n import _
from engine.numbers import format_number
from engine.policy.model import InputSpec, Policy

#: Rows of the template that carry the drop-downs and number checks.
TEMPLATE_ROWS = 5000

MAIN_SHEET = "Pegawai"
GUIDE_SHEET = "Petunjuk"
CHOICES_SHEET = "Pilihan"
KEY_ROW = 3  # labels (1), descriptions (2), keys (3), example (4)
MAX_SHEET_TITLE = 31  # Excel's limit


# Layout ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A template column: its dotted key on its sheet, the declaration that types it, its words."""

    key: str
    spec: InputSpec
    label: str
    description: str


@dataclass(frozen=True)
class SheetLayout:
    title: str
    list_name: str | None  # None: the record sheet
    columns: tuple[Column, ...]  # after column A, the id


def layout(policy: Policy) -> list[SheetLayout]:
    """The sheets of the policy's template: the record sheet, then one per list input."""
    main: list[Column] = []
    lists: list[SheetLayout] = []
    for spec in policy.inputs.values():
        if spec.type == "list":
            item = spec.items
            columns = (
                _columns(item, "", "")
                if item is not None and item.type == "record"
                else [Column(spec.name, item or spec, _label(spec), spec.description)]
            )
            lists.append(SheetLayout(spec.name[:MAX_SHEET_TITLE], spec.name, tuple(columns)))
        else:
            main += _columns(spec, spec.name, "")
    return [SheetLayout(MAIN_SHEET, None, tuple(main)), *lists]


def _columns(spec: InputSpec, key: str, parent: str) -> list[Column]:
    if spec.type == "record":
        words = _label(spec) if key else ""
        found: list[Column] = []
        for name, child in spec.fields.items():
            found += _columns(child, f"{key}.{name}" if key else name, words)
        return found
    if spec.type == "list":
        raise ValueError(_("a list inside a record or a list item ({key}) has no spreadsheet layout", key=key))
    label = f"{parent}: {_label(spec)}" if parent else _label(spec)
    return [Column(key, spec, label, spec.description)]


def _label(spec: InputSpec) -> str:
    return spec.label or spec.name.replace("_", " ").capitalize()


# Templates ------------------------------------------------------------------------------------


def template_csv(loaded: Any) -> bytes:
    """The CSV template: one header row of dotted keys (as `kinerja eval` reads CSV), with the
    columns of the first item of each list input (add `kegiatan.1. ...` for more)."""
    sheets = layout(loaded.policy)
    main: dict[str, list[str]] = {column.key.split(".")[0]: [] for column in sheets[0].columns}
    for column in sheets[0].columns:
        main[column.key.split(".")[0]].append(column.key)
    lists = {sheet.list_name: sheet for sheet in sheets[1:]}
    keys = ["id"]
    for name in loaded.policy.inputs:  # in the policy's own order
        if name in lists:
            keys += [f"{name}.0" if column.key == name else f"{name}.0.{column.key}" for column in lists[name].columns]
        else:
            keys += main.get(name, [])
    return (",".join(keys) + "\n").encode("utf-8")


def template_xlsx(loaded: Any, records: list[dict[str, Any]] | None = None) -> bytes:
    """The policy's data template as an .xlsx workbook (layout in the module docstring), filled
    with `records` when given (a JSON Lines file turned into the workbook an agency uploads)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    policy = loaded.policy
    sheets = layout(policy)
    example = _example(policy)
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]  # a new workbook has its one sheet active
    choices = book.create_sheet(CHOICES_SHEET)
    choices.sheet_state = "hidden"
    bold, grey = Font(bold=True), Font(color="808080", size=9)
    italic = Font(italic=True, color="595959")
    wrap = Alignment(wrap_text=True, vertical="top")
    fill = PatternFill("solid", fgColor="DDEBF7")
    lists_used = 0
    for layout_ in sheets:
        sheet = book.create_sheet(layout_.title, index=len(book.sheetnames) - 1)
        columns = [
            Column(
                "id",
                tabular.ID_SPEC,
                _("NIP (record id)"),
                _("Text, e.g. 198503012010011001; the column is formatted as text so no digit is lost"),
            )
        ]
        columns += list(layout_.columns)
        for index, column in enumerate(columns):
            letter = column_letter(index)
            sheet.cell(1, index + 1, column.label).font = bold
            sheet.cell(1, index + 1).fill = fill
            sheet.cell(1, index + 1).alignment = wrap
            sheet.cell(2, index + 1, _describe(column)).alignment = wrap
            sheet.cell(2, index + 1).font = italic
            sheet.cell(KEY_ROW, index + 1, column.key).font = grey
            sheet.column_dimensions[letter].width = 22 if index else 24
            sheet.column_dimensions[letter].number_format = _number_format(column.spec)
            cells = f"{letter}{KEY_ROW + 1}:{letter}{KEY_ROW + TEMPLATE_ROWS}"
            rule = _validation(column.spec, choices, lists_used)
            if rule is not None:
                if rule[0] == "list":
                    lists_used += 1
                check = DataValidation(
                    type=rule[0],
                    operator=rule[1],
                    formula1=rule[2],
                    formula2=rule[3],
                    allow_blank=True,
                    showErrorMessage=True,
                    errorTitle=_("Value not allowed"),
                    error=_describe(column)[:255],
                )
                check.add(cells)
                sheet.add_data_validation(check)
        sheet.row_dimensions[2].height = 60
        sheet.freeze_panes = f"B{KEY_ROW + 1}"
        _example_rows(sheet, layout_, columns, example)
    _guide(book.create_sheet(GUIDE_SHEET, index=len(book.sheetnames) - 1), loaded, sheets)
    if records:
        _fill(book, sheets, records)
    book.active = 0
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _fill(book: Any, sheets: list[SheetLayout], records: list[dict[str, Any]]) -> None:
    """Records written below the example rows, as an operator would type them; raises ValueError
    for a value the layout has no cell for (it would be lost)."""
    main = sheets[0]
    rows = {layout_.title: KEY_ROW + 2 for layout_ in sheets}
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise ValueError(_("record {number} is not an object", number=number))
        written: set[str | None] = {"id"}  # keys of the record that a cell holds
        sheet = book[main.title]
        row = rows[main.title]
        rows[main.title] += 1
        _put(sheet, row, 1, _typed(record["id"]) if "id" in record else None)
        for index, column in enumerate(main.columns, start=2):
            value, found = _find(record, column.key.split("."))
            if found:
                _put(sheet, row, index, _typed(value))
                written.add(column.key.split(".")[0])
        for layout_ in sheets[1:]:
            items = record.get(cast(str, layout_.list_name))  # the sheets after the first are lists'
            if items is None:
                continue
            written.add(layout_.list_name)
            if not isinstance(items, list) or (items and "id" not in record):
                raise ValueError(
                    _(
                        "record {number}: {name} needs a list and the record an id",
                        number=number,
                        name=layout_.list_name,
                    )
                )
            for item in items:
                sheet, row = book[layout_.title], rows[layout_.title]
                rows[layout_.title] += 1
                _put(sheet, row, 1, _typed(record["id"]))
                for index, column in enumerate(layout_.columns, start=2):
                    parts = [] if column.key == layout_.list_name else column.key.split(".")
                    value, found = _find(item, parts)
                    if found:
                        _put(sheet, row, index, _typed(value))
        left = [key for key in record if key not in written]
        if left:
            raise ValueError(
                _(
                    "record {number} has {keys}, which the template has no column for",
                    number=number,
                    keys=", ".join(map(str, left)),
                )
            )


def _put(sheet: Any, row: int, column: int, value: Any) -> None:
    cell = sheet.cell(row, column, value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text as typed, never a formula


def _find(node: Any, parts: list[str]) -> tuple[Any, bool]:
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            return None, False
        node = node[part]
    return node, True


def _typed(value: Any) -> Any:
    """A record value as a cell holds it (numbers beyond a spreadsheet's 15 digits as their text)."""
    if value is None:
        return tabular.NULL_TEXTS[0]
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, list) and len(value) == 2:
        return f"{_typed(value[0])}-{_typed(value[1])}"
    if isinstance(value, (int, Decimal)):
        digits = Decimal(value).normalize().as_tuple().digits if value else (0,)
        return value if len(digits) <= tabular.SPREADSHEET_DIGITS else format(Decimal(value), "f")
    if isinstance(value, (dict, list)):
        return json_text(value)
    return str(value)


def json_text(value: Any) -> str:
    from engine.evaluate.io import encode

    return encode(value).decode("utf-8")


def _describe(column: Column) -> str:
    spec = column.spec
    if spec is tabular.ID_SPEC:
        return column.description
    words = []
    if spec.enum is not None:
        words.append(_("Choose from the list: {choices}", choices=", ".join(_plain(v) for v in spec.enum)))
    elif spec.type == "integer":
        words.append(_("A whole number"))
    elif spec.type == "number":
        words.append(_("A number (decimal comma or point)"))
    elif spec.type == "number_or_range":
        words.append(_("A number, or a range as low-high (e.g. 7-8)"))
    elif spec.type == "boolean":
        words.append(_("ya or tidak"))
    bounds = [
        (spec.minimum, _("at least")),
        (spec.exclusive_minimum, _("more than")),
        (spec.maximum, _("at most")),
        (spec.exclusive_maximum, _("less than")),
    ]
    words += [f"{word} {_plain(value)}" for value, word in bounds if value is not None]
    if spec.null == "not_applicable":
        words.append(_("write - when it does not apply"))
    if not spec.required:
        words.append(_("may be left empty"))
    text = "; ".join(words)
    return f"{column.description} ({text})" if column.description and text else column.description or text


def _plain(value: Any) -> str:
    if isinstance(value, Fraction):
        return format_number(value)
    return str(value)


def _number_format(spec: InputSpec) -> str:
    if spec is tabular.ID_SPEC or spec.type == "text":
        return "@"
    if spec.type == "integer":
        return "0"
    return "General"


def _validation(spec: InputSpec, choices: Any, used: int) -> tuple[Any, ...] | None:
    """(type, operator, formula1, formula2) of the cell check for this declaration, if any."""
    if spec.enum is not None or spec.type == "boolean":
        values = list(spec.enum) if spec.enum is not None else ["ya", "tidak"]
        letter = column_letter(used)
        for row, value in enumerate(values, start=1):
            choices.cell(row, used + 1, _cell_number(value) if isinstance(value, Fraction) else value)
        if spec.null == "not_applicable":
            choices.cell(len(values) + 1, used + 1, "-")
            values.append("-")
        return "list", None, f"{CHOICES_SHEET}!${letter}$1:${letter}${len(values)}", None
    if spec.type in ("number", "integer") and spec.null != "not_applicable":
        low = spec.minimum if spec.minimum is not None else spec.exclusive_minimum
        high = spec.maximum if spec.maximum is not None else spec.exclusive_maximum
        kind = "whole" if spec.type == "integer" else "decimal"
        if low is not None and high is not None:
            return kind, "between", format_number(low), format_number(high)
        if low is not None:
            return kind, "greaterThanOrEqual", format_number(low), None
        if high is not None:
            return kind, "lessThanOrEqual", format_number(high), None
    return None


def _example(policy: Policy) -> dict[str, Any]:
    """The record of the policy's first passing test case (else an empty one), for the example row."""
    for case in policy.tests:
        if not case.expect_errors and isinstance(case.record, dict):
            return case.record
    return {}


def _example_rows(sheet: Any, layout_: SheetLayout, columns: list[Column], record: dict[str, Any]) -> None:
    from openpyxl.styles import Font

    style = Font(italic=True, color="808080")
    items = [record] if layout_.list_name is None else (record.get(layout_.list_name) or [{}])[:1]
    for offset, item in enumerate(items):
        row = KEY_ROW + 1 + offset
        for index, column in enumerate(columns):
            if index == 0:
                value = EXAMPLE_ID
            elif layout_.list_name is not None and column.key == layout_.list_name:
                value = item
            else:
                value = _dig(item, column.key.split("."))
            if isinstance(value, list) and len(value) == 2:  # a target range
                value = f"{_plain(value[0])}-{_plain(value[1])}"
            cell = sheet.cell(row, index + 1, _cell_value(value))
            cell.font = style


def _dig(node: Any, parts: list[str]) -> Any:
    for part in parts:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _cell_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, Fraction):
        return _cell_number(value)
    if isinstance(value, (dict, list)):
        return None
    return value


def _cell_number(value: Fraction) -> int | Decimal:
    return int(value) if value.denominator == 1 else Decimal(format_number(value))


def _guide(sheet: Any, loaded: Any, sheets: list[SheetLayout]) -> None:
    from openpyxl.styles import Font

    policy = loaded.policy
    lines = [
        (_("Data template for policy {id} version {version}", id=policy.id, version=policy.version), True),
        (policy.title, False),
        (_("Policy hash: {hash}", hash=policy.hash), False),
        ("", False),
        (_("How to fill it in"), True),
        (_("Sheet {sheet}: one row per employee, starting below the example row.", sheet=MAIN_SHEET), False),
    ]
    for layout_ in sheets[1:]:
        lines.append(
            (
                _(
                    "Sheet {sheet}: one row per item of {name}, with the employee's NIP in column A; "
                    "the items of one employee are read in the order of their rows.",
                    sheet=layout_.title,
                    name=layout_.list_name,
                ),
                False,
            )
        )
    lines += [
        (
            _(
                "Row 1 holds the column names, row 2 what to write, row 3 the keys by which Kinerja reads the "
                "columns: do not change row 3. Columns may be moved; a column that is not needed may be removed."
            ),
            False,
        ),
        (_("The example row (NIP '{example}') is never read; it may stay or be deleted.", example=EXAMPLE_ID), False),
        (
            _(
                "An empty cell means no value (never zero). Type numbers as numbers; a decimal comma or point is "
                "fine. Do not use formulas: copy them and paste as values."
            ),
            False,
        ),
        (_("Keep the NIP column formatted as Text so that no digit is lost."), False),
    ]
    for row, (text, strong) in enumerate(lines, start=1):
        cell = sheet.cell(row, 1, text)
        if strong:
            cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 120
