"""Reading records (JSON, JSON Lines, CSV) and writing results (JSON Lines, JSON, CSV).

Numbers are decoded from their text as Decimals (msgspec's float_hook), never as binary floats,
and written back as exact decimal numerals. Input is streamed record by record, so a file of
any size is read in constant memory (JSON arrays excepted: they are read whole).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import IO, TYPE_CHECKING, Any

import msgspec

from engine.evaluate.runtime import MISSING, NOT_APPLICABLE, Item
from engine.evaluate.tabular import neutralise, read_csv
from engine.i18n import N_, _
from engine.numbers import format_number
from engine.policy.functions import TargetRange

if TYPE_CHECKING:
    from engine.policy.model import Policy

#: Longest line of a JSON Lines file (one record).
MAX_LINE_BYTES = 10_000_000
#: Largest JSON (non-Lines) document read whole.
MAX_JSON_BYTES = 100_000_000

_decoder = msgspec.json.Decoder(float_hook=Decimal)
_encoder = msgspec.json.Encoder(decimal_format="number")


@dataclass
class Incoming:
    """One record as read, or the reason it could not be read; `line` is where it starts."""

    record: object
    line: int
    error: dict[str, Any] | None = None


def decode_json(data: bytes, line: int = 1) -> object:
    """Decode JSON with exact numbers; raises ValueError with line and column in the message."""
    try:
        return _decoder.decode(data)
    except msgspec.DecodeError as error:
        raise ValueError(_json_error(data, str(error), line)) from None
    except RecursionError:
        raise ValueError(_("line {line}: the JSON is nested too deeply", line=line)) from None


#: msgspec's words for a malformed document, in the reader's language.
_JSON_PROBLEMS = {
    "invalid character": N_("invalid character"),
    "trailing characters": N_("text after the end of the JSON"),
    "Input data was truncated": N_("the JSON ends too early (a bracket, brace or quote is not closed)"),
    "trailing comma in object": N_("a comma after the last field of an object"),
    "trailing comma in array": N_("a comma after the last item of a list"),
    "expected ':'": N_("expected ':'"),
    "expected ',' or '}'": N_("expected ',' or '}'"),
    "expected ',' or ']'": N_("expected ',' or ']'"),
    "object keys must be strings": N_("object keys must be text in double quotes"),
}


class DuplicateKeyError(ValueError):
    """A JSON object with the same key twice: which one counts is not for the reader to guess."""

    def __init__(self, pointer: str, key: str):
        from engine.i18n import _

        self.pointer, self.key = pointer, key
        self.every = [self]
        super().__init__(_("the key '{key}' appears twice in the same object; keep one", key=key))


def decode_input(data: bytes, line: int = 1) -> object:
    """decode_json for submitted data (records, request bodies): a duplicate key is refused, with
    the JSON pointer of the object that repeats it (DuplicateKeyError)."""
    decoded = decode_json(data, line)
    check_unique_keys(data, decoded)
    return decoded


def check_unique_keys(data: bytes, decoded: object) -> None:
    """Raise DuplicateKeyError when `data` repeats a key in an object. Cheap in the usual case:
    every colon outside strings follows a key, so when the colons of the text, less those inside
    decoded strings, equal the keys decoded, no key was repeated; otherwise the text is read
    again, slowly, to find the pointer (escaped colons land here too, and are then cleared)."""
    colons = data.count(b":")
    if not colons:
        return
    keys, inside = _keys_and_colons(decoded)
    if colons - inside == keys:
        return
    import json

    found: list[tuple[str, str]] = []

    def pairs(items: list[tuple[str, Any]]) -> _Object:
        obj = _Object(items)
        if len(obj) != len(items):
            seen: set[str] = set()
            obj.repeated = next(k for k, _v in items if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        return obj

    try:
        document = json.loads(data, object_pairs_hook=pairs, parse_float=str, parse_int=str, parse_constant=str)
    except (ValueError, RecursionError):
        return  # what msgspec read, json cannot: no pointer to give
    _repeated(document, "", found)
    if found:
        error = DuplicateKeyError(*found[0])
        error.every = [DuplicateKeyError(*each) for each in found]
        raise error


class _Object(dict[str, Any]):
    repeated: str | None = None


def _keys_and_colons(value: object) -> tuple[int, int]:
    """(keys in every object, colons inside every decoded string)."""
    keys = colons = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            keys += len(item)
            for key, inner in item.items():
                colons += key.count(":")
                if isinstance(inner, str):
                    colons += inner.count(":")
                elif isinstance(inner, (dict, list)):
                    stack.append(inner)
        elif isinstance(item, list):
            for inner in item:
                if isinstance(inner, str):
                    colons += inner.count(":")
                elif isinstance(inner, (dict, list)):
                    stack.append(inner)
    return keys, colons


def _repeated(value: object, pointer: str, found: list[tuple[str, str]]) -> None:
    """(pointer to the repeated key, the key) of each object that repeats one, in document order."""
    stack = [(value, pointer)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, _Object):
            if item.repeated is not None:
                found.append((f"{where}/{_escape(item.repeated)}", item.repeated))
            stack.extend(reversed([(inner, f"{where}/{_escape(key)}") for key, inner in item.items()]))
        elif isinstance(item, list):
            stack.extend(reversed([(inner, f"{where}/{k}") for k, inner in enumerate(item)]))


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _json_error(data: bytes, message: str, first_line: int) -> str:
    match = re.search(r"byte (\d+)", message)
    text = message.replace("JSON is malformed: ", "")
    problem = re.sub(r" \(byte \d+\)", "", text)
    text = text.replace(problem, _(_JSON_PROBLEMS[problem])) if problem in _JSON_PROBLEMS else text
    if not match:
        return _("line {line}: {problem}", line=first_line, problem=text)
    offset = int(match.group(1))
    before = data[:offset]
    line = first_line + before.count(b"\n")
    column = offset - (before.rfind(b"\n") + 1) + 1
    hint = ""
    if data[offset : offset + 3] in (b"NaN", b"Inf") or data[offset : offset + 4] == b"-Inf":
        hint = " " + _("(NaN and Infinity are not numbers; give a finite number)")
    text = re.sub(r" \(byte \d+\)", "", text)
    return _("line {line}, column {column}: {problem}", line=line, column=column, problem=text + hint)


def detect_format(name: str, head: bytes = b"") -> str:
    lower = name.lower()
    if lower.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    if lower.endswith(".json"):
        return "json"
    stripped = head.lstrip()
    if stripped.startswith(b"["):
        return "json"
    return "jsonl"


def read_records(stream: IO[bytes], fmt: str, policy: Policy | None = None) -> Iterator[Incoming]:
    """Records from a binary stream in the given format ('json', 'jsonl' or 'csv')."""
    if fmt == "jsonl":
        yield from _read_jsonl(stream)
    elif fmt == "json":
        yield from _read_json(stream)
    elif fmt == "csv":
        yield from _read_csv(stream, policy)
    else:
        raise ValueError(f"unknown input format {fmt!r}")


def _read_jsonl(stream: IO[bytes]) -> Iterator[Incoming]:
    for number, raw in enumerate(stream, start=1):
        if len(raw) > MAX_LINE_BYTES:
            yield Incoming(
                None,
                number,
                _error("too_large", _("line {line} is over {limit} bytes", line=number, limit=f"{MAX_LINE_BYTES:,}")),
            )
            continue
        if not raw.strip():
            continue
        try:
            yield Incoming(decode_input(raw, number), number)
        except DuplicateKeyError as error:
            yield Incoming(None, number, duplicate_error(error))
        except ValueError as error:
            yield Incoming(None, number, _error("json", str(error)))


def _read_json(stream: IO[bytes]) -> Iterator[Incoming]:
    data = stream.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        yield Incoming(
            None,
            1,
            _error("too_large", _("a JSON document over {limit} bytes; use JSON Lines", limit=f"{MAX_JSON_BYTES:,}")),
        )
        return
    try:
        document = decode_json(data)
    except ValueError as error:
        yield Incoming(None, 1, _error("json", str(error)))
        return
    try:
        check_unique_keys(data, document)
    except DuplicateKeyError as error:
        if not isinstance(document, list):
            yield Incoming(None, 1, duplicate_error(error))
            return
        for each in error.every:  # only the records that repeat a key are refused
            at, _sep, inner = each.pointer[1:].partition("/")
            if not isinstance(document[int(at)], DuplicateKeyError):
                document[int(at)] = DuplicateKeyError("/" + inner, each.key)
    if isinstance(document, list):
        for index, record in enumerate(document):
            if isinstance(record, DuplicateKeyError):
                yield Incoming(None, index + 1, duplicate_error(record))
                continue
            yield Incoming(record, index + 1)
    else:
        yield Incoming(document, 1)


def _read_csv(stream: IO[bytes], policy: Policy | None) -> Iterator[Incoming]:
    """CSV as engine.evaluate.tabular reads it (encoding, delimiter and decimal mark detected); a row that
    cannot be read is one error, placed at its line and column, and the rows after it are read."""
    for row in read_csv(stream, policy):
        if row.record is not None:
            yield Incoming(row.record, row.row)
        else:
            first = row.errors[0]
            where = (
                _("line {line}, column {column} ({header})", line=row.row, column=first.column, header=first.header)
                if first.column
                else _("line {line}", line=row.row)
            )
            yield Incoming(
                None, row.row, {"path": first.path, "code": first.code, "message": f"{where}: {first.message}"}
            )


def duplicate_error(error: DuplicateKeyError) -> dict[str, Any]:
    """The record error for a repeated key, at its pointer in the record."""
    return {"path": error.pointer, "code": "duplicate_key", "message": str(error)}


def _error(code: str, message: str) -> dict[str, Any]:
    return {"path": "", "code": code, "message": message}


# Writing ------------------------------------------------------------------------------------


def jsonable(value: object) -> Any:
    """Result data -> JSON-ready data: exact decimals for numbers, plain lists and objects."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        return value  # only from engine.evaluate.kernel: the nearest double to an exact decimal of <= 15 digits
    if isinstance(value, Fraction):
        # format_number strips trailing zeros as text: Decimal.normalize() would round to 28 digits
        return int(value) if value.denominator == 1 else Decimal(format_number(value))
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, TargetRange):
        return [jsonable(value[0]), jsonable(value[1])]
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Item):
        return {k: jsonable(v) for k, v in value.fields.items() if v is not MISSING}
    if value is MISSING or value is NOT_APPLICABLE:
        return None
    if isinstance(value, Decimal):
        return value
    return str(value)


def encode(value: object) -> bytes:
    return _encoder.encode(_plain_decimals(jsonable(value)))


def _plain_decimals(value: Any) -> Any:
    """Decimals written without exponents (1E+2 -> 100)."""
    if isinstance(value, Decimal):
        return Decimal(format(value, "f"))
    if isinstance(value, dict):
        return {k: _plain_decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_decimals(v) for v in value]
    return value


class ResultWriter:
    """Writes results as they come: JSON Lines, a JSON array, or CSV with one column per output."""

    def __init__(self, stream: IO[bytes], fmt: str, output_names: list[str]):
        self.stream, self.fmt, self.count = stream, fmt, 0
        self.columns = output_names
        if fmt == "json":
            stream.write(b"[")
        elif fmt == "csv":
            self._text = io.TextIOWrapper(stream, encoding="utf-8", newline="", write_through=True)
            self._text.write(csv_line(["id", *output_names, "errors"]))

    def write(self, result: dict[str, Any]) -> None:
        if self.fmt == "jsonl":
            self.stream.write(encode(result) + b"\n")
        elif self.fmt == "json":
            self.stream.write((b"\n" if self.count == 0 else b",\n") + encode(result))
        else:
            outputs = jsonable(result.get("outputs", {}))
            errors = neutralise("; ".join(f"{e['path'] or '/'}: {e['message']}" for e in result.get("errors", [])))
            self._text.write(
                csv_line([_csv_text(result.get("id")), *(_csv_text(outputs.get(c)) for c in self.columns), errors])
            )
        self.count += 1

    def close(self) -> None:
        if self.fmt == "json":
            self.stream.write(b"\n]\n" if self.count else b"]\n")
        elif self.fmt == "csv":
            self._text.flush()
            self._text.detach()
        self.stream.flush()


def csv_line(fields: list[str]) -> str:
    """One CSV line, fields quoted when they hold a comma, a quote or a line break. csv.writer
    leaves a lone carriage return unquoted when lines end in "\n", which splits the row."""
    return (
        ",".join(
            '"' + field.replace('"', '""') + '"' if any(c in field for c in ',"\r\n') else field for field in fields
        )
        + "\n"
    )


def _csv_text(value: object) -> str:
    """A cell's text; numbers as numerals (a negative number stays a number), other text made inert
    for spreadsheets (engine.evaluate.tabular.neutralise)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (dict, list)):
        return neutralise(encode(value).decode("utf-8"))
    return neutralise(str(value))
