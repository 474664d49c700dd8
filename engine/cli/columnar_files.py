"""`kinerja eval` over Parquet and Arrow IPC files, in this process or on a Dask cluster.

Why Dask and not a pool of our own: the unit of work is already a pure function from a slice of
a columnar file to its results (evaluate_batch), so any engine that
maps a function over partitions runs it unchanged. Here each partition is one Parquet row group
(or one Arrow IPC record batch); the results come back in order and are written by this process,
so a Dask run writes the same bytes as a local one.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:  # pyarrow is imported where a columnar file is read
    import pyarrow as pa

from engine.api import Chooser, LoadedPolicy
from engine.evaluate import columnar_io as cio


@dataclass
class Totals:
    records: int = 0
    bad: int = 0
    columns: int = 0
    scalar: int = 0
    partitions: int = 0


@dataclass
class Partition:
    """One piece of one input file: a Parquet row group, or an Arrow IPC record batch."""

    path: str
    index: int
    first_row: int  # of the whole file, from 1
    rows: int


def partitions(path: str) -> list[Partition]:
    """The pieces of a file, from its metadata only."""
    if path.lower().endswith((".parquet", ".pq")):
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(path).metadata
        out, first = [], 1
        for index in range(meta.num_row_groups):
            rows = meta.row_group(index).num_rows
            out.append(Partition(path, index, first, rows))
            first += rows
        return out
    import pyarrow as pa

    with pa.memory_map(path) as source:
        reader = pa.ipc.open_file(source)
        out, first = [], 1
        for index in range(reader.num_record_batches):
            rows = reader.get_batch(index).num_rows
            out.append(Partition(path, index, first, rows))
            first += rows
        return out


def read_partition(part: Partition, rows: int = cio.BATCH_ROWS):
    """A partition's record batches, one at a time (constant memory whatever the row group's size)."""
    import pyarrow as pa

    if part.path.lower().endswith((".parquet", ".pq")):
        import pyarrow.parquet as pq

        yield from pq.ParquetFile(part.path).iter_batches(batch_size=rows, row_groups=[part.index])
        return
    with pa.memory_map(part.path) as source:
        yield pa.ipc.open_file(source).get_batch(part.index)


def evaluate_pieces(
    policy_target: str,
    period: str | None,
    part: Partition,
    with_values: bool,
    columnar_out: bool,
    output_names: list[str],
):
    """A partition's results batch by batch, ready to write: JSON Lines bytes, or an Arrow table."""
    chooser = _chooser_cache.get((policy_target, period))
    if chooser is None:
        chooser = _chooser_cache[(policy_target, period)] = Chooser(policy_target, period)
    first = part.first_row
    for batch in read_partition(part):
        cio.check_schema(chooser.default.policy, batch.schema)
        done = evaluate_batch(chooser.default, chooser.for_record, batch, first, with_values)
        totals = Totals(batch.num_rows, done.bad, done.columns, done.scalar, 0)
        if columnar_out:
            yield cio.result_table(done.results, first, output_names, with_values, done.scalar_rows), totals
        else:
            yield cio.result_lines(done.results, done.scalar_rows), totals
        first += batch.num_rows


def evaluate_partition(
    policy_target: str,
    period: str | None,
    part: Partition,
    with_values: bool,
    columnar_out: bool,
    output_names: list[str],
):
    """A partition's results in one piece: the function Dask maps. It loads the policy itself
    (a worker may be another machine)."""
    import pyarrow as pa

    pieces, totals = [], Totals()
    for piece, counted in evaluate_pieces(policy_target, period, part, with_values, columnar_out, output_names):
        pieces.append(piece)
        totals.records += counted.records
        totals.bad += counted.bad
        totals.columns += counted.columns
        totals.scalar += counted.scalar
    if columnar_out:
        return (
            pa.concat_tables(pieces) if pieces else cio.result_table([], part.first_row, output_names, with_values)
        ), totals
    return b"".join(pieces), totals


@dataclass
class BatchResult:
    results: list  # dicts in row order
    bad: int
    columns: int
    scalar: int
    scalar_rows: frozenset = frozenset()  # rows from the scalar path (their numbers may be Fractions)


def evaluate_batch(
    loaded: LoadedPolicy, choose, batch: pa.RecordBatch, first_row: int, with_values: bool = True
) -> BatchResult:
    """One record batch -> its results (columns where they can, the scalar path elsewhere).
    `first_row` numbers the rows (from 1) for the errors' `line`."""
    from engine.evaluate.columns import columns

    policy = columns(loaded)
    results: list = [None] * batch.num_rows
    counted = 0
    if policy.usable:
        outcome = policy.evaluate_frame(cio.frame_of(loaded.policy, batch), with_values)
        results, counted = outcome.results, outcome.columns
    rest = [i for i, r in enumerate(results) if r is None]
    bad = 0
    for row, record in zip(rest, cio.records_of(loaded.policy, batch, rest)):
        chosen = choose(record)
        result = chosen.result(record)
        if "errors" in result:
            result["line"] = first_row + row
            bad += 1
        elif not with_values:
            result.pop("values", None)
        results[row] = result
    return BatchResult(results, bad, counted, len(rest), frozenset(rest))


_chooser_cache: dict = {}


def run(
    policy_target: str,
    period: str | None,
    inputs: list[str],
    out: IO[bytes] | None,
    out_path: str | None,
    with_values: bool,
    scheduler: str | None = None,
) -> Totals:
    """Evaluate columnar files into JSON Lines (`out`) or a columnar file (`out_path`)."""
    chooser = Chooser(policy_target, period)
    _chooser_cache[(policy_target, period)] = chooser
    names = list(chooser.default.policy.outputs)
    columnar_out = out_path is not None and out_path.lower().endswith(cio.COLUMNAR_SUFFIXES)
    parts = [p for path in inputs for p in partitions(path)]
    for path in inputs:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = (
            pq.read_schema(path)
            if path.lower().endswith((".parquet", ".pq"))
            else pa.ipc.open_file(pa.memory_map(path)).schema
        )
        cio.check_schema(chooser.default.policy, schema)
    pieces = _map(scheduler, policy_target, period, parts, with_values, columnar_out, names)
    totals, writer = Totals(partitions=len(parts)), None
    target = out
    if out_path is not None and not columnar_out:
        target = open(out_path, "wb")
    try:
        for piece, counted in pieces:
            totals.records += counted.records
            totals.bad += counted.bad
            totals.columns += counted.columns
            totals.scalar += counted.scalar
            if columnar_out:
                if writer is None:
                    writer = cio.writer_for(out_path, piece.schema)
                writer.write_table(piece)
            else:
                target.write(piece)
        if columnar_out and writer is None:  # no rows: an empty file with the schema
            empty = cio.result_table([], 1, names, with_values)
            writer = cio.writer_for(out_path, empty.schema)
            writer.write_table(empty)
    finally:
        if writer is not None:
            writer.close()
        if target is not None and target is not out:
            target.close()
        elif target is not None:
            target.flush()
    return totals


#: Rows from which a run without Dask uses every core: below, starting the workers (each imports
#: NumPy and pyarrow and compiles the policy, about half a second) costs more than it saves.
PARALLEL_FROM_ROWS = 50_000


def local_workers(parts: list[Partition]) -> int:
    """Processes for a run without Dask: one per core for a file of several partitions and
    PARALLEL_FROM_ROWS rows or more, else this process alone."""
    import os

    if len(parts) < 2 or sum(part.rows for part in parts) < PARALLEL_FROM_ROWS:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, len(parts)))


def _map(scheduler, policy_target, period, parts, with_values, columnar_out, names):
    """The partitions' results in order: here (on every core for a large file), or on Dask
    (`local` starts a LocalCluster)."""
    if scheduler is None:
        workers = local_workers(parts)
        if workers == 1:
            for part in parts:
                yield from evaluate_pieces(policy_target, period, part, with_values, columnar_out, names)
            return
        yield from _on_cores(workers, policy_target, period, parts, with_values, columnar_out, names)
        return
    from dask.distributed import Client, LocalCluster

    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        futures = client.map(
            evaluate_partition,
            [policy_target] * len(parts),
            [period] * len(parts),
            parts,
            [with_values] * len(parts),
            [columnar_out] * len(parts),
            [names] * len(parts),
            pure=False,
        )
        for future in futures:  # in order: each is written as soon as it and those before it are done
            yield future.result()
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _on_cores(workers, policy_target, period, parts, with_values, columnar_out, names):
    """evaluate_partition on a pool of `workers` processes (the standard library's executor),
    results in order, at most one partition per worker and one more in flight, so memory stays
    bounded whatever the file's size.

    Workers are spawned, not forked: this process has used pyarrow, whose threads a fork does
    not carry over safely. Each loads the policy by its name, as a Dask worker does."""
    import multiprocessing
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    pending = deque()
    queue = iter(parts)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for part in queue:
            pending.append(
                pool.submit(evaluate_partition, policy_target, period, part, with_values, columnar_out, names)
            )
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def explain(totals: Totals, stream=None) -> None:
    from engine.i18n import _

    print(
        _(
            "engine: columns for {columns} record(s), scalar path (kernel or exact) for {scalar}; {partitions} partition(s)",
            columns=totals.columns,
            scalar=totals.scalar,
            partitions=totals.partitions,
        ),
        file=stream or sys.stderr,
    )
