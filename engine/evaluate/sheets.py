"""Records to and from spreadsheets: the policy's data template (engine.evaluate.datatemplate), uploads
(.xlsx, .csv) read with every problem at its sheet, row and column, a preview that evaluates every
readable record, and results written as .xlsx or .csv. The web, the CLI and the API call this.

Workbooks are read in the template's layout (engine.evaluate.datatemplate: a record sheet, a sheet per list
input keyed by NIP, a row of dotted keys naming the columns, an example row with id `contoh` that
is never read). A sheet of another shape is read when one of its first rows holds the keys (a
CSV's header pasted in); columns right of the last key are notes and are not read.

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
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, cast

from engine.evaluate import tabular
from engine.evaluate.datatemplate import (
    CHOICES_SHEET,
    GUIDE_SHEET,
    KEY_ROW,
    MAIN_SHEET,
    SheetLayout,
    layout,
    template_csv,
    template_xlsx,
)
from engine.evaluate.io import Incoming, ResultWriter, jsonable
from engine.evaluate.tabular import ABSENT, EXAMPLE_ID, Cell, CellError, CellProblem, Row, column_letter
from engine.i18n import _
from engine.policy.model import InputSpec, Policy

__all__ = [
    "CHOICES_SHEET",
    "GUIDE_SHEET",
    "KEY_ROW",
    "MAIN_SHEET",
    "RESULTS_SHEET",
    "CellError",
    "Preview",
    "PreviewRow",
    "ResultBook",
    "Row",
    "SheetLayout",
    "Upload",
    "incoming",
    "layout",
    "locate",
    "preview",
    "read_upload",
    "results_csv",
    "results_xlsx",
    "template_csv",
    "template_xlsx",
]

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
RESULTS_SHEET = "Hasil"


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
    def records(self) -> list[dict[str, Any]]:
        return [row.record for row in self.rows if row.record is not None]


def read_upload(loaded: Any, filename: str, data: bytes) -> Upload:
    """Read an uploaded .xlsx or .csv (chosen by the name, else by the content) for a loaded policy
    (engine.api.LoadedPolicy). Never raises for bad content: every problem is a CellError at its
    place, and a file without a single record says so."""
    upload = _read(loaded.policy, filename, data)
    if not upload.rows and not upload.errors:
        upload.errors.append(
            _file_error(
                filename, "no_records", _("the file holds no records: fill one row per employee below the example row")
            )
        )
    return upload


def _read(policy: Policy, filename: str, data: bytes, kind: str | None = None) -> Upload:
    if kind is None:
        kind = "xlsx" if filename.lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK" else "csv"
    upload = Upload(filename, kind)
    if len(data) > MAX_UPLOAD_BYTES:
        upload.errors.append(
            _file_error(
                filename,
                "too_large",
                _(
                    "the file is {size:,} bytes, more than {limit:,}; split it into smaller files",
                    size=len(data),
                    limit=MAX_UPLOAD_BYTES,
                ),
            )
        )
        return upload
    if kind == "csv":
        if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            upload.errors.append(
                _file_error(
                    filename,
                    "xls",
                    _("this is an old Excel file (.xls); save it as Excel Workbook (.xlsx) or CSV UTF-8"),
                )
            )
            return upload
        upload.rows = list(tabular.read_csv(io.BytesIO(data), policy, filename))
        return upload
    _read_xlsx(policy, data, upload)
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
        upload.errors.append(
            _file_error(
                name,
                "xlsx",
                _(
                    "the file cannot be read as an Excel workbook ({error}); save it again as .xlsx",
                    error=type(error).__name__,
                ),
            )
        )
        return
    try:
        _read_book(policy, book, upload)
    except Exception as error:  # a sheet's XML broken half-way through
        upload.rows = []
        upload.errors.append(
            _file_error(
                name,
                "xlsx",
                _(
                    "the file cannot be read as an Excel workbook ({error}); save it again as .xlsx",
                    error=type(error).__name__,
                ),
            )
        )
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
            return "too_large", _(
                "the workbook has {count:,} parts, more than {limit:,}", count=len(members), limit=MAX_XLSX_MEMBERS
            )
        size = sum(member.file_size for member in members)
        if size > MAX_XLSX_UNCOMPRESSED_BYTES:
            return "too_large", _(
                "the workbook unpacks to {size:,} bytes, more than {limit:,}; split it",
                size=size,
                limit=MAX_XLSX_UNCOMPRESSED_BYTES,
            )
    return None


def _read_book(policy: Policy, book: Any, upload: Upload) -> None:
    sheets = {s.list_name: s for s in layout(policy) if s.list_name is not None}
    by_title = {s.title: s for s in sheets.values()}
    titles = list(book.sheetnames)
    main_title = (
        MAIN_SHEET
        if MAIN_SHEET in titles
        else next((t for t in titles if t not in by_title and t not in (GUIDE_SHEET, CHOICES_SHEET)), None)
    )
    if main_title is None:
        upload.errors.append(
            _file_error(
                upload.filename,
                "no_sheet",
                _("the workbook has no sheet {sheet} with one row per employee", sheet=MAIN_SHEET),
            )
        )
        return
    budget = [MAX_CELLS]
    main_rows = _sheet_rows(book[main_title], main_title, policy, None, upload, budget)
    records: list[tuple[int, list[Any], list[CellError]]] = []  # (row number, entries, cell errors)
    owners: dict[str, int] = {}
    for number, entries, errors, record_id in main_rows:
        records.append((number, entries, errors))
        if record_id is not None and sheets:
            if record_id in owners:
                errors.append(
                    CellError(
                        main_title,
                        number,
                        "A",
                        "id",
                        "/id",
                        "duplicate_id",
                        _(
                            "the NIP {id} is also on row {first}; each employee has one row",
                            id=record_id,
                            first=records[owners[record_id]][0],
                        ),
                    )
                )
            else:
                owners[record_id] = len(records) - 1
    counts: dict[tuple[int, str | None], int] = {}
    present: list[str] = []
    for title in titles:
        if title not in by_title:
            continue
        layout_ = by_title[title]
        present.append(cast(str, layout_.list_name))  # `by_title` holds list sheets only
        for number, entries, errors, record_id in _sheet_rows(book[title], title, policy, layout_, upload, budget):
            owner = owners.get(record_id) if record_id is not None else None
            if owner is None:
                message = (
                    _(
                        "no employee with NIP {id} on sheet {sheet}; check the NIP or add the employee",
                        id=record_id,
                        sheet=main_title,
                    )
                    if record_id is not None
                    else _("the row has no NIP in column A; write the NIP of the employee whose item it is")
                )
                upload.errors.append(CellError(title, number, "A", "id", "", "unknown_id", message))
                upload.errors.extend(errors)
                continue
            index = counts.get((owner, layout_.list_name), 0)
            counts[(owner, layout_.list_name)] = index + 1
            prefix = [layout_.list_name, str(index)]
            errors = [
                replace(e, path=f"/{layout_.list_name}/{index}{e.path}") if e.path not in ("", "/id") else e
                for e in errors
            ]  # a cell's pointer within its item, made the record's
            if not any(parts != ["id"] and value is not ABSENT for parts, value, _cell in entries):
                records[owner][1].append((prefix, {}, Cell(title, number, "A", "id")))  # an item with no values
            records[owner][1].extend(
                (prefix if parts == [layout_.list_name] else prefix + parts, value, cell)
                for parts, value, cell in entries
                if parts != ["id"]
            )
            records[owner][2].extend(errors)
    for number, entries, errors in records:
        record, cells = tabular.assemble(entries)
        first = next((cell for cell in cells.values() if cell.row == number), Cell(main_title, number, "A", "id"))
        tabular.empty_lists(record, cells, policy, present, first)
        upload.rows.append(Row(main_title, number, None if errors else record, errors, cells))


def _sheet_rows(
    sheet: Any, title: str, policy: Policy, layout_: SheetLayout | None, upload: Upload, budget: list[int]
) -> Iterator[tuple[int, list[Any], list[CellError], str | None]]:
    """(row number, entries, cell errors, id) for each data row of one sheet."""
    base = None
    if layout_ is not None:
        base = policy.inputs[cast(str, layout_.list_name)].items  # a list sheet's layout names its list
    columns: list[tuple[int, list[str], InputSpec | None, str]] | None = None
    dimension_columns = getattr(sheet, "max_column", None) or 0
    if dimension_columns > MAX_COLUMNS:
        upload.errors.append(
            _file_error(
                title,
                "too_many_columns",
                _(
                    "the sheet has {count:,} columns, more than {limit:,}; remove the columns that are not data",
                    count=dimension_columns,
                    limit=MAX_COLUMNS,
                ),
            )
        )
        return
    key_row = 0
    for number, cells in enumerate(sheet.iter_rows(max_row=HEADER_SEARCH_ROWS, max_col=MAX_COLUMNS), start=1):
        columns = _key_row(cells, policy, layout_, base)
        if columns is not None:
            key_row = number
            break
    if columns is None:
        upload.errors.append(
            _file_error(
                title,
                "no_header",
                _(
                    "no row of column keys (such as id, {example}) in the first {rows} rows; start from the "
                    "policy's template",
                    example=_first_key(layout_, policy),
                    rows=HEADER_SEARCH_ROWS,
                ),
            )
        )
        return
    width = max(column[0] for column in columns) + 1  # cells right of the last key are notes, not read
    rows = sheet.iter_rows(min_row=key_row + 1, max_row=MAX_SHEET_ROWS + 1, max_col=width)
    for number, cells in enumerate(rows, start=key_row + 1):
        if number > MAX_SHEET_ROWS:
            if any(_value(c) is not None for c in cells):
                upload.errors.append(
                    _file_error(
                        title,
                        "too_many_rows",
                        _("the sheet has more than {limit:,} rows; split the file", limit=MAX_SHEET_ROWS),
                        number,
                    )
                )
            return
        filled = [c for c in cells if _value(c) is not None]
        if not filled:
            continue
        budget[0] -= len(filled)
        if budget[0] < 0:
            upload.errors.append(
                _file_error(
                    title,
                    "too_many_cells",
                    _("the file has more than {limit:,} filled cells; split it", limit=MAX_CELLS),
                    number,
                )
            )
            return
        entries, errors, record_id = [], [], None
        for index, parts, spec, key in columns:
            cell = cells[index] if index < len(cells) else None
            place = Cell(title, number, column_letter(index), key)
            try:
                value = _read_cell(cell, spec)
            except CellProblem as problem:
                errors.append(
                    CellError(title, number, place.column, key, "/" + "/".join(parts), problem.code, problem.message)
                )
                if parts == ["id"]:
                    # still pairs the rows of a NIP Excel turned into a number (an empty cell raises nothing)
                    record_id = str(cell.value)  # type: ignore[union-attr]
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


def _value(cell: Any) -> Any:
    value = getattr(cell, "value", None)
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _key_row(
    cells: Any, policy: Policy, layout_: SheetLayout | None, base: InputSpec | None
) -> list[tuple[int, list[str], InputSpec | None, str]] | None:
    """The columns, if this row is the row of keys: most of its filled cells name known values."""
    texts = [
        (i, c.value.strip())
        for i, c in enumerate(cells)
        if isinstance(getattr(c, "value", None), str) and c.value.strip()
    ]
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


def _read_cell(cell: Any, spec: InputSpec | None) -> Any:
    """One cell's record value (ABSENT when empty); raises CellProblem for what a cell can't hold."""
    value = getattr(cell, "value", None)
    if value is None or (isinstance(value, str) and not value.strip()):
        return ABSENT
    if getattr(cell, "data_type", None) == "f":
        raise CellProblem(
            "formula",
            _("the cell holds a formula ({formula}); copy the column and paste it as values", formula=str(value)[:40]),
        )
    if isinstance(value, (datetime, date, time, timedelta)):
        raise CellProblem(
            "date",
            _(
                "the cell holds a date or time, which no input here is; format the column as "
                "Text or Number and type the value again"
            ),
        )
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
                raise CellProblem(
                    "id_number",
                    _(
                        "the NIP {got} was turned into a number by the spreadsheet and has lost digits; format the "
                        "column as Text and type the NIP again",
                        got=_shown(value),
                    ),
                )
            return str(number)
        if spec is not None and spec.type == "text":
            return str(number)
        return number
    return str(value)


def _exact(value: Any) -> int | Decimal | None:
    """A numeric cell's exact value: ints as they are, doubles at Excel's 15 significant digits."""
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    number = Decimal(format(value, ".15g"))
    if number == number.to_integral_value() and abs(number) < 10**tabular.SPREADSHEET_DIGITS:
        return int(number)
    return number


def _shown(value: Any) -> str:
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


def incoming(policy: Policy, filename: str, data: bytes) -> Iterator[Incoming]:
    """An .xlsx's records as engine.evaluate.io reads other files (for `kinerja eval`): a row that cannot be
    read, or a problem of the file, is one error with its place in the message."""
    upload = _read(policy, filename, data, "xlsx")
    for error in upload.errors:
        yield Incoming(
            None, error.row, {"path": "", "code": error.code, "message": f"{error.place()}: {error.message}"}
        )
    for row in upload.rows:
        if row.record is None:
            first = row.errors[0]
            yield Incoming(
                None, row.row, {"path": first.path, "code": first.code, "message": f"{first.place()}: {first.message}"}
            )
        else:
            yield Incoming(row.record, row.row)


# Preview --------------------------------------------------------------------------------------


@dataclass
class PreviewRow:
    """One record of an upload: its result when it evaluated, else each error at its cell."""

    sheet: str
    row: int
    id: str | None
    record: dict[str, Any] | None
    result: dict[str, Any] | None
    errors: list[CellError]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Preview:
    """Every record of an upload, evaluated, before anything is stored."""

    filename: str
    policy: dict[str, Any]  # {id, version, hash} of the default version
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
    def records(self) -> list[dict[str, Any]]:
        """The records read, in file order (what a submission of this file stores)."""
        return [row.record for row in self.rows if row.record is not None]


def preview(loaded_or_chooser: Any, filename: str, data: bytes) -> Preview:
    """Read an upload and evaluate every readable record exactly as `kinerja eval` does
    (engine.api.LoadedPolicy.result), each record error shown at its cell. Pure: nothing is stored."""
    if hasattr(loaded_or_chooser, "for_record"):
        loaded, choose = loaded_or_chooser.default, loaded_or_chooser.for_record
    else:
        loaded, choose = loaded_or_chooser, (lambda record: loaded_or_chooser)
    upload = read_upload(loaded, filename, data)
    readable = [row for row in upload.rows if row.record is not None]
    results = iter([choose(row.record).result(row.record) for row in readable])  # the facade's rule (api.LoadedPolicy)
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


def _placed(row: Row, error: dict[str, Any]) -> CellError:
    cell = _cell_for(row, error.get("path", ""))
    if cell is None:
        return CellError(row.sheet, row.row, None, None, error.get("path", ""), error["code"], error["message"])
    return CellError(
        cell.sheet, cell.row, cell.column, cell.header, error.get("path", ""), error["code"], error["message"]
    )


# Results --------------------------------------------------------------------------------------


def results_xlsx(results: list[dict[str, Any]], output_names: list[str]) -> bytes:
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


def _out_cell(value: Any, text: bool = False) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if (
        isinstance(value, float) and not text
    ):  # engine.evaluate.kernel's: the double nearest an exact decimal of <= 15 digits
        return value
    if isinstance(value, (int, Decimal)) and not text:
        digits = Decimal(value).normalize().as_tuple().digits if value else (0,)
        return value if len(digits) <= tabular.SPREADSHEET_DIGITS else format(Decimal(value), "f")
    if isinstance(value, (dict, list)):
        from engine.evaluate.io import encode

        return tabular.neutralise(encode(value).decode("utf-8"))
    return tabular.neutralise(str(value))


def results_csv(results: list[dict[str, Any]], output_names: list[str]) -> bytes:
    """Results as CSV, exactly as `kinerja eval --format csv` writes them."""
    out = io.BytesIO()
    writer = ResultWriter(out, "csv", output_names)
    for result in results:
        writer.write(result)
    writer.close()
    return out.getvalue()


class ResultBook:
    """ResultWriter's interface for .xlsx output: results are kept and written as one workbook."""

    def __init__(self, stream: Any, output_names: list[str]) -> None:
        self.stream, self.output_names = stream, output_names
        self.results: list[dict[str, Any]] = []

    def write(self, result: dict[str, Any]) -> None:
        self.results.append(result)

    def close(self) -> None:
        self.stream.write(results_xlsx(self.results, self.output_names))
        self.stream.flush()
