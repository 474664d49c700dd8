"""Records as rows of cells: the rules that CSV files and spreadsheets share.

A column is named by its dotted key (`perilaku.integritas`, `kegiatan.0.kuantitas.target`); the
policy's declaration of the input at that key types the cell (text stays text, so an 18-digit
NIP or `007` is never a number). An empty cell is an absent value, never zero. Every cell keeps
its place (sheet, row, column letter, key), so a problem found later in the record, at a JSON
pointer, is shown at the cell it came from.

Number rule (CSV text and spreadsheet text cells): a numeral is read from its text, exactly, as
a Decimal (an int when it has no fraction). The decimal mark is '.' or ','; a numeral that could
also be a thousands grouping (`1.500`, `1,500`) is read with the file's decimal mark (see
`read_csv`) and is otherwise left as text, which the record reader reports with a hint. Thousands
separators are never guessed away.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from engine.evaluate.records import RECORD_META
from engine.evaluate.runtime import pointer
from engine.i18n import _
from engine.policy.model import InputSpec, Policy

#: Bytes looked at to choose a CSV's encoding, delimiter and decimal mark.
SAMPLE_BYTES = 1 << 20
#: Longest CSV line read from a stream (one record).
MAX_LINE_BYTES = 10_000_000
#: Longest CSV cell, in characters (csv's own limit, raised from 131,072 for long texts).
MAX_CELL_CHARS = 1_000_000
#: Digits a spreadsheet keeps in a number; an id typed as a longer number has lost digits.
SPREADSHEET_DIGITS = 15
#: A row whose id is this word (any case) is the template's example row, and is not read.
EXAMPLE_ID = "contoh"
#: Cell texts that mean "not applicable" (null) for inputs that declare `null: not_applicable`.
NULL_TEXTS = ("-", "tidak berlaku")
TRUE_TEXTS = ("true", "ya", "benar")
FALSE_TEXTS = ("false", "tidak", "salah")
RANGE_SEPARATORS = r"(?:-|–|s\.?d\.?)"


@dataclass(frozen=True)
class CellError:
    """A problem at one cell (column None: the whole row or file), with the JSON pointer into the
    record it concerns ('' when it concerns no value)."""

    sheet: str
    row: int
    column: str | None
    header: str | None
    path: str
    code: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def place(self) -> str:
        """'Pegawai!C5 (perilaku.integritas)', as a reader finds the cell."""
        where = f"{self.sheet}!{self.column or ''}{self.row}" if self.row else self.sheet
        return f"{where} ({self.header})" if self.header else where


@dataclass(frozen=True)
class Cell:
    """Where a value was read: the place a record error is shown."""

    sheet: str
    row: int
    column: str
    header: str


@dataclass
class Row:
    """One record as read from its row (and, in a workbook, its rows on the list sheets)."""

    sheet: str
    row: int
    record: dict[str, Any] | None
    errors: list[CellError] = field(default_factory=list)
    cells: dict[str, Cell] = field(default_factory=dict)  # JSON pointer -> cell, in column order


class CellProblem(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def column_letter(index: int) -> str:
    """0 -> 'A', 26 -> 'AA'."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# Columns --------------------------------------------------------------------------------------

ID_SPEC = InputSpec("id", "text", ("id",), None)  # type: ignore[arg-type]
PERIOD_SPEC = InputSpec("periode", "text", ("periode",), None)  # type: ignore[arg-type]


def spec_at(policy: Policy | None, parts: list[str], base: InputSpec | None = None) -> InputSpec | None:
    """The declaration of the value at a dotted key (list items by index), or None if the policy
    declares none; `base` starts below a list's item (the columns of a list sheet)."""
    if policy is None:
        return None
    if base is None and len(parts) == 1 and parts[0] in RECORD_META and parts[0] not in policy.inputs:
        return ID_SPEC if parts[0] == "id" else PERIOD_SPEC
    spec = base
    for index, part in enumerate(parts):
        if spec is None and index == 0 and base is None:
            spec = policy.inputs.get(part)
        elif spec is not None and spec.type == "list" and part.isdigit():
            spec = spec.items
        elif spec is not None and spec.type == "record":
            spec = spec.fields.get(part)
        else:
            return None
        if spec is None:
            return None
    return spec


# Cell values ----------------------------------------------------------------------------------

_NUMERAL = re.compile(r"([+-]?)(\d+)(?:([.,])(\d+))?")
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+")


def number_text(text: str, mark: str | None) -> int | Decimal | None:
    """A numeral's exact value (int or Decimal), or None when the text is not one (see the module
    docstring); `mark` is the file's decimal mark for numerals that could be groupings."""
    match = _NUMERAL.fullmatch(text)
    if match is None:
        try:
            number = Decimal(text)  # exponent forms as JSON writes them: 1E+2
        except InvalidOperation:
            return None
        return number if number.is_finite() and "_" not in text else None
    sign, whole, separator, fraction = match.groups()
    if separator is None:
        return int(sign + whole)
    if len(whole) <= 3 and len(fraction) == 3 and separator != mark:
        return None  # 1.500 in a decimal-comma file (or 1,500 in a decimal-point one): a grouping
    return Decimal(f"{sign}{whole}.{fraction}")


def value_of_text(text: str, spec: InputSpec | None, mark: str | None) -> object:
    """A cell's text as the record value its declaration asks for; raises CellProblem where the
    text can only be a mistake (an id a spreadsheet turned into a number)."""
    if spec is None:
        return text
    if spec is ID_SPEC:
        if _SCIENTIFIC.fullmatch(text):
            raise CellProblem(
                "id_number",
                _(
                    "the NIP {got} was turned into a number by the spreadsheet and has lost digits; format the "
                    "column as Text and type the NIP again",
                    got=text,
                ),
            )
        return text
    if spec.null == "not_applicable" and text.lower() in NULL_TEXTS:
        return None
    kind = spec.type
    if kind == "text":
        return text
    if kind == "boolean":
        lower = text.lower()
        return True if lower in TRUE_TEXTS else False if lower in FALSE_TEXTS else text
    if kind == "number_or_range":
        parts = re.fullmatch(rf"\s*([^\s–]+?)\s*{RANGE_SEPARATORS}\s*([^\s–]+)\s*", text)
        if parts and not text.startswith("-"):
            low, high = number_text(parts.group(1), mark), number_text(parts.group(2), mark)
            if low is not None and high is not None:
                return [low, high]
    if kind in ("number", "integer", "number_or_range"):
        number = number_text(text, mark)
        return text if number is None else number  # text: the record reader says what is wrong
    return text


# Records from cells ---------------------------------------------------------------------------

ABSENT = object()


def assemble(entries: list[tuple[list[str], object, Cell]]) -> tuple[dict[str, Any], dict[str, Cell]]:
    """(record, pointer -> cell) from (dotted key parts, value or ABSENT, cell) entries.

    Mappings keyed 0, 1, 2 ... become lists in index order; a list item whose cells are all empty
    does not exist, so later items move up, and each cell's pointer follows its item. Empty cells
    keep a pointer when their container exists, so "required" lands on the empty cell."""
    tree: dict[str, Any] = {}
    for parts, value, _cell in entries:
        if value is not ABSENT:
            _put(tree, parts, value)
    renumbered: dict[tuple[str, ...], dict[str, int]] = {}
    record = _lists(tree, (), renumbered)
    cells: dict[str, Cell] = {}
    for parts, _value, cell in entries:
        path = _pointer(parts, renumbered, record)
        if path is not None:
            cells.setdefault(path, cell)
    return record, cells


def _put(node: dict[str, Any], parts: list[str], value: object) -> None:
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            return  # a header both names a value and a field of it: the value wins
    node.setdefault(parts[-1], value)


def _lists(node: Any, where: tuple[str, ...], renumbered: dict[tuple[str, ...], dict[str, int]]) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(k.isdigit() for k in node):
        order = sorted(node, key=int)
        renumbered[where] = {k: i for i, k in enumerate(order)}
        return [_lists(node[k], where + (k,), renumbered) for k in order]
    return {k: _lists(v, where + (k,), renumbered) for k, v in node.items()}


def _pointer(parts: list[str], renumbered: dict[tuple[str, ...], dict[str, int]], record: dict[str, Any]) -> str | None:
    path = ""
    node: Any = record
    where: tuple[str, ...] = ()
    key: str | int
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if where in renumbered:
            if part not in renumbered[where]:
                return None
            key = renumbered[where][part]
        else:
            key = part
        if not last:
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and isinstance(key, int) and key < len(node):
                node = node[key]
            else:
                return None
        path = pointer(path, key)
        where += (part,)
    return path


def empty_lists(record: dict[str, Any], cells: dict[str, Cell], policy: Policy, names: list[str], cell: Cell) -> None:
    """A required list the file has columns for, with no items for this record, is empty (an
    employee never late has no `keterlambatan` rows), not absent."""
    for name in names:
        spec = policy.inputs.get(name)
        if spec is not None and spec.type == "list" and spec.required and name not in record:
            record[name] = []
            cells.setdefault(pointer("", name), cell)


# CSV ------------------------------------------------------------------------------------------


@dataclass
class CsvFormat:
    """What `sniff` found: the encoding, the delimiter and the decimal mark of a CSV file."""

    encoding: str  # 'utf-8' or 'cp1252'; None-like '' while only ASCII has been seen
    delimiter: str
    mark: str


def sniff(sample: bytes) -> CsvFormat:
    """Encoding: UTF-8 (with or without BOM) when the sample is UTF-8, Windows-1252 when it is not
    and holds no UTF-8 character, '' (decided per line) when it is plain ASCII. Delimiter: ';' when
    the first line has more semicolons than commas. Decimal mark: the one the sample's unambiguous
    numerals use (87,5 or 87.5), else ',' with ';' as delimiter and '.' with ','."""
    text = sample.decode("utf-8", "surrogateescape")
    bad = any("\udc80" <= c <= "\udcff" for c in text[:-3])  # the sample may cut a character
    good = any(ord(c) > 127 and not "\udc80" <= c <= "\udcff" for c in text)
    encoding = "utf-8" if good else "cp1252" if bad else ""
    if encoding == "cp1252":
        text = sample.decode("cp1252", "replace")
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = ";" if _unquoted(first).count(";") > _unquoted(first).count(",") else ","
    commas = points = 0
    for row in csv.reader(io.StringIO(text), delimiter=delimiter):
        for cell in row:
            match = _NUMERAL.fullmatch(cell.strip())
            if match and match.group(3) and not (len(match.group(2)) <= 3 and len(match.group(4)) == 3):
                commas += match.group(3) == ","
                points += match.group(3) == "."
    if commas != points:
        mark = "," if commas > points else "."
    else:
        mark = "," if delimiter == ";" else "."
    return CsvFormat(encoding, delimiter, mark)


def _unquoted(line: str) -> str:
    return re.sub(r'"[^"]*"', "", line)


def read_csv(stream: IO[bytes], policy: Policy | None, sheet: str = "") -> Iterator[Row]:
    """Records from a CSV stream, one Row per non-empty line, streamed in constant memory.

    A row that cannot be decoded or parsed is a Row with an error and no record; the rows after it
    are read as usual. The header names columns by dotted key."""
    sample = stream.read(SAMPLE_BYTES)
    found = sniff(sample)
    lines = _Lines(sample, stream, found.encoding)
    csv.field_size_limit(MAX_CELL_CHARS)
    reader = csv.reader(lines, delimiter=found.delimiter)
    header: list[str] | None = None
    columns: list[tuple[list[str], InputSpec | None, str]] = []
    list_columns: set[str] = set()
    while True:
        start = lines.number + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield Row(
                sheet,
                start,
                None,
                [
                    CellError(
                        sheet,
                        start,
                        None,
                        None,
                        "",
                        "csv",
                        _("this row cannot be read as CSV: {error}", error=str(error)),
                    )
                ],
            )
            continue
        unreadable = lines.bad_between(start, lines.number)
        if unreadable:
            yield Row(sheet, start, None, [CellError(sheet, start, None, None, "", *unreadable)])
            continue
        if header is None:
            header = [cell.strip().lstrip("\ufeff") for cell in values]
            for index, key in enumerate(header):
                parts = key.split(".")
                columns.append((parts, spec_at(policy, parts), column_letter(index)))
                if (
                    len(parts) > 1
                    and policy is not None
                    and parts[0] in policy.inputs
                    and policy.inputs[parts[0]].type == "list"
                ):
                    list_columns.add(parts[0])
            continue
        if not any(cell.strip() for cell in values):
            continue
        yield csv_row(sheet, start, header, columns, values, found.mark, policy, list_columns)


def csv_row(
    sheet: str,
    number: int,
    header: list[str],
    columns: list[tuple[list[str], InputSpec | None, str]],
    values: list[str],
    mark: str | None,
    policy: Policy | None,
    list_columns: set[str],
) -> Row:
    entries: list[tuple[list[str], object, Cell]] = []
    errors: list[CellError] = []
    for (parts, spec, letter), key, raw in zip(columns, header, values):
        text = raw.strip()
        cell = Cell(sheet, number, letter, key)
        if text == "":
            entries.append((parts, ABSENT, cell))
            continue
        try:
            entries.append((parts, value_of_text(text, spec, mark), cell))
        except CellProblem as problem:
            errors.append(CellError(sheet, number, letter, key, "/" + "/".join(parts), problem.code, problem.message))
    if len(values) > len(header) and any(v.strip() for v in values[len(header) :]):
        errors.append(
            CellError(
                sheet,
                number,
                column_letter(len(header)),
                None,
                "",
                "extra_cells",
                _(
                    "this row has {count} cells but the header has {columns}; a cell holds the delimiter (quote it) "
                    "or a column has no header",
                    count=len(values),
                    columns=len(header),
                ),
            )
        )
    record, cells = assemble(entries)
    if policy is not None and header:
        empty_lists(record, cells, policy, sorted(list_columns), Cell(sheet, number, "A", header[0]))
    return Row(sheet, number, None if errors else record, errors, cells)


class _Lines:
    """Decoded lines of a CSV stream for csv.reader, counting them and noting those that could not
    be decoded (as Windows-1252 bytes stand for themselves, only a file's odd lines fail)."""

    def __init__(self, sample: bytes, stream: IO[bytes], encoding: str):
        self.head: bytes | None = sample  # read once, then the stream
        self.stream, self.encoding = stream, encoding
        self.number = 0
        self.bad: dict[int, tuple[str, str]] = {}  # line -> (code, message)

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.head is not None:
            newline = self.head.rfind(b"\n")
            if newline >= 0 or not self.head:
                chunk, rest = self.head[: newline + 1], self.head[newline + 1 :]
            else:
                chunk, rest = b"", self.head
            self._lines = iter(chunk.splitlines(keepends=True))
            self._rest = rest
            self.head = None
        raw: bytes | None = next(self._lines, None)
        if raw is None:
            raw = self._rest + self.stream.readline(MAX_LINE_BYTES)
            self._rest = b""
            if not raw:
                raise StopIteration
            if len(raw) >= MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while True:  # the rest of the line is skipped, not read as rows of its own
                    more = self.stream.readline(MAX_LINE_BYTES)
                    if not more or more.endswith(b"\n"):
                        break
                self.number += 1
                self.bad[self.number] = ("too_large", _("this line is over {limit:,} bytes", limit=MAX_LINE_BYTES))
                return "\n"
        self.number += 1
        if self.number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        return self._decode(raw)

    def _decode(self, raw: bytes) -> str:
        encodings = [self.encoding] if self.encoding else ["utf-8", "cp1252"]
        for encoding in encodings:
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError as error:
                failed = error
        byte = f"0x{raw[failed.start]:02X}"
        self.bad[self.number] = (
            "encoding",
            _("this row is neither UTF-8 nor Windows-1252 text (byte {byte}); save the file as CSV UTF-8", byte=byte),
        )
        return raw.decode(encodings[0], "replace")

    def bad_between(self, first: int, last: int) -> tuple[str, str] | None:
        for number in range(first, last + 1):
            if number in self.bad:
                return self.bad[number]
        return None


# Output ---------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Text a spreadsheet would run as a formula, made inert with a leading quote (OWASP, CSV
    injection). Numbers are not text and never pass through here."""
    return "'" + text if text.startswith(_FORMULA_START) else text
