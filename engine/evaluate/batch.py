"""Batch streaming: JSON Lines files read in chunks with constant memory, on every core for a
large file, each line handed to an evaluator the facade gives (engine.api.LineEvaluator), the
results written in order, with a progress bar on a terminal.

This module decides nothing about how a record is evaluated (the facade's rule, fast kernel else
exact evaluator) and never imports engine.api: it only reads, hands over and writes.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any, Protocol

import msgspec

from engine.evaluate.io import MAX_LINE_BYTES
from engine.i18n import _

#: Lines handed to a worker process at a time: large enough to amortise the hand-over, small
#: enough that memory stays constant and the progress bar moves.
CHUNK_LINES = 4000
#: Below this many bytes of input a file is evaluated in this process (starting workers costs more).
PARALLEL_FROM_BYTES = 8_000_000


class Evaluator(Protocol):
    """What turns a line into its encoded result (engine.api.LineEvaluator)."""

    def line(self, raw: bytes, number: int) -> tuple[bytes, bool]:
        """(the result as a JSON line, whether the record had errors)."""


_fast_encoder = msgspec.json.Encoder(decimal_format="number")


def encode_fast(result: dict[str, Any]) -> bytes:
    """A result of the fast kernel: its numbers are already ints, exact floats or plain Decimals,
    so it needs none of engine.evaluate.io.encode's conversions."""
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
            text = f"\r[{bar:<30}] {share:4.0%} " + _(
                "{count} records, {rate}/s", count=f"{self.records:,}", rate=f"{rate:,.0f}"
            )
        else:
            text = "\r" + _("{count} records, {rate}/s", count=f"{self.records:,}", rate=f"{rate:,.0f}")
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


def _evaluate_chunk(evaluator: Evaluator, first: int, lines: list[bytes]) -> tuple[bytes, int, int, int]:
    """(the encoded results, records, records with errors, bytes read)."""
    if hasattr(evaluator, "chunk"):  # a whole chunk at once (engine.cli.columnar_lines)
        chunked: tuple[bytes, int, int, int] = evaluator.chunk(first, lines)
        return chunked
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


_worker: Evaluator | None = None  # set in the parent before the workers fork


def run_jsonl(
    streams: Iterable[IO[bytes]], out: IO[bytes], evaluator: Evaluator, progress: Progress | None = None
) -> tuple[int, int]:
    """Evaluate JSON Lines streams into `out` in this process, a chunk at a time (constant memory
    whatever the size); (records, records with errors). A large file goes to run_file instead."""
    records = bad = 0
    for stream in streams:
        for first, lines in _chunks(stream):
            encoded, count, failed, size = _evaluate_chunk(evaluator, first, lines)
            out.write(encoded)
            records += count
            bad += failed
            if progress is not None:
                progress.advance(count, size)
    return records, bad


def run_file(
    path: str, out: IO[bytes], evaluator: Evaluator, workers: int, progress: Progress | None = None
) -> tuple[int, int]:
    """Evaluate a JSON Lines file on `workers` cores: each forked worker reads its own part of
    the file (cut at line ends) and writes its results to a temporary file, which are then
    copied to `out` in order. Nothing crosses between processes but counts, so the cores are
    spent on evaluation; memory stays bounded whatever the file size."""
    import multiprocessing
    import shutil
    import tempfile

    size = os.path.getsize(path)
    bounds = [0]
    with open(path, "rb") as handle:
        for k in range(1, workers):
            handle.seek(max(size * k // workers - 1, bounds[-1]))
            handle.readline()
            bounds.append(max(handle.tell(), bounds[-1]))
    bounds.append(size)
    first_lines = [1]
    with open(path, "rb") as handle:
        for start, end in zip(bounds, bounds[1:-1]):
            handle.seek(start)
            newlines, left = 0, end - start
            while left:
                block = handle.read(min(left, 1 << 24))
                newlines += block.count(b"\n")
                left -= len(block)
            first_lines.append(first_lines[-1] + newlines)
    global _worker
    _worker = evaluator
    context = multiprocessing.get_context("fork")
    done = context.Array("q", workers, lock=False)  # per worker: records and bytes done, for the bar
    done_bytes = context.Array("q", workers, lock=False)
    with tempfile.TemporaryDirectory(prefix="kinerja-") as scratch:
        parts = [os.path.join(scratch, f"part-{k}.jsonl") for k in range(workers)]
        with context.Pool(workers, initializer=_share_counters, initargs=(done, done_bytes)) as pool:
            pending = [
                pool.apply_async(_evaluate_part, (path, bounds[k], bounds[k + 1], first_lines[k], parts[k], k))
                for k in range(workers)
            ]
            while not all(p.ready() for p in pending):
                time.sleep(0.2)
                if progress is not None:
                    progress.advance(sum(done) - progress.records, sum(done_bytes) - progress.done_bytes)
            counts = [p.get() for p in pending]
        for part in parts:
            with open(part, "rb") as handle:
                shutil.copyfileobj(handle, out, 1 << 22)
    if progress is not None:
        progress.advance(sum(done) - progress.records, sum(done_bytes) - progress.done_bytes)
    return sum(c[0] for c in counts), sum(c[1] for c in counts)


_counters: tuple[Any, Any] | None = None  # the shared arrays (multiprocessing's, untyped)


def _share_counters(done: Any, done_bytes: Any) -> None:
    global _counters
    _counters = (done, done_bytes)


def _evaluate_part(path: str, start: int, end: int, first_line: int, target: str, index: int) -> tuple[int, int]:
    """One worker's part of a file: bytes [start, end), whose first line is `first_line`."""
    records = bad = 0
    with open(path, "rb") as source, open(target, "wb") as out:
        source.seek(start)
        number, left = first_line, end - start
        while left > 0:
            lines: list[bytes] = []
            while left > 0 and len(lines) < CHUNK_LINES:
                raw = source.readline(min(left, MAX_LINE_BYTES + 2))
                if not raw:
                    left = 0
                    break
                left -= len(raw)
                if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                    left -= _skip_rest_of_line(source, left)  # one result for the line, never a phantom
                lines.append(raw)
            assert _worker is not None  # set by run_file before the fork
            encoded, count, failed, size = _evaluate_chunk(_worker, number, lines)
            number += len(lines)
            out.write(encoded)
            records += count
            bad += failed
            if _counters is not None:  # this worker's own slots: no lock needed
                _counters[0][index] += count
                _counters[1][index] += size
    return records, bad


def _skip_rest_of_line(source: IO[bytes], left: int) -> int:
    """Read past the end of an over-long line without keeping it; the bytes read (at most `left`)."""
    skipped = 0
    while skipped < left:
        piece = source.readline(min(left - skipped, 1 << 20))
        if not piece:
            break
        skipped += len(piece)
        if piece.endswith(b"\n"):
            break
    return skipped


def default_workers(total_bytes: int | None) -> int:
    """Every core for a large file; one process for a small one (or when forking is unavailable)."""
    if total_bytes is None or total_bytes < PARALLEL_FROM_BYTES or not hasattr(os, "fork"):
        return 1
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
