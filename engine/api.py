"""The facade: the only module that knows the order text -> document -> model -> checks -> compiled
policy -> result, and the one rule of evaluation: the fast kernel decides a record when it can,
else the exact evaluator does (`LoadedPolicy.decide`). The CLI and the HTTP service call these
functions and nothing deeper; engine.evaluate.* never imports this module (tests/test_facade.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO, Any, cast

from engine.diagnostics import Diagnostic, Diagnostics, PolicyError, Position, Severity, capped
from engine.evaluate import batch
from engine.evaluate.batch import encode_fast
from engine.evaluate.exact import CompiledPolicy
from engine.evaluate.io import (
    MAX_LINE_BYTES,
    DuplicateKeyError,
    Incoming,
    check_unique_keys,
    decode_input,
    duplicate_error,
    encode,
)
from engine.evaluate.kernel import FastPolicy, decode_pairs, short_numbers
from engine.evaluate.records import RecordReader
from engine.evaluate.runtime import RecordError, RecordErrors
from engine.i18n import _, language
from engine.lru import LRU
from engine.policy import builder
from engine.policy import checked as checking
from engine.policy import document as policyfile
from engine.policy.checked import CheckedPolicy, MatrixValue, TableValue
from engine.policy.versions import (
    SEPARATOR,
    choose,
    is_file_target,
    parse_period,
    period_error,
    version_error,
    versions_of,
)

#: Checked, compiled policies (each with its kernel) kept in memory, one per file version and language.
MAX_LOADED_POLICIES = 64


@dataclass
class LoadedPolicy:
    """A checked, compiled policy ready to evaluate records."""

    policy: CheckedPolicy
    compiled: CompiledPolicy
    reader: RecordReader
    warnings: list[Diagnostic]

    @property
    def ref(self) -> dict:
        return {"id": self.policy.id, "version": self.policy.version, "hash": self.policy.hash}

    @cached_property
    def kernel(self) -> FastPolicy:
        """The policy's fast exact kernel, generated on first use and kept with the policy (so it
        lives as long as the policy does, in the bounded cache of `load`)."""
        return FastPolicy(self)

    def decide(self, record, pairs=None) -> tuple[dict, bool]:
        """The one rule: (the record's result as `evaluate` gives it without a trace, whether the
        fast kernel decided it). The kernel reads `pairs`, the record as decode_pairs reads its JSON
        text, else the record itself when its numbers are short; anything it hands back goes to
        the exact evaluator, which explains every problem. `record` may be a function that reads
        it, so a line is decoded exactly only when the exact evaluator needs it."""
        if pairs is None and not callable(record) and short_numbers(record):
            pairs = record
        if pairs is not None:
            result = self.kernel.try_fast(pairs)
            if result is not None:
                return result, True
        return evaluate(self, record() if callable(record) else record), False

    def result(self, record, pairs=None) -> dict:
        """The record's result by the one rule (`decide`)."""
        return self.decide(record, pairs)[0]


def check(
    target: str | Path, extra: list[Path] | None = None, extends_ids_only: bool = False
) -> tuple[CheckedPolicy | None, list[Diagnostic]]:
    """Read and check a policy; every diagnostic, sorted. The model is None if it could not be read.

    `extends_ids_only` is for policy text from outside (the HTTP service): its `extends` may only
    name a built-in policy, never a file on the machine."""
    out = Diagnostics()
    try:
        path = policyfile.resolve(str(target), extra)
    except PolicyError as error:
        return None, error.diagnostics
    document = policyfile.read_document(path, out, extra, extends_ids_only)
    if document is None:
        return None, capped(out.sorted())
    draft = builder.build(document, out)
    policy = checking.check(draft, out, run=not any(d.code.startswith(("yaml.", "schema.")) for d in out.errors))
    return policy, capped(out.sorted())


def check_text(
    text: str, name: str = "policy.yaml", extra: list[Path] | None = None
) -> tuple[CheckedPolicy | None, list[Diagnostic]]:
    """`check` for policy text from outside (the HTTP service): read as the file `name`, its
    `extends` naming policies on the search path (and `extra`) by id only, never a file.
    Diagnostics in the text are placed in `name`."""
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "policy.yaml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))  # a lone surrogate is a located yaml error
        policy, diagnostics = check(path, extra, extends_ids_only=True)
    return policy, [
        Diagnostic(Position(name, d.position.line, d.position.column), d.code, d.message, d.hint, d.severity)
        if d.position.file == str(path)
        else d
        for d in diagnostics
    ]


_cache: LRU[tuple[LoadedPolicy, list]] = LRU(MAX_LOADED_POLICIES)


def _signature(path: Path) -> tuple:
    try:
        stat = path.stat()
        return (str(path.resolve()), stat.st_mtime_ns, stat.st_size, os.environ.get("KINERJA_POLICY_PATH", ""))
    except OSError:
        return (str(path), 0, 0, "")


def load(target: str | Path, extra: list[Path] | None = None) -> LoadedPolicy:
    """A checked, compiled policy; raises PolicyError listing every error if it has any.

    Compiled policies are cached per file version (and the versions of the files it extends).
    """
    path = policyfile.resolve(str(target), extra)
    key = (_signature(path), tuple(str(p) for p in extra or ()), language())  # warnings are in one language
    cached = _cache.get(key)
    if cached is not None and all(_signature(Path(f)) == s for f, s in cached[1]):
        return cached[0]
    policy, diagnostics = check(path, extra)
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    if errors or policy is None:
        raise PolicyError(errors or [Diagnostic(Position(str(path)), "policy.read", _("could not read the policy"))])
    loaded = LoadedPolicy(policy, CompiledPolicy(policy), RecordReader(policy), diagnostics)
    files = {origin.position.file for origin in policy.sources.origins.values()} | {str(path)}
    _cache.put(key, (loaded, [(f, _signature(Path(f))) for f in sorted(files)]))
    return loaded


def compiled(policy: CheckedPolicy) -> LoadedPolicy:
    """A policy that `check` passed, compiled to evaluate records (to run its own cases before
    it is published, for example). The caller has seen its diagnostics; none are errors."""
    return LoadedPolicy(policy, CompiledPolicy(policy), RecordReader(policy), [])


def load_document(data: dict, name: str) -> LoadedPolicy:
    """A checked, compiled policy from its merged document (a stored version), not from a file.

    The same schema, model, checks and compiler as `load`, so a stored version evaluates as it
    did when it was stored. `name` stands for the file in diagnostics (the data has no lines);
    the policy's hash is that of `data`, for the caller to compare with the hash it expected.
    Raises PolicyError listing every error.
    """
    from engine.policy.source import SourceMap

    out = Diagnostics()
    sources = SourceMap()
    if not isinstance(data, dict):
        raise PolicyError(
            [Diagnostic(Position(name), "schema.type", _("a policy must be a mapping of keys to values"))]
        )
    document = policyfile.PolicyDocument(
        data, sources, name, [str(data.get("id", name))], policyfile.content_hash(data)
    )
    policyfile._validate_schema(data, sources, name, out)  # as read_document does for a file
    draft = builder.build(document, out)
    policy = checking.check(draft, out, run=not any(d.code.startswith(("yaml.", "schema.")) for d in out.errors))
    diagnostics = out.sorted()
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    if errors:
        raise PolicyError(errors)
    return LoadedPolicy(policy, CompiledPolicy(policy), RecordReader(policy), diagnostics)


def evaluate(loaded: LoadedPolicy, record, trace: bool = False, coverage: set | None = None) -> dict:
    """Evaluate one record: {id, policy, outputs, values[, trace]} or {id, policy, errors}.

    Never raises for a bad record: every problem comes back as {path, code, message}.
    """
    record_id = record.get("id") if isinstance(record, dict) else None
    result: dict = {"id": record_id, "policy": loaded.ref}
    inputs, errors = loaded.reader.read(record)
    if errors:
        result["errors"] = [e.as_json() for e in errors]
        return result
    try:
        inputs = cast(dict[str, Any], inputs)  # the reader gives data whenever it finds no error
        outputs, frame = loaded.compiled.run(inputs, trace, coverage)
    except RecordError as error:
        result["errors"] = [error.as_json()]
        return result
    except RecordErrors as failed:
        result["errors"] = [error.as_json() for error in failed.errors]
        return result
    except (ArithmeticError, TypeError, ValueError, KeyError, RecursionError) as error:  # a defect, never a crash
        result["errors"] = [
            {
                "path": "",
                "code": "internal",
                "message": _(
                    "the engine could not evaluate this record ({error}); please report it with the record",
                    error=f"{type(error).__name__}: {error}",
                ),
            }
        ]
        return result
    result["outputs"] = outputs
    result["values"] = collect_values(loaded.policy, frame, inputs)
    if trace:
        result["trace"] = frame.trace
    return result


def collect_values(policy: CheckedPolicy, frame, inputs: dict) -> dict:
    """Every named value the evaluation computed, item values as one list per list input."""
    values = {name: value for (_, name), value in frame.memo.items()}
    per_item: dict[str, dict[int, dict]] = {}
    for (path, name), value in frame.item_memo.items():
        _, list_name, index = path.split("/")
        per_item.setdefault(list_name, {}).setdefault(int(index), {})[name] = value
    for list_name in sorted(per_item):
        items = per_item[list_name]
        values[list_name] = [items.get(i, {}) for i in range(len(inputs.get(list_name) or ()))]
    return values


def coverage_targets(policy: CheckedPolicy) -> dict[tuple, str]:
    """Everything `kinerja test` should reach: each table row and each matrix cell."""
    targets: dict[tuple[Any, ...], str] = {}
    for key, d in policy.values.items():
        if isinstance(d, TableValue):
            for index, row in enumerate(d.table.rows, start=1):
                targets[(key, index)] = _(
                    "{name} row {row} ({cells})", name=d.name, row=index, cells=", ".join(_when_text(row))
                )
        if isinstance(d, MatrixValue):
            for cell in d.matrix.cells:
                targets[(key, cell)] = _("{name} cell {row} x {column}", name=d.name, row=cell[0], column=cell[1])
    return targets


def _when_text(row) -> list[str]:
    from engine.language.printer import cell_text

    return [cell_text(c) if c is not None else "?" for c in row.cells]


def fast(loaded: LoadedPolicy) -> FastPolicy:
    """The policy's fast exact kernel (engine.evaluate.kernel), as `LoadedPolicy.kernel`."""
    return loaded.kernel


# Many records: the one rule applied to each --------------------------------------------------


class OutOfTime(Exception):
    """A batch passed its deadline (a request's wall-clock budget) and was stopped."""


def evaluate_records(
    choose: Callable[[object], LoadedPolicy], records: list, pairs: list | None = None, deadline: float | None = None
) -> list[dict]:
    """Results of records already decoded (engine.evaluate.io.decode_json), as `evaluate` gives them,
    with the policy version chosen per record (`choose`, e.g. Chooser.for_record).
    `pairs`, the same records as `record_pairs` reads them, spare the kernel the Decimals. Past
    `deadline` (time.monotonic()) it raises OutOfTime."""
    results = []
    for index, record in enumerate(records):
        if deadline is not None and index % 32 == 31 and time.monotonic() > deadline:
            raise OutOfTime()
        results.append(choose(record).result(record, pairs[index] if pairs is not None else None))
    return results


def record_pairs(raw: bytes, count: int, field: str = "records") -> list | None:
    """The `count` records of a request body (its `field`) as the kernel reads them, or None."""
    body = decode_pairs(raw)
    found = body.get(field) if isinstance(body, dict) else None
    return found if isinstance(found, list) and len(found) == count else None


def results_of(
    incoming: Iterable[Incoming], choose: Callable[[object], LoadedPolicy], default: LoadedPolicy
) -> Iterator[tuple[dict, bool]]:
    """(result, had errors) for records read by engine.evaluate.io.read_records (JSON, CSV), in order."""
    for item in incoming:
        if item.error is not None:
            yield {"id": None, "policy": default.ref, "line": item.line, "errors": [item.error]}, True
            continue
        result = choose(item.record).result(item.record)
        if "errors" in result:
            result["line"] = item.line
        yield result, "errors" in result


def stream_jsonl(
    name: str,
    stream: IO[bytes],
    out: IO[bytes],
    evaluator: LineEvaluator,
    progress: batch.Progress | None = None,
    one_process: bool = False,
) -> tuple[int, int]:
    """A JSON Lines input (`name`, "-" for standard input) evaluated line by line into `out`:
    a large file on every core, each reading its own part (engine.evaluate.batch.run_file),
    anything else (or with `one_process`, which --explain-engine needs to count) in this process a
    chunk at a time; (records, records with errors)."""
    size = os.path.getsize(name) if name != "-" and os.path.isfile(name) else None
    workers = 1 if one_process else batch.default_workers(size)
    if workers > 1:
        out.flush()  # the workers' results are copied after what is already written
        return batch.run_file(name, out, evaluator, workers, progress)
    return batch.run_jsonl([stream], out, evaluator, progress)


class _Unreadable(Exception):
    """A line the exact reader refuses; `line` is its encoded result."""

    def __init__(self, line: tuple[bytes, bool]):
        super().__init__()
        self.line = line


class LineEvaluator:
    """Turns one JSON Lines line into its encoded result line, choosing the policy version per
    record (`choose`), exactly as `kinerja eval` writes it. engine.evaluate.batch streams files
    through `line`."""

    def __init__(self, choose: Callable[[object], LoadedPolicy], default: LoadedPolicy):
        self.choose, self.default = choose, default

    def line(self, raw: bytes, number: int) -> tuple[bytes, bool]:
        """(the result as a JSON line, whether the record had errors)."""
        if len(raw) > MAX_LINE_BYTES:
            return self._error(
                number, "too_large", _("line {line} is over {limit} bytes", line=number, limit=f"{MAX_LINE_BYTES:,}")
            )
        pairs = decode_pairs(raw)
        if pairs is not None:
            try:
                check_unique_keys(raw, pairs)
            except DuplicateKeyError as error:
                shown = pairs.get("id") if isinstance(pairs, dict) and isinstance(pairs.get("id"), (str, int)) else None
                result = {
                    "id": shown,
                    "policy": self.default.ref,
                    "line": number,
                    "errors": [duplicate_error(e) for e in error.every],
                }
                return encode(result) + b"\n", True

        def read():  # the exact reading: numbers as engine.evaluate.io reads them, every problem explained
            try:
                return decode_input(raw, number)
            except DuplicateKeyError as error:
                raise _Unreadable(self._error(number, "duplicate_key", str(error), error.pointer)) from None
            except ValueError as error:
                raise _Unreadable(self._error(number, "json", str(error))) from None

        try:
            record = pairs if pairs is not None else read()
            result, fast = self.choose(record).decide(read if pairs is not None else record, pairs)
        except _Unreadable as unreadable:
            return unreadable.line
        if fast:
            return encode_fast(result) + b"\n", False
        if "errors" in result:
            result["line"] = number
            return encode(result) + b"\n", True
        return encode(result) + b"\n", False

    def _error(self, number: int, code: str, message: str, path: str = "") -> tuple[bytes, bool]:
        result = {
            "id": None,
            "policy": self.default.ref,
            "line": number,
            "errors": [{"path": path, "code": code, "message": message}],
        }
        return encode(result) + b"\n", True


# Versions per record ---------------------------------------------------------------------------


class _Refusing:
    """A record reader that refuses every record with one reason (the version could not be chosen)."""

    def __init__(self, error: RecordError):
        self.error = error
        self.schema: dict[Any, Any] = {}

    def read(self, record):
        return None, [self.error]


class Chooser:
    """The version each record is evaluated with: the record's `periode`, else the default period
    (`--period`, a submission's period), else today. Each version is loaded once.

    `default` is the version for records that carry no period of their own; it raises
    PolicyError when the target or the default period chooses none.
    """

    def __init__(self, target: str, period: str | None = None, extra: list[Path] | None = None, files: bool = True):
        self.target, self.extra, self.files = target, extra, files
        self.period = None
        if period is not None:
            self.period = parse_period(period)
            if self.period is None:
                raise version_error(str(period), "period.invalid", period_error(period))
        self._loaded: dict[Path, LoadedPolicy] = {}
        self._chosen: dict[str, LoadedPolicy] = {}
        self.default = self._load(choose(target, self.period, extra, files))
        fixed = (files and is_file_target(target)) or SEPARATOR in target
        self.several = not fixed and len(versions_of(target, extra)) > 1
        self.own_period = "periode" not in self.default.policy.inputs  # else `periode` is the policy's input

    def _load(self, path: Path) -> LoadedPolicy:
        if path not in self._loaded:
            self._loaded[path] = load(path, self.extra)
        return self._loaded[path]

    def for_record(self, record) -> LoadedPolicy:
        """The loaded version for this record; one that refuses the record if none can be chosen."""
        if not self.several or not self.own_period or not isinstance(record, dict):
            return self.default
        period = parse_period(record.get("periode"))
        if period is None:  # absent, or malformed (the record reader says so)
            return self.default
        if period.text not in self._chosen:
            try:
                self._chosen[period.text] = self._load(choose(self.target, period, self.extra, self.files))
            except PolicyError as error:
                first = error.diagnostics[0]
                message = f"{first.message}; {first.hint}" if first.hint else first.message
                reader = cast(RecordReader, _Refusing(RecordError("/periode", first.code, message)))  # reads alike
                refusing = LoadedPolicy(self.default.policy, self.default.compiled, reader, [])
                self._chosen[period.text] = refusing
        return self._chosen[period.text]
