"""Reading records (JSON, JSON Lines, CSV) and writing results (JSON Lines, JSON, CSV).

Numbers are decoded from their text as Decimals (msgspec's float_hook), never as binary floats,
and written back as exact decimal numerals. Input is streamed record by record, so a file of
any size is read in constant memory (JSON arrays excepted: they are read whole).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import IO, Iterator

import msgspec

from .i18n import N_, _
from .numbers import format_number
from .runtime import MISSING, NOT_APPLICABLE, Item, TargetRange

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
    error: dict | None = None


def decode_json(data: bytes, line: int = 1) -> object:
    """Decode JSON with exact numbers; raises ValueError with line and column in the message."""
    try:
        return _decoder.decode(data)
    except msgspec.DecodeError as error:
        raise ValueError(_json_error(data, str(error), line)) from None
    except RecursionError:
        raise ValueError(_("line {line}: the JSON is nested too deeply", line=line)) from None


#: msgspec's words for a malformed document, in the reader's language.
_JSON_PROBLEMS = {"invalid character": N_("invalid character"), "trailing characters": N_("text after the end of the JSON"),
                  "Input data was truncated": N_("the JSON ends too early (a bracket, brace or quote is not closed)"),
                  "trailing comma in object": N_("a comma after the last field of an object"),
                  "trailing comma in array": N_("a comma after the last item of a list"),
                  "expected ':'": N_("expected ':'"), "expected ',' or '}'": N_("expected ',' or '}'"),
                  "expected ',' or ']'": N_("expected ',' or ']'"),
                  "object keys must be strings": N_("object keys must be text in double quotes")}


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
    if data[offset:offset + 3] in (b"NaN", b"Inf") or data[offset:offset + 4] == b"-Inf":
        hint = " " + _("(NaN and Infinity are not numbers; give a finite number)")
    text = re.sub(r" \(byte \d+\)", "", text)
    return _("line {line}, column {column}: {problem}", line=line, column=column, problem=text + hint)


def detect_format(name: str, head: bytes = b"") -> str:
    lower = name.lower()
    if lower.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith(".json"):
        return "json"
    stripped = head.lstrip()
    if stripped.startswith(b"["):
        return "json"
    return "jsonl"


def read_records(stream: IO[bytes], fmt: str, policy=None) -> Iterator[Incoming]:
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
            yield Incoming(None, number, _error("too_large", _("line {line} is over {limit} bytes", line=number,
                                                                     limit=f"{MAX_LINE_BYTES:,}")))
            continue
        if not raw.strip():
            continue
        try:
            yield Incoming(decode_json(raw, number), number)
        except ValueError as error:
            yield Incoming(None, number, _error("json", str(error)))


def _read_json(stream: IO[bytes]) -> Iterator[Incoming]:
    data = stream.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        yield Incoming(None, 1, _error("too_large", _("a JSON document over {limit} bytes; use JSON Lines",
                                                                limit=f"{MAX_JSON_BYTES:,}")))
        return
    try:
        document = decode_json(data)
    except ValueError as error:
        yield Incoming(None, 1, _error("json", str(error)))
        return
    if isinstance(document, list):
        for index, record in enumerate(document):
            yield Incoming(record, index + 1)
    else:
        yield Incoming(document, 1)


def _read_csv(stream: IO[bytes], policy) -> Iterator[Incoming]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        return
    except (csv.Error, UnicodeDecodeError) as error:
        yield Incoming(None, 1, _error("csv", _("line {line}: {problem}", line=1, problem=error)))
        return
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as error:
            yield Incoming(None, reader.line_num, _error("csv", _("line {line}: {problem}", line=reader.line_num, problem=error)))
            return
        if not any(cell.strip() for cell in row):
            continue
        record: dict = {}
        for column, cell in zip(header, row):
            if cell.strip() == "":
                continue  # an empty cell is an absent value, never zero
            _put(record, column.strip().split("."), _cell_value(cell.strip(), column.strip(), policy))
        yield Incoming(_lists(record), reader.line_num)


def _put(record: dict, parts: list[str], value) -> None:
    node = record
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            return
    node[parts[-1]] = value


def _lists(node):
    """Turn mappings keyed 0, 1, 2 ... (from headers such as kegiatan.0.waktu.target) into lists."""
    if isinstance(node, dict):
        converted = {k: _lists(v) for k, v in node.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    return node


_RANGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*$")


def _cell_value(cell: str, column: str, policy):
    """A CSV cell typed by the policy's input declaration (text where the policy says text)."""
    kind = _column_type(column, policy)
    if kind in (None, "text"):
        return cell  # ids (an 18-digit NIP, '007') and undeclared columns stay as written
    if kind == "boolean":
        return {"true": True, "false": False}.get(cell.lower(), cell)
    if kind == "number_or_range":
        match = _RANGE.match(cell)
        if match:
            return [Decimal(match.group(1)), Decimal(match.group(2))]
    try:
        number = Decimal(cell)
    except InvalidOperation:
        return cell  # the schema reports "must be a number, got text"
    if not number.is_finite():
        return cell
    return int(number) if re.fullmatch(r"-?\d+", cell) else number


def _column_type(column: str, policy) -> str | None:
    if policy is None:
        return None
    spec = None
    for part in column.split("."):
        if spec is None:
            spec = policy.inputs.get(part)
        elif spec.type == "list" and part.isdigit():
            spec = spec.items
        elif spec.type == "record":
            spec = spec.fields.get(part)
        else:
            return None
        if spec is None:
            return None
    return spec.type if spec is not None else None


def _error(code: str, message: str) -> dict:
    return {"path": "", "code": code, "message": message}


# Writing ------------------------------------------------------------------------------------

def jsonable(value):
    """Result data -> JSON-ready data: exact decimals for numbers, plain lists and objects."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        return value  # only from engine.fast: the nearest double to an exact decimal of <= 15 digits
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


def encode(value) -> bytes:
    return _encoder.encode(_plain_decimals(jsonable(value)))


def _plain_decimals(value):
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
            self._csv = csv.writer(self._text, lineterminator="\n")
            self._csv.writerow(["id", *output_names, "errors"])

    def write(self, result: dict) -> None:
        if self.fmt == "jsonl":
            self.stream.write(encode(result) + b"\n")
        elif self.fmt == "json":
            self.stream.write((b"\n" if self.count == 0 else b",\n") + encode(result))
        else:
            outputs = jsonable(result.get("outputs", {}))
            errors = "; ".join(f"{e['path'] or '/'}: {e['message']}" for e in result.get("errors", []))
            self._csv.writerow([_csv_text(result.get("id")), *(_csv_text(outputs.get(c)) for c in self.columns), errors])
        self.count += 1

    def close(self) -> None:
        if self.fmt == "json":
            self.stream.write(b"\n]\n" if self.count else b"]\n")
        elif self.fmt == "csv":
            self._text.flush()
            self._text.detach()
        self.stream.flush()


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)
