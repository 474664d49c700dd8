"""Batch evaluation: many records through the fast exact kernel (engine.fast), streamed in chunks
with constant memory, on every core for large JSON Lines files, with a progress bar on a terminal.

The results are the same as evaluating each record with api.evaluate, byte for byte: the kernel
computes exactly and hands anything unusual to the exact evaluator (tests/test_fast.py).
"""
from __future__ import annotations

import os
import sys
import time
from typing import IO, Callable, Iterable, Iterator

import msgspec

from . import api
from .fast import NEEDS_EXACT, FastPolicy
from .io import MAX_LINE_BYTES, Incoming, decode_json, encode

#: Lines handed to a worker process at a time: large enough to amortise the hand-over, small
#: enough that memory stays constant and the progress bar moves.
CHUNK_LINES = 4000
#: Below this many bytes of input a file is evaluated in this process (starting workers costs more).
PARALLEL_FROM_BYTES = 8_000_000

_fast_cache: dict[int, tuple[api.LoadedPolicy, FastPolicy]] = {}


def fast(loaded: api.LoadedPolicy) -> FastPolicy:
    """The fast kernel of a loaded policy, compiled once per loaded policy."""
    found = _fast_cache.get(id(loaded))
    if found is None or found[0] is not loaded:
        found = _fast_cache[id(loaded)] = (loaded, FastPolicy(loaded))
    return found[1]


def evaluate_batch(loaded: api.LoadedPolicy, records: Iterable, raw: bytes | None = None) -> list[dict]:
    """Results of records already decoded (engine.io.decode_json), as api.evaluate gives them.
    `raw`, the JSON text they were all decoded from, lets the kernel skip a check per record."""
    kernel = fast(loaded)
    short = None if raw is None else not NEEDS_EXACT.search(raw) or None
    return [kernel.evaluate(record, short=short) for record in records]


class LineEvaluator:
    """Turns one JSON Lines line into its encoded result line, choosing the policy version per
    record (`choose`), exactly as `kinerja eval` writes it."""

    def __init__(self, choose: Callable[[object], api.LoadedPolicy], default: api.LoadedPolicy):
        self.choose, self.default = choose, default

    def line(self, raw: bytes, number: int) -> tuple[bytes, bool]:
        """(the result as a JSON line, whether the record had errors)."""
        if len(raw) > MAX_LINE_BYTES:
            return self._error(number, "too_large", f"line {number} is over {MAX_LINE_BYTES:,} bytes")
        try:
            record = decode_json(raw, number)
        except ValueError as error:
            return self._error(number, "json", str(error))
        loaded = self.choose(record)
        kernel = fast(loaded)
        if not NEEDS_EXACT.search(raw):
            result = kernel.try_fast(record)
            if result is not None:
                return encode_fast(result) + b"\n", False
        result = api.evaluate(loaded, record)
        if "errors" in result:
            result["line"] = number
            return encode(result) + b"\n", True
        return encode(result) + b"\n", False

    def _error(self, number: int, code: str, message: str) -> tuple[bytes, bool]:
        result = {"id": None, "policy": self.default.ref, "line": number,
                  "errors": [{"path": "", "code": code, "message": message}]}
        return encode(result) + b"\n", True


_fast_encoder = msgspec.json.Encoder(decimal_format="number")


def encode_fast(result: dict) -> bytes:
    """A result of the fast kernel: its numbers are already ints, exact floats or plain Decimals,
    so it needs none of engine.io.encode's conversions."""
    return _fast_encoder.encode(result)


# Files ---------------------------------------------------------------------------------------

class Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, total_bytes: int | None, stream: IO[str] | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty()
        self.total, self.done_bytes, self.records = total_bytes, 0, 0
        self.started = self.shown = time.monotonic()

    def advance(self, records: int, size: int) -> None:
        self.records += records
        self.done_bytes += size
        now = time.monotonic()
        if self.enabled and now - self.shown >= 0.2:
            self.shown = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        rate = self.records / max(now - self.started, 1e-9)
        if self.total:
            share = min(self.done_bytes / self.total, 1.0)
            bar = "#" * int(share * 30)
            text = f"\r[{bar:<30}] {share:4.0%} {self.records:,} records, {rate:,.0f}/s"
        else:
            text = f"\r{self.records:,} records, {rate:,.0f}/s"
        self.stream.write(text)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()


def _chunks(stream: IO[bytes], size: int = CHUNK_LINES) -> Iterator[tuple[int, list[bytes]]]:
    """(number of the first line, lines) in order; blank lines are kept to keep the numbering."""
    chunk: list[bytes] = []
    first = 1
    for number, raw in enumerate(stream, start=1):
        if not chunk:
            first = number
        chunk.append(raw)
        if len(chunk) >= size:
            yield first, chunk
            chunk = []
    if chunk:
        yield first, chunk


def _evaluate_chunk(evaluator: LineEvaluator, first: int, lines: list[bytes]) -> tuple[bytes, int, int, int]:
    """(the encoded results, records, records with errors, bytes read)."""
    out, records, bad, size = [], 0, 0, 0
    for offset, raw in enumerate(lines):
        size += len(raw)
        if not raw.strip():
            continue
        encoded, failed = evaluator.line(raw, first + offset)
        out.append(encoded)
        records += 1
        bad += failed
    return b"".join(out), records, bad, size


_worker: LineEvaluator | None = None  # set in the parent before the workers fork


def _work(job: tuple[int, list[bytes]]) -> tuple[bytes, int, int, int]:
    return _evaluate_chunk(_worker, *job)


def run_jsonl(streams: Iterable[IO[bytes]], out: IO[bytes], evaluator: LineEvaluator,
              workers: int | None = None, progress: Progress | None = None) -> tuple[int, int]:
    """Evaluate JSON Lines streams into `out`, in order; (records, records with errors).

    With more than one worker the lines are evaluated in forked processes, a few chunks ahead
    of the writer, so memory stays bounded whatever the file size."""
    records = bad = 0
    workers = workers or 1
    for stream in streams:
        jobs = _chunks(stream)
        if workers > 1:
            results = _parallel(jobs, evaluator, workers)
        else:
            results = (_evaluate_chunk(evaluator, first, lines) for first, lines in jobs)
        for encoded, count, failed, size in results:
            out.write(encoded)
            records += count
            bad += failed
            if progress is not None:
                progress.advance(count, size)
    return records, bad


def _parallel(jobs: Iterator, evaluator: LineEvaluator, workers: int) -> Iterator:
    import multiprocessing
    from collections import deque
    global _worker
    _worker = evaluator
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        pending: deque = deque()
        for job in jobs:
            pending.append(pool.apply_async(_work, (job,)))
            if len(pending) >= workers * 3:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def default_workers(total_bytes: int | None) -> int:
    """Every core for a large file; one process for a small one (or when forking is unavailable)."""
    if total_bytes is None or total_bytes < PARALLEL_FROM_BYTES or not hasattr(os, "fork"):
        return 1
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def results_of(incoming: Iterable[Incoming], choose, default) -> Iterator[tuple[dict, bool]]:
    """(result, had errors) for records read by engine.io.read_records (JSON, CSV), in order."""
    for item in incoming:
        if item.error is not None:
            yield {"id": None, "policy": default.ref, "line": item.line, "errors": [item.error]}, True
            continue
        loaded = choose(item.record)
        result = fast(loaded).evaluate(item.record)
        if "errors" in result:
            result["line"] = item.line
        yield result, "errors" in result
