"""Parquet and Arrow IPC files for `kinerja eval`: records read as columns, results written as columns.

Reading: each input is a column named as the policy's input (a record as a struct, a list input
as list<struct>), `id` and `periode` beside them. Numbers are read exactly: integer columns as
they are, DECIMAL columns from their unscaled integers, text columns as decimal text. A float
column is refused before anything is evaluated, with a message that says to use DECIMAL or text:
a binary float has already lost the number the user typed (0.1 is not 1/10), and guessing it back
from its shortest repr would make a result depend on how the file was written. A null is a field
not given (Parquet has no "absent"). Files are read one record batch at a time (constant memory).

A batch becomes a columns.frame.Frame without building Python records; the few rows it refuses
are rebuilt as records (Decimals for numbers) and go to the scalar path, which explains them.

Writing (.parquet or .arrow output): one row per record: `line` (its row number in the input,
from 1), `id` as text, one text column per output holding its exact JSON value (a decimal never
passes through float), `values` and `errors` as JSON text (`values` absent with --outputs-only).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import msgspec
import numpy as np
import pyarrow as pa

from engine.evaluate.columns.frame import MAX_INPUT, Frame, Leaf, number_bounds, ranges
from engine.evaluate.columns.pairs import Pairs
from engine.evaluate.records import MAX_LIST_ITEMS, MAX_TEXT_LENGTH, RECORD_META
from engine.i18n import _
from engine.policy.model import InputSpec, Policy

#: Records per record batch read from a file.
BATCH_ROWS = 32_768
COLUMNAR_SUFFIXES = (".parquet", ".pq", ".arrow", ".feather", ".ipc")
_encoder = msgspec.json.Encoder(decimal_format="number")


class ColumnarFileError(ValueError):
    """The file cannot be read as the policy's records (the message says why and where)."""


def is_columnar(name: str, fmt: str | None = None) -> bool:
    return fmt in ("parquet", "arrow") or fmt is None and name.lower().endswith(COLUMNAR_SUFFIXES)


def batches(path: str, rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """The file's record batches, read one at a time."""
    if path.lower().endswith((".parquet", ".pq")):
        import pyarrow.parquet as pq

        yield from pq.ParquetFile(path).iter_batches(batch_size=rows)
        return
    with pa.memory_map(path) as source:
        try:
            reader = pa.ipc.open_file(source)
            for index in range(reader.num_record_batches):
                yield reader.get_batch(index)
        except pa.ArrowInvalid:
            source.seek(0)
            yield from pa.ipc.open_stream(source)


def check_schema(policy: Policy, schema: pa.Schema) -> None:
    """Refuse float columns where the policy reads numbers (see the module docstring)."""
    for spec in policy.inputs.values():
        if spec.name in schema.names:
            _check_type(spec, schema.field(spec.name).type, spec.name)


def _check_type(spec: InputSpec, kind: pa.DataType, where: str) -> None:
    if spec.type in ("number", "integer") and pa.types.is_floating(kind):
        raise ColumnarFileError(
            _(
                "column {column} holds binary floats, which cannot say a decimal number exactly; "
                "write it as DECIMAL (for example decimal128(18, 4)) or as text",
                column=where,
            )
        )
    if spec.type == "record" and pa.types.is_struct(kind):
        for index in range(kind.num_fields):
            child = kind.field(index)
            if child.name in spec.fields:
                _check_type(spec.fields[child.name], child.type, f"{where}.{child.name}")
    if spec.type == "list" and (pa.types.is_list(kind) or pa.types.is_large_list(kind)) and spec.items is not None:
        _check_type(spec.items, kind.value_type, f"{where}[]")


# Batch -> Frame ---------------------------------------------------------------------------------


def frame_of(policy: Policy, batch: pa.RecordBatch) -> Frame:
    size = batch.num_rows
    refused = np.zeros(size, dtype=bool)
    known = set(policy.inputs) | set(RECORD_META)
    for name in batch.schema.names:  # an unknown field given on a row: the scalar path names it
        if name not in known:
            refused |= np.asarray(batch.column(name).is_valid())
    if "periode" in batch.schema.names and "periode" not in policy.inputs:
        refused |= np.asarray(batch.column("periode").is_valid())  # the version is chosen per record
    ids = batch.column("id").to_pylist() if "id" in batch.schema.names else [None] * size
    if "id" in batch.schema.names:
        from engine.evaluate.columns.frame import _good_id

        refused |= np.fromiter((x is not None and not _good_id(x) for x in ids), dtype=bool, count=size)
    frame = Frame(size, refused, ids)
    owner = np.arange(size)
    for spec in policy.inputs.values():
        column = batch.column(spec.name) if spec.name in batch.schema.names else pa.nulls(size)
        _read(frame, spec, column, (spec.name,), owner, np.ones(size, dtype=bool))
    return frame


def _refuse(frame: Frame, wrong: np.ndarray, owner: np.ndarray) -> None:
    if wrong.any():
        frame.refused[owner[wrong]] = True


def _read(frame: Frame, spec: InputSpec, array: pa.Array, path: tuple, owner: np.ndarray, checked: np.ndarray) -> None:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    size = len(array)
    if spec.has_default:  # not given: the default, as the kernel reads it (frame._read)
        from fractions import Fraction

        default = int(spec.default) if isinstance(spec.default, Fraction) else spec.default
        array = pa.array([default] * size) if pa.types.is_null(array.type) else array.fill_null(default)
    there = (
        np.asarray(array.is_valid(), dtype=bool) & checked
        if not pa.types.is_null(array.type)
        else np.zeros(size, dtype=bool)
    )
    if spec.required:
        _refuse(frame, checked & ~there, owner)
    kind, arrow = spec.type, array.type
    if kind in ("number", "integer"):
        p, ok = _pairs(array, spec)
        ok = number_bounds(spec, p, ok)
        _refuse(frame, there & ~ok, owner)
        frame.leaves[path] = Leaf("num", there, pairs=Pairs(np.where(there & ok, p.n, 0), np.where(there & ok, p.d, 1)))
    elif kind == "text":
        if not (pa.types.is_string(arrow) or pa.types.is_large_string(arrow) or pa.types.is_null(arrow)):
            _refuse(frame, there, owner)
            frame.leaves[path] = Leaf("text", there, values=np.full(size, "", dtype=object))
            return
        values = np.empty(size, dtype=object)
        values[:] = array.to_pylist()
        allowed = frozenset(v for v in spec.enum if isinstance(v, str)) if spec.enum is not None else None
        ok = np.fromiter(
            (v is not None and len(v) <= MAX_TEXT_LENGTH and (allowed is None or v in allowed) for v in values),
            dtype=bool,
            count=size,
        )
        _refuse(frame, there & ~ok, owner)
        values[~(there & ok)] = ""
        frame.leaves[path] = Leaf("text", there, values=values)
    elif kind == "boolean":
        if not pa.types.is_boolean(arrow):
            _refuse(frame, there, owner)
            frame.leaves[path] = Leaf("bool", there, values=np.zeros(size, dtype=bool))
            return
        frame.leaves[path] = Leaf("bool", there, values=np.asarray(array.fill_null(False), dtype=bool))
    elif kind == "record":
        if not pa.types.is_struct(arrow):
            _refuse(frame, there, owner)
            frame.leaves[path] = Leaf("rec", np.zeros(size, dtype=bool))
            return
        children = dict(zip((arrow.field(i).name for i in range(arrow.num_fields)), array.flatten()))
        for name, child in children.items():
            if name not in spec.fields:
                _refuse(frame, there & np.asarray(child.is_valid(), dtype=bool), owner)
        frame.leaves[path] = Leaf("rec", there)
        for child_spec in spec.fields.values():
            child = children.get(child_spec.name, pa.nulls(size))
            _read(frame, child_spec, child, path + (child_spec.name,), owner, there)
    elif kind == "list":
        if not (pa.types.is_list(arrow) or pa.types.is_large_list(arrow)) or not pa.types.is_struct(arrow.value_type):
            _refuse(frame, there, owner)
            there = np.zeros(size, dtype=bool)
            array = pa.array([[]] * size, type=pa.list_(pa.struct([])))
        raw = np.asarray(array.offsets, dtype=np.int64)
        lengths = np.diff(raw)
        high = spec.max_items if spec.max_items is not None else MAX_LIST_ITEMS
        ok = (lengths >= (spec.min_items or 0)) & (lengths <= high)
        _refuse(frame, there & ~ok, owner)
        keep = there & ok
        lengths = np.where(keep, lengths, 0)
        offsets = np.zeros(size + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        frame.offsets[spec.name] = offsets
        frame.leaves[path] = Leaf("list", keep)
        take = ranges(raw[:-1][keep], raw[1:][keep])
        items = array.values.take(pa.array(take.astype(np.int64))) if len(take) else array.values.slice(0, 0)
        item_owner = np.repeat(owner, lengths)
        item_valid = np.asarray(items.is_valid(), dtype=bool) if len(items) else np.zeros(0, dtype=bool)
        _refuse(frame, ~item_valid, item_owner)
        struct = items.type
        children = (
            dict(zip((struct.field(i).name for i in range(struct.num_fields)), items.flatten()))
            if len(items)
            else {struct.field(i).name: pa.nulls(0, struct.field(i).type) for i in range(struct.num_fields)}
        )
        for name, child in children.items():
            if name not in spec.items.fields:
                _refuse(frame, np.asarray(child.is_valid(), dtype=bool), item_owner)
        for child_spec in spec.items.fields.values():
            child = children.get(child_spec.name, pa.nulls(len(items)))
            _read(frame, child_spec, child, (spec.name, "@", child_spec.name), item_owner, item_valid)


def _pairs(array: pa.Array, spec: InputSpec) -> tuple[Pairs, np.ndarray]:
    """A number column as exact pairs, and where it could be read (ints, DECIMAL, decimal text)."""
    size = len(array)
    kind = array.type
    valid = np.asarray(array.is_valid(), dtype=bool) if not pa.types.is_null(kind) else np.zeros(size, dtype=bool)
    if pa.types.is_integer(kind):
        n = np.asarray(array.cast(pa.int64()).fill_null(0), dtype=np.int64)
        ok = valid & (np.abs(n) <= MAX_INPUT)
        return Pairs(np.where(ok, n, 0), np.ones(size, dtype=np.int64)), ok
    if pa.types.is_decimal128(kind) and spec.type == "number":
        scale = kind.scale
        words = np.frombuffer(array.buffers()[1], dtype=np.int64)[2 * array.offset : 2 * (array.offset + size)]
        low, high = words[0::2], words[1::2]
        fits = high == (low >> 63)  # the 128-bit value is its low 64 bits, sign-extended
        n = np.where(fits, low, 0)
        if 0 <= scale <= 15:
            ok = valid & fits & (np.abs(n) < MAX_INPUT)
            n = np.where(ok, n, 0)
            g = np.gcd(n, np.int64(10**scale))  # reduced, as the JSON reader's pairs are: keeps products small
            return Pairs(n // g, np.int64(10**scale) // g), ok
        return Pairs(np.zeros(size, np.int64), np.ones(size, np.int64)), np.zeros(size, dtype=bool)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        from engine.evaluate.kernel.pairs import LONG as _LONG
        from engine.evaluate.kernel.pairs import _Pairs

        hook = _Pairs()
        n = np.zeros(size, dtype=np.int64)
        d = np.ones(size, dtype=np.int64)
        ok = np.zeros(size, dtype=bool)
        for index, text in enumerate(array.to_pylist()):
            pair = _text_pair(text, hook, spec.type == "integer")
            if pair is not None and pair is not _LONG:
                n[index], d[index] = pair
                ok[index] = True
        return Pairs(n, d), ok & valid
    return Pairs(np.zeros(size, np.int64), np.ones(size, np.int64)), np.zeros(size, dtype=bool)


def _text_pair(text, hook, integer: bool):
    """Decimal text (digits, one '.', a sign) as the JSON reader's pair; None if it is not one."""
    if text is None or not 0 < len(text) <= 17:
        return None
    body = text[1:] if text[0] == "-" else text
    whole, _dot, fraction = body.partition(".")
    if not whole.isdigit() or not whole.isascii() or (_dot and not (fraction.isdigit() and fraction.isascii())):
        return None
    if integer:
        return None if _dot else (int(text), 1)
    return hook[text] if _dot else (int(text), 1)


# Refused rows as records for the scalar path ------------------------------------------------------


def records_of(policy: Policy, batch: pa.RecordBatch, rows: list[int]) -> list:
    """The given rows as the records the scalar path reads: nulls left out, numbers as Decimals."""
    if not rows:
        return []
    picked = batch.take(pa.array(rows, type=pa.int64())).to_pylist()
    return [_plain(record, policy.inputs) for record in picked]


def _plain(value, specs: dict | None):
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if item is None:
                continue
            spec = specs.get(key) if specs is not None else None
            out[key] = _convert(item, spec)
        return out
    return value


def _convert(value, spec: InputSpec | None):
    if isinstance(value, Decimal):
        # DECIMAL(p, s) pads to s places; a message quoting the number shows it as a person wrote it
        return int(value) if value == value.to_integral_value() else Decimal(format(value.normalize(), "f"))
    if spec is None:
        return _plain(value, None) if isinstance(value, dict) else value
    if spec.type in ("number", "integer") and isinstance(value, str):
        from engine.evaluate.kernel.pairs import _Pairs

        pair = _text_pair(value, _Pairs(), spec.type == "integer")
        if pair is not None and pair.__class__ is tuple:
            return pair[0] if pair[1] == 1 else Decimal(value)
        return value
    if spec.type == "record":
        return _plain(value, spec.fields) if isinstance(value, dict) else value
    if spec.type == "list" and isinstance(value, list) and spec.items is not None:
        return [_plain(item, spec.items.fields) if isinstance(item, dict) else item for item in value]
    return value


# Evaluation of a file -------------------------------------------------------------------------------


def result_lines(results: list, scalar_rows=None) -> bytes:
    """Results as JSON Lines, as `kinerja eval` writes them: the columns' results hold only ints,
    exact floats and plain Decimals (as the kernel's), so they skip io.encode's conversions."""
    from engine.evaluate.batch import encode_fast
    from engine.evaluate.io import encode

    if scalar_rows is None:
        return b"".join(encode(r) + b"\n" for r in results)
    return b"".join((encode(r) if i in scalar_rows else encode_fast(r)) + b"\n" for i, r in enumerate(results))


def result_table(
    results: list, first_row: int, output_names: list[str], with_values: bool, scalar_rows=None
) -> pa.Table:
    """Results as columns (module docstring): exact JSON text, never floats. Rows not in
    `scalar_rows` (None: every row) hold only the kernel's plain numbers and skip io.encode."""
    from engine.evaluate.batch import encode_fast
    from engine.evaluate.io import encode

    def texts(values):
        return pa.array(
            [
                None
                if v is None
                else (encode(v) if scalar_rows is None or i in scalar_rows else encode_fast(v)).decode("utf-8")
                for i, v in enumerate(values)
            ],
            type=pa.string(),
        )

    columns = {
        "line": pa.array(range(first_row, first_row + len(results)), type=pa.int64()),
        "id": pa.array([None if r.get("id") is None else str(r.get("id")) for r in results], type=pa.string()),
    }
    for name in output_names:
        columns[name] = texts([r.get("outputs", {}).get(name) for r in results])
    if with_values:
        columns["values"] = texts([r.get("values") for r in results])
    columns["errors"] = texts([r.get("errors") for r in results])
    return pa.table(columns)


def writer_for(path: str, schema: pa.Schema):
    if path.lower().endswith((".parquet", ".pq")):
        import pyarrow.parquet as pq

        return pq.ParquetWriter(path, schema)
    return pa.ipc.new_file(path, schema)


# Records -> a columnar file (tests, the bench, and anyone converting JSON Lines) ----------------------

#: Decimal places of the DECIMAL columns that table_from_records writes.
WRITE_SCALE = 6


def arrow_type(spec: InputSpec) -> pa.DataType:
    """The column type of an input: numbers as DECIMAL (exact), never float."""
    if spec.type == "number":
        return pa.decimal128(18, WRITE_SCALE)
    if spec.type == "integer":
        return pa.int64()
    if spec.type == "boolean":
        return pa.bool_()
    if spec.type == "record":
        return pa.struct([pa.field(c.name, arrow_type(c)) for c in spec.fields.values()])
    if spec.type == "list" and spec.items is not None:
        return pa.list_(arrow_type(spec.items))
    return pa.string()


def table_from_records(policy: Policy, records: list) -> pa.Table:
    """Records (numbers as Decimal or int, as engine.evaluate.io reads them) as a table whose
    schema follows the policy's inputs. A number with more places than WRITE_SCALE is refused."""
    fields = [pa.field("id", pa.string())] + [pa.field(s.name, arrow_type(s)) for s in policy.inputs.values()]
    columns = {"id": [None if r.get("id") is None else str(r.get("id")) for r in records]}
    for spec in policy.inputs.values():
        columns[spec.name] = [_cell(r.get(spec.name), spec) for r in records]
    return pa.table(columns, schema=pa.schema(fields))


def _cell(value, spec: InputSpec):
    if value is None:
        return None
    if spec.type == "number":
        number = Decimal(value) if isinstance(value, int) else value
        if number != number.quantize(Decimal(1).scaleb(-WRITE_SCALE)):
            raise ValueError(f"{value} has more than {WRITE_SCALE} decimal places")
        return number
    if spec.type == "record":
        return {c.name: _cell(value.get(c.name), c) for c in spec.fields.values()}
    if spec.type == "list":
        return [_cell(item, spec.items) for item in value]
    return value
