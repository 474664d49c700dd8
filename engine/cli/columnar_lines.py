"""JSON Lines through the columns: a chunk of lines decoded, evaluated at once, written in bulk.

Not the default for JSON Lines (`kinerja eval --columns` asks for it): measured on this machine,
turning decoded JSON objects into columns costs more Python per record than the scalar kernel
spends on the whole record, so the columns pay off from columnar files (Parquet, Arrow), where
the reading is done in C++ (docs/performance.md has the figures).

engine.api.LineEvaluator turns one line into one result line; ChunkEvaluator does the same for a
chunk (batch._evaluate_chunk calls `chunk` when the evaluator has it), so `kinerja eval` keeps
its streaming, its worker processes and its output byte for byte. A line the columns do not
take (unreadable, a repeated key, another policy version, a record they cannot trust) goes
through LineEvaluator.line, the scalar path, in its place.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import msgspec

from engine.api import LineEvaluator
from engine.evaluate.batch import encode_fast
from engine.evaluate.columns import columns
from engine.evaluate.io import MAX_LINE_BYTES, DuplicateKeyError, check_unique_keys
from engine.evaluate.kernel import decode_pairs

_exact_decoder = msgspec.json.Decoder(float_hook=Decimal)
_encoder = msgspec.json.Encoder(decimal_format="number")


@dataclass
class Counts:
    """Which path evaluated how many records (for --explain-engine)."""

    columns: int = 0
    scalar: int = 0


def without_values(line: bytes) -> bytes:
    """A result line less its audit `values` (numbers re-read exactly, so written back the same)."""
    result = _exact_decoder.decode(line)
    if isinstance(result, dict) and "values" in result:
        del result["values"]
        return _encoder.encode(result) + b"\n"
    return line


class ChunkEvaluator(LineEvaluator):
    """LineEvaluator with a columnar `chunk`; `with_values=False` leaves the audit values out."""

    def __init__(self, choose, default, with_values: bool = True, use_columns: bool = True):
        super().__init__(choose, default)
        self.with_values = with_values
        self.counts = Counts()
        self.use_columns = use_columns
        self.columns = columns(default) if use_columns else None  # NumPy only when asked for

    def explain(self) -> str:
        """One line for --explain-engine: which path evaluated how many records."""
        from engine.i18n import _

        if not self.use_columns:
            return _("engine: scalar path (kernel or exact) for {scalar} record(s)", scalar=self.counts.scalar)
        if not self.columns.usable:
            return _(
                "engine: scalar path (kernel or exact) for {scalar} record(s); the columns do not take this "
                "policy: {reason}",
                scalar=self.counts.scalar,
                reason=self.columns.reason,
            )
        return _(
            "engine: columns for {columns} record(s), scalar path (kernel or exact) for {scalar}",
            columns=self.counts.columns,
            scalar=self.counts.scalar,
        )

    def line(self, raw: bytes, number: int) -> tuple[bytes, bool]:
        encoded, failed = super().line(raw, number)
        self.counts.scalar += 1
        return (encoded if self.with_values or failed else without_values(encoded)), failed

    def chunk(self, first: int, lines: list[bytes]) -> tuple[bytes, int, int, int]:
        """(the encoded results, records, records with errors, bytes read), as batch._evaluate_chunk."""
        out: list = [None] * len(lines)
        taken, records, places = [], 0, []
        size = 0
        usable = self.use_columns and self.columns.usable
        for offset, raw in enumerate(lines):
            size += len(raw)
            if not raw.strip():
                out[offset] = b""
                continue
            records += 1
            if not usable or len(raw) > MAX_LINE_BYTES:
                continue
            record = decode_pairs(raw)
            if record.__class__ is not dict:
                continue
            try:
                check_unique_keys(raw, record)
            except DuplicateKeyError:
                continue
            if "periode" in record and self.choose(record) is not self.default:
                continue
            taken.append(record)
            places.append(offset)
        if taken:
            outcome = self.columns.evaluate_records(taken, self.with_values)
            for offset, result in zip(places, outcome.results):
                if result is not None:
                    out[offset] = encode_fast(result) + b"\n"
            self.counts.columns += outcome.columns
        bad = 0
        for offset, raw in enumerate(lines):
            if out[offset] is None:
                out[offset], failed = self.line(raw, first + offset)
                bad += failed
        return b"".join(out), records, bad, size
