"""Records to and from spreadsheets: a policy's data template (.xlsx and .csv), uploads read with
every problem at its sheet, row and column, a preview that evaluates every readable record, and
results written as .xlsx or .csv.

Workbook layout (the template's, documented on its sheet "Petunjuk"): the sheet "Pegawai" holds
one row per record; each list input (`kegiatan`, `iki`) has a sheet of its own name with one row
per item, keyed by the record's `id` (NIP) in column A, items in the order of their rows. Every
data sheet has three header rows: labels, descriptions and the dotted keys (`perilaku.integritas`,
`kuantitas.target`) by which columns are read, so columns may be moved or left out. The first row
after the keys is an example, whose id is `contoh`: rows with that id are never read. A sheet of
any other shape is read when one of its first rows holds the keys (a CSV's header pasted in).

Numbers in .xlsx cells are binary doubles by the file format. A numeric cell is read as the
decimal of at most 15 significant digits nearest to it (format '.15g'): Excel's own precision, so
it is exactly what the operator typed and sees; the double never enters arithmetic. Integers stay
integers. Formulas are refused at their cell (paste values), since a file may carry no computed
value or a stale one. An id (NIP) is text: a numeric id cell of more than 15 digits, or with a
fraction, has lost digits and is an error telling the operator to format the column as text.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction

from . import tabular
from .i18n import _
from .io import Incoming, ResultWriter, jsonable
from .model import InputSpec, Policy
from .numbers import format_number
from .tabular import ABSENT, EXAMPLE_ID, Cell, CellError, CellProblem, Row, column_letter

#: Largest upload (bytes as sent).
MAX_UPLOAD_BYTES = 20_000_000
#: Most bytes an .xlsx may decompress to (a zip bomb is refused before it is opened).
MAX_XLSX_UNCOMPRESSED_BYTES = 200_000_000
#: Most members in an .xlsx archive.
MAX_XLSX_MEMBERS = 1000
#: Most rows read from one sheet (records or list items), headers included.
MAX_SHEET_ROWS = 100_000
#: Most columns of a data sheet.
MAX_COLUMNS = 300
#: Most non-empty cells read from one upload.
MAX_CELLS = 5_000_000
#: Rows of the first sheet searched for the row of keys.
HEADER_SEARCH_ROWS = 10
#: Rows of the template that carry the drop-downs and number checks.
TEMPLATE_ROWS = 5000

MAIN_SHEET = "Pegawai"
GUIDE_SHEET = "Petunjuk"
CHOICES_SHEET = "Pilihan"
RESULTS_SHEET = "Hasil"
KEY_ROW = 3  # in the template: labels (1), descriptions (2), keys (3), example (4)
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
            columns = _columns(item, "", "") if item is not None and item.type == "record" else \
                [Column(spec.name, item or spec, _label(spec), spec.description)]
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

def template_csv(loaded) -> bytes:
    """The CSV template: one header row of dotted keys (as `kinerja eval` reads CSV), with the
    columns of the first item of each list input (add `kegiatan.1. ...` for more)."""
    sheets = layout(loaded.policy)
    main = {column.key.split(".")[0]: [] for column in sheets[0].columns}
    for column in sheets[0].columns:
        main[column.key.split(".")[0]].append(column.key)
    lists = {sheet.list_name: sheet for sheet in sheets[1:]}
    keys = ["id"]
    for name in loaded.policy.inputs:  # in the policy's own order
        if name in lists:
            keys += [f"{name}.0" if column.key == name else f"{name}.0.{column.key}" for column in lists[name].columns]
        else:
            keys += main.get(name, [])
    return (",".join(keys) + "\r\n").encode("utf-8")


def template_xlsx(loaded) -> bytes:
    """The policy's data template as an .xlsx workbook (layout in the module docstring)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    policy = loaded.policy
    sheets = layout(policy)
    example = _example(policy)
    book = Workbook()
    book.remove(book.active)
    choices = book.create_sheet(CHOICES_SHEET)
    choices.sheet_state = "hidden"
    bold, grey = Font(bold=True), Font(color="808080", size=9)
    italic = Font(italic=True, color="595959")
    wrap = Alignment(wrap_text=True, vertical="top")
    fill = PatternFill("solid", fgColor="DDEBF7")
    lists_used = 0
    for layout_ in sheets:
        sheet = book.create_sheet(layout_.title, index=len(book.sheetnames) - 1)
        columns = [Column("id", tabular.ID_SPEC, _("NIP (record id)"),
                          _("Text, e.g. 198503012010011001; the column is formatted as text so no digit is lost"))]
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
                check = DataValidation(type=rule[0], operator=rule[1], formula1=rule[2], formula2=rule[3],
                                       allow_blank=True, showErrorMessage=True, errorTitle=_("Value not allowed"),
                                       error=_describe(column)[:255])
                check.add(cells)
                sheet.add_data_validation(check)
        sheet.row_dimensions[2].height = 60
        sheet.freeze_panes = f"B{KEY_ROW + 1}"
        _example_rows(sheet, layout_, columns, example)
    _guide(book.create_sheet(GUIDE_SHEET, index=len(book.sheetnames) - 1), loaded, sheets)
    book.active = 0
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


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
    bounds = [(spec.minimum, _("at least")), (spec.exclusive_minimum, _("more than")),
              (spec.maximum, _("at most")), (spec.exclusive_maximum, _("less than"))]
    words += [f"{word} {_plain(value)}" for value, word in bounds if value is not None]
    if spec.null == "not_applicable":
        words.append(_("write - when it does not apply"))
    if not spec.required:
        words.append(_("may be left empty"))
    text = "; ".join(words)
    return f"{column.description} ({text})" if column.description and text else column.description or text


def _plain(value) -> str:
    if isinstance(value, Fraction):
        return format_number(value)
    return str(value)


def _number_format(spec: InputSpec) -> str:
    if spec is tabular.ID_SPEC or spec.type == "text":
        return "@"
    if spec.type == "integer":
        return "0"
    return "General"


def _validation(spec: InputSpec, choices, used: int) -> tuple | None:
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


def _example(policy: Policy) -> dict:
    """The record of the policy's first passing test case (else an empty one), for the example row."""
    for case in policy.tests:
        if not case.expect_errors and isinstance(case.record, dict):
            return case.record
    return {}


def _example_rows(sheet, layout_: SheetLayout, columns: list[Column], record: dict) -> None:
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


def _dig(node, parts):
    for part in parts:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _cell_value(value):
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, Fraction):
        return _cell_number(value)
    if isinstance(value, (dict, list)):
        return None
    return value


def _cell_number(value: Fraction):
    return int(value) if value.denominator == 1 else Decimal(format_number(value))


def _guide(sheet, loaded, sheets: list[SheetLayout]) -> None:
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
        lines.append((_("Sheet {sheet}: one row per item of {name}, with the employee's NIP in column A; "
                        "the items of one employee are read in the order of their rows.",
                        sheet=layout_.title, name=layout_.list_name), False))
    lines += [
        (_("Row 1 holds the column names, row 2 what to write, row 3 the keys by which Kinerja reads the "
           "columns: do not change row 3. Columns may be moved; a column that is not needed may be removed."), False),
        (_("The example row (NIP '{example}') is never read; it may stay or be deleted.", example=EXAMPLE_ID), False),
        (_("An empty cell means no value (never zero). Type numbers as numbers; a decimal comma or point is "
           "fine. Do not use formulas: copy them and paste as values."), False),
        (_("Keep the NIP column formatted as Text so that no digit is lost."), False),
    ]
    for row, (text, strong) in enumerate(lines, start=1):
        cell = sheet.cell(row, 1, text)
        if strong:
            cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 120


# Reading uploads ------------------------------------------------------------------------------

@dataclass
class Upload:
    """An uploaded file as read: one Row per record (each with its errors and the cell behind
    every value) and the problems of the file as a whole."""

    filename: str
    format: str  # 'xlsx' or 'csv'
    rows: list[Row] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)

    @property
    def records(self) -> list[dict]:
        return [row.record for row in self.rows if row.record is not None]


def read_upload(loaded, filename: str, data: bytes) -> Upload:
    """Read an uploaded .xlsx or .csv (chosen by the name, else by the content). Never raises for
    bad content: every problem is a CellError at its place."""
    kind = "xlsx" if filename.lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK" else "csv"
    upload = Upload(filename, kind)
    if len(data) > MAX_UPLOAD_BYTES:
        upload.errors.append(_file_error(filename, "too_large", _(
            "the file is {size:,} bytes, more than {limit:,}; split it into smaller files",
            size=len(data), limit=MAX_UPLOAD_BYTES)))
        return upload
    if kind == "csv":
        if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            upload.errors.append(_file_error(filename, "xls", _(
                "this is an old Excel file (.xls); save it as Excel Workbook (.xlsx) or CSV UTF-8")))
            return upload
        upload.rows = list(tabular.read_csv(io.BytesIO(data), loaded.policy, filename))
        return upload
    _read_xlsx(loaded.policy, data, upload)
    return upload


def _file_error(sheet: str, code: str, message: str, row: int = 0, column: str | None = None) -> CellError:
    return CellError(sheet, row, column, None, "", code, message)


def _read_xlsx(policy: Policy, data: bytes, upload: Upload) -> None:
    name = upload.filename
    problem = _archive_problem(data)
    if problem is not None:
        upload.errors.append(_file_error(name, *problem))
        return
    try:
        from openpyxl import load_workbook
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as error:  # a hostile or broken archive: any failure is the file's error
        upload.errors.append(_file_error(name, "xlsx", _(
            "the file cannot be read as an Excel workbook ({error}); save it again as .xlsx", error=type(error).__name__)))
        return
    try:
        _read_book(policy, book, upload)
    except Exception as error:  # a sheet's XML broken half-way through
        upload.rows = []
        upload.errors.append(_file_error(name, "xlsx", _(
            "the file cannot be read as an Excel workbook ({error}); save it again as .xlsx", error=type(error).__name__)))
    finally:
        book.close()


def _archive_problem(data: bytes) -> tuple[str, str] | None:
    """(code, message) when the bytes are not a ZIP archive of a sane size. Python's zipfile
    stops each member at its declared size (and checks its CRC), so the declared sizes bound
    what is decompressed."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        return "xlsx", _("the file is not an Excel workbook (.xlsx); save it as Excel Workbook or CSV UTF-8")
    with archive:
        members = archive.infolist()
        if len(members) > MAX_XLSX_MEMBERS:
            return "too_large", _("the workbook has {count:,} parts, more than {limit:,}",
                                  count=len(members), limit=MAX_XLSX_MEMBERS)
        size = sum(member.file_size for member in members)
        if size > MAX_XLSX_UNCOMPRESSED_BYTES:
            return "too_large", _("the workbook unpacks to {size:,} bytes, more than {limit:,}; split it",
                                  size=size, limit=MAX_XLSX_UNCOMPRESSED_BYTES)
    return None


def _read_book(policy: Policy, book, upload: Upload) -> None:
    sheets = {s.list_name: s for s in layout(policy) if s.list_name is not None}
    by_title = {s.title: s for s in sheets.values()}
    titles = list(book.sheetnames)
    main_title = MAIN_SHEET if MAIN_SHEET in titles else next(
        (t for t in titles if t not in by_title and t not in (GUIDE_SHEET, CHOICES_SHEET)), None)
    if main_title is None:
        upload.errors.append(_file_error(upload.filename, "no_sheet", _(
            "the workbook has no sheet {sheet} with one row per employee", sheet=MAIN_SHEET)))
        return
    budget = [MAX_CELLS]
    main_rows = _sheet_rows(book[main_title], main_title, policy, None, upload, budget)
    records: list[tuple[int, list]] = []  # (row number, entries)
    owners: dict[str, int] = {}
    for number, entries, errors, record_id in main_rows:
        records.append((number, entries, errors))
        if record_id is not None and sheets:
            if record_id in owners:
                errors.append(CellError(main_title, number, "A", "id", "/id", "duplicate_id", _(
                    "the NIP {id} is also on row {first}; each employee has one row", id=record_id,
                    first=records[owners[record_id]][0])))
            else:
                owners[record_id] = len(records) - 1
    counts: dict[tuple[int, str], int] = {}
    present = []
    for title in titles:
        if title not in by_title:
            continue
        layout_ = by_title[title]
        present.append(layout_.list_name)
        for number, entries, errors, record_id in _sheet_rows(book[title], title, policy, layout_, upload, budget):
            owner = owners.get(record_id) if record_id is not None else None
            if owner is None:
                upload.errors.append(CellError(title, number, "A", "id", "", "unknown_id", _(
                    "no employee with NIP {id} on sheet {sheet}; check the NIP or add the employee",
                    id=record_id or "?", sheet=main_title)))
                upload.errors.extend(errors)
                continue
            index = counts.get((owner, layout_.list_name), 0)
            counts[(owner, layout_.list_name)] = index + 1
            prefix = [layout_.list_name, str(index)]
            if not any(parts != ["id"] and value is not ABSENT for parts, value, _cell in entries):
                records[owner][1].append((prefix, {}, Cell(title, number, "A", "id")))  # an item with no values
            records[owner][1].extend((prefix if parts == [layout_.list_name] else prefix + parts, value, cell)
                                     for parts, value, cell in entries if parts != ["id"])
            records[owner][2].extend(errors)
    for number, entries, errors in records:
        record, cells = tabular.assemble(entries)
        first = next((cell for cell in cells.values() if cell.row == number), Cell(main_title, number, "A", "id"))
        tabular.empty_lists(record, cells, policy, present, first)
        upload.rows.append(Row(main_title, number, None if errors else record, errors, cells))


def _sheet_rows(sheet, title: str, policy: Policy, layout_: SheetLayout | None, upload: Upload, budget: list):
    """(row number, entries, cell errors, id) for each data row of one sheet."""
    base = None
    if layout_ is not None:
        base = policy.inputs[layout_.list_name].items
    columns: list[tuple[int, list[str], InputSpec | None, str]] | None = None
    dimension_columns = getattr(sheet, "max_column", None) or 0
    if dimension_columns > MAX_COLUMNS:
        upload.errors.append(_file_error(title, "too_many_columns", _(
            "the sheet has {count:,} columns, more than {limit:,}; remove the columns that are not data",
            count=dimension_columns, limit=MAX_COLUMNS)))
        return
    for number, cells in enumerate(sheet.iter_rows(max_row=MAX_SHEET_ROWS + 1, max_col=MAX_COLUMNS), start=1):
        if number > MAX_SHEET_ROWS:
            if any(_value(c) is not None for c in cells):
                upload.errors.append(_file_error(title, "too_many_rows", _(
                    "the sheet has more than {limit:,} rows; split the file", limit=MAX_SHEET_ROWS), number))
            return
        if columns is None:
            columns = _key_row(cells, policy, layout_, base)
            if columns is None and number >= HEADER_SEARCH_ROWS:
                upload.errors.append(_file_error(title, "no_header", _(
                    "no row of column keys (such as id, {example}) in the first {rows} rows; start from the "
                    "policy's template", example=_first_key(layout_, policy), rows=HEADER_SEARCH_ROWS)))
                return
            continue
        filled = [c for c in cells if _value(c) is not None]
        if not filled:
            continue
        budget[0] -= len(filled)
        if budget[0] < 0:
            upload.errors.append(_file_error(title, "too_many_cells", _(
                "the file has more than {limit:,} filled cells; split it", limit=MAX_CELLS), number))
            return
        entries, errors, record_id = [], [], None
        for index, parts, spec, key in columns:
            cell = cells[index] if index < len(cells) else None
            place = Cell(title, number, column_letter(index), key)
            try:
                value = _read_cell(cell, spec)
            except CellProblem as problem:
                errors.append(CellError(title, number, place.column, key, "/" + "/".join(parts),
                                        problem.code, problem.message))
                continue
            if parts == ["id"] and isinstance(value, str):
                record_id = value
            entries.append((parts, value, place))
        if record_id is not None and record_id.strip().lower() == EXAMPLE_ID:
            continue
        yield number, entries, errors, record_id


def _first_key(layout_: SheetLayout | None, policy: Policy) -> str:
    columns = layout_.columns if layout_ is not None else layout(policy)[0].columns
    return columns[0].key if columns else "id"


def _value(cell):
    value = getattr(cell, "value", None)
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _key_row(cells, policy: Policy, layout_: SheetLayout | None, base):
    """The columns, if this row is the row of keys: most of its filled cells name known values."""
    texts = [(i, c.value.strip()) for i, c in enumerate(cells) if isinstance(getattr(c, "value", None), str)
             and c.value.strip()]
    if not texts:
        return None
    found = []
    for index, key in texts:
        parts = key.split(".")
        if layout_ is not None and key == layout_.list_name:
            spec = base
        elif layout_ is not None and key == "id":
            spec = tabular.ID_SPEC
        else:
            spec = tabular.spec_at(policy, parts, base if layout_ is not None else None)
        found.append((index, parts, spec, key))
    known = sum(1 for f in found if f[2] is not None)
    if known == 0 or known * 2 < len(found):
        return None
    return found


_NUMBER_CELL = (int, float, Decimal)


def _read_cell(cell, spec: InputSpec | None):
    """One cell's record value (ABSENT when empty); raises CellProblem for what a cell can't hold."""
    value = getattr(cell, "value", None)
    if value is None or (isinstance(value, str) and not value.strip()):
        return ABSENT
    if getattr(cell, "data_type", None) == "f":
        raise CellProblem("formula", _("the cell holds a formula ({formula}); copy the column and paste it as "
                                       "values", formula=str(value)[:40]))
    if isinstance(value, (datetime, date, time, timedelta)):
        raise CellProblem("date", _("the cell holds a date or time, which no input here is; format the column as "
                                    "Text or Number and type the value again"))
    if isinstance(value, str):
        return tabular.value_of_text(value.strip(), spec, None)
    if isinstance(value, bool):
        if spec is not None and spec.type == "text" and spec is not tabular.ID_SPEC:
            return "true" if value else "false"
        return value
    if isinstance(value, _NUMBER_CELL):
        number = _exact(value)
        if number is None:
            raise CellProblem("number", _("the cell holds no finite number"))
        if spec is tabular.ID_SPEC:
            if not isinstance(number, int) or len(str(abs(number))) > tabular.SPREADSHEET_DIGITS:
                raise CellProblem("id_number", _(
                    "the NIP {got} was turned into a number by the spreadsheet and has lost digits; format the "
                    "column as Text and type the NIP again", got=_shown(value)))
            return str(number)
        if spec is not None and spec.type == "text":
            return str(number)
        return number
    return str(value)


def _exact(value):
    """A numeric cell's exact value: ints as they are, doubles at Excel's 15 significant digits."""
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    number = Decimal(format(value, ".15g"))
    if number == number.to_integral_value() and abs(number) < 10 ** tabular.SPREADSHEET_DIGITS:
        return int(number)
    return number


def _shown(value) -> str:
    return format(value, ".6g").upper() if isinstance(value, float) else str(value)


def locate(row: Row, path: str) -> tuple[str, int, str] | None:
    """(sheet, row, column) of the cell a record error at `path` (a JSON pointer) is about: the
    cell the value came from, else the first cell inside it (a list item's row), else the nearest
    enclosing value's, else the record's first cell. None for a row read from no cell."""
    cell = _cell_for(row, path)
    return None if cell is None else (cell.sheet, cell.row, cell.column)


def _cell_for(row: Row, path: str) -> Cell | None:
    if path in row.cells:
        return row.cells[path]
    probe = path
    while probe:
        inside = next((c for p, c in row.cells.items() if p.startswith(probe + "/")), None)
        if inside is not None:
            return inside
        probe = probe.rsplit("/", 1)[0]
        if probe in row.cells:
            return row.cells[probe]
    return next(iter(row.cells.values()), None)


def incoming(policy: Policy, filename: str, data: bytes):
    """An .xlsx's records as engine.io reads other files (for `kinerja eval`): a row that cannot be
    read, or a problem of the file, is one error with its place in the message."""
    from types import SimpleNamespace
    upload = read_upload(SimpleNamespace(policy=policy), filename, data)
    for error in upload.errors:
        yield Incoming(None, error.row, {"path": "", "code": error.code, "message": f"{error.place()}: {error.message}"})
    for row in upload.rows:
        if row.record is None:
            first = row.errors[0]
            yield Incoming(None, row.row, {"path": first.path, "code": first.code,
                                           "message": f"{first.place()}: {first.message}"})
        else:
            yield Incoming(row.record, row.row)


# Preview --------------------------------------------------------------------------------------

@dataclass
class PreviewRow:
    """One record of an upload: its result when it evaluated, else each error at its cell."""

    sheet: str
    row: int
    id: str | None
    record: dict | None
    result: dict | None
    errors: list[CellError]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Preview:
    """Every record of an upload, evaluated, before anything is stored."""

    filename: str
    policy: dict  # {id, version, hash} of the default version
    rows: list[PreviewRow]
    errors: list[CellError]  # problems of the file as a whole

    @property
    def ok(self) -> bool:
        """True when the file can be sent whole: no file problem, and every record valid."""
        return not self.errors and bool(self.rows) and all(row.ok for row in self.rows)

    @property
    def valid(self) -> int:
        return sum(1 for row in self.rows if row.ok)

    @property
    def invalid(self) -> int:
        return len(self.rows) - self.valid

    @property
    def records(self) -> list[dict]:
        """The records read, in file order (what a submission of this file stores)."""
        return [row.record for row in self.rows if row.record is not None]


def preview(loaded_or_chooser, filename: str, data: bytes) -> Preview:
    """Read an upload and evaluate every readable record exactly as `kinerja eval` does
    (engine.batch), each record error shown at its cell. Pure: nothing is stored."""
    from . import batch
    if hasattr(loaded_or_chooser, "for_record"):
        loaded, choose = loaded_or_chooser.default, loaded_or_chooser.for_record
    else:
        loaded, choose = loaded_or_chooser, (lambda record: loaded_or_chooser)
    upload = read_upload(loaded, filename, data)
    readable = [row for row in upload.rows if row.record is not None]
    results = iter(batch.evaluate_chosen(choose, [row.record for row in readable]))
    rows = []
    for row in upload.rows:
        record_id = row.record.get("id") if isinstance(row.record, dict) else None
        if row.record is None:
            rows.append(PreviewRow(row.sheet, row.row, record_id, None, None, list(row.errors)))
            continue
        result = next(results)
        errors = [_placed(row, error) for error in result.get("errors", ())]
        rows.append(PreviewRow(row.sheet, row.row, record_id, row.record, result, errors))
    return Preview(filename, loaded.ref, rows, list(upload.errors))


def _placed(row: Row, error: dict) -> CellError:
    cell = _cell_for(row, error.get("path", ""))
    if cell is None:
        return CellError(row.sheet, row.row, None, None, error.get("path", ""), error["code"], error["message"])
    return CellError(cell.sheet, cell.row, cell.column, cell.header, error.get("path", ""), error["code"],
                     error["message"])


# Results --------------------------------------------------------------------------------------

def results_xlsx(results: list[dict], output_names: list[str]) -> bytes:
    """Results as a workbook: a row per result (id, each output, the errors). Numbers are numeric
    cells when a spreadsheet can hold them exactly (15 significant digits), text otherwise; text
    that a spreadsheet would run as a formula is neutralised."""
    from openpyxl import Workbook
    book = Workbook(write_only=True)
    sheet = book.create_sheet(RESULTS_SHEET)
    header = ["id", *output_names, "errors"]
    sheet.append(header)
    for result in results:
        outputs = jsonable(result.get("outputs", {}))
        errors = "; ".join(f"{e.get('path') or '/'}: {e.get('message')}" for e in result.get("errors", ()))
        row = [_out_cell(result.get("id"), text=True)] + [_out_cell(outputs.get(name)) for name in output_names]
        row.append(tabular.neutralise(errors) if errors else None)
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _out_cell(value, text: bool = False):
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not text:  # engine.fast's: the double nearest an exact decimal of <= 15 digits
        return value
    if isinstance(value, (int, Decimal)) and not text:
        digits = Decimal(value).normalize().as_tuple().digits if value else (0,)
        return value if len(digits) <= tabular.SPREADSHEET_DIGITS else format(Decimal(value), "f")
    if isinstance(value, (dict, list)):
        from .io import encode
        return tabular.neutralise(encode(value).decode("utf-8"))
    return tabular.neutralise(str(value))


def results_csv(results: list[dict], output_names: list[str]) -> bytes:
    """Results as CSV, exactly as `kinerja eval --format csv` writes them."""
    out = io.BytesIO()
    writer = ResultWriter(out, "csv", output_names)
    for result in results:
        writer.write(result)
    writer.close()
    return out.getvalue()


class ResultBook:
    """ResultWriter's interface for .xlsx output: results are kept and written as one workbook."""

    def __init__(self, stream, output_names: list[str]):
        self.stream, self.output_names, self.results = stream, output_names, []

    def write(self, result: dict) -> None:
        self.results.append(result)

    def close(self) -> None:
        self.stream.write(results_xlsx(self.results, self.output_names))
        self.stream.flush()
