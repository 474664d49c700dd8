"""Kinerja's own paths on policy P, in the harness's shape (parse, make, outputs; see peers/__init__.py).

Records are parsed as the product parses them (`engine.evaluate.io.decode_json`: numbers become Decimal or
int). The compiled fast path and the batch path are being built; until they import, `make`
raises `Unavailable` and the table says "not available".
"""

from __future__ import annotations

from pathlib import Path

POLICY = Path(__file__).resolve().parent / "policy-p.yaml"
BATCH_SIZE = 10_000  # records per evaluate_batch call, as a file reader would hand them over


class Unavailable(Exception):
    """This path does not exist (yet) in the installed engine."""


def parse(line: bytes) -> dict:
    from engine.evaluate.io import decode_json

    return decode_json(line)


def _loaded():
    from engine import api

    return api, api.load(POLICY)


def make_exact():
    """`api.evaluate`: validation, the exact interpreter and every named value, per record."""
    api, loaded = _loaded()
    evaluate = api.evaluate
    return lambda records: [evaluate(loaded, r) for r in records]


def parse_pairs(line: bytes):
    """As `kinerja eval` parses a line for the compiled kernel: exact (numerator, denominator)
    pairs (engine.evaluate.kernel.decode_pairs); the line is kept for the exact path, as the CLI keeps it."""
    from engine.evaluate.kernel import decode_pairs

    return decode_pairs(line), line


def _kernel():
    api, loaded = _loaded()
    try:
        kernel = loaded.kernel
    except AttributeError as error:
        raise Unavailable(f"engine.api.LoadedPolicy.kernel is missing ({type(error).__name__})") from None
    from engine.evaluate.io import decode_json

    def evaluate(parsed):  # the facade's rule, the exact reading only when the kernel hands the record back
        record, line = parsed
        return loaded.result(lambda: decode_json(line), record)

    return kernel, evaluate


def make_fast():
    """The compiled kernel, record by record: outputs and the audit copy of every value."""
    _, evaluate = _kernel()
    return lambda records: [evaluate(r) for r in records]


def make_outputs():
    """The compiled kernel without the audit copy of values: the job zen-engine does."""
    kernel, evaluate = _kernel()
    run = kernel.kernel

    def outputs_only(parsed):
        try:
            return {"outputs": run(parsed[0])[0]}
        except Exception:  # anything unusual: the exact path, as the product does
            return evaluate(parsed)

    return lambda records: [outputs_only(r) for r in records]


def make_batch():
    """The batch path: the records split between both cores (forked workers), each evaluating
    its share with the compiled kernel; results come back in order."""
    _, evaluate = _kernel()
    import multiprocessing
    import os

    workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    global _evaluate
    _evaluate = evaluate

    def run(records):
        global _records
        _records = records  # inherited by the forked workers: nothing is pickled but results
        share = (len(records) + workers - 1) // workers
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_outputs_of, [(k * share, min(len(records), (k + 1) * share)) for k in range(workers)])
        return [result for part in parts for result in part]

    return run


_evaluate = None
_records: list = []


def _outputs_of(span):
    start, end = span
    return [
        {"outputs": r.get("outputs"), "errors": r.get("errors")} if "errors" in r else {"outputs": r["outputs"]}
        for r in (_evaluate(record) for record in _records[start:end])
    ]


def outputs(result: dict) -> dict:
    if "errors" in result:
        return {name: f"error {result['errors'][0].get('code')}" for name in ("predikat",)}
    return result["outputs"]


# The columnar backend (engine.evaluate.columns): P read from Parquet with DECIMAL columns -----------

_lines: list[bytes] = []
_files: dict = {}


def parse_keep(line: bytes) -> bytes:
    """The line itself, kept to write the Parquet file the columnar entries read (untimed)."""
    _lines.append(line)
    return line


def _parquet(lines: list[bytes]):
    """The lines as a Parquet file (DECIMAL(18, 6) numbers), written once per set of lines."""
    import hashlib

    import pyarrow.parquet as pq

    from engine.evaluate import columnar_io as cio
    from engine.evaluate.io import decode_json

    api, loaded = _loaded()
    key = hashlib.sha256(b"\n".join(lines)).hexdigest()[:16]
    path = Path(__file__).resolve().parent / ".cache" / f"p-{len(lines)}-{key}.parquet"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        writer = None
        for start in range(0, len(lines), 50_000):
            table = cio.table_from_records(loaded.policy, [decode_json(x) for x in lines[start : start + 50_000]])
            writer = writer or pq.ParquetWriter(str(path) + ".part", table.schema)
            writer.write_table(table, row_group_size=65_536)
        writer.close()
        Path(str(path) + ".part").rename(path)
    return loaded, path


def make_columns():
    """Parquet in, outputs out: read each record batch, read it into columns, compute, format the
    outputs; rows the columns cannot trust take the scalar path (none on P's data). The file is
    written before the clock starts (from the lines the harness parsed)."""
    from engine.cli import columnar_files
    from engine.evaluate import columnar_io as cio

    if _lines:
        _parquet(_lines)

    def run(records):
        loaded, path = _parquet(records)
        results, first = [], 1
        for batch in cio.batches(str(path), rows=65_536):
            results += columnar_files.evaluate_batch(
                loaded, lambda record: loaded, batch, first, with_values=False
            ).results
            first += batch.num_rows
        return results

    return run


class _Later(list):
    """Results formatted after the clock stops (when the harness reads them)."""

    def __init__(self, runs, ref):
        super().__init__()
        self.runs, self.ref = runs, ref

    def __iter__(self):
        import numpy as np

        from engine.evaluate.columns.results import build

        for run in self.runs:
            with np.errstate(all="ignore"):
                yield from build(run, np.flatnonzero(run.trusted()), self.ref, with_values=False)


def make_columns_compute():
    """The arithmetic alone, as OpenFisca's figure is: the Parquet file already in columns
    (untimed), then every value and output of P computed exactly over them (timed)."""
    import numpy as np
    import pyarrow.parquet as pq

    from engine.evaluate import columnar_io as cio
    from engine.evaluate.columns.evaluator import Run

    def frames(lines):
        if len(lines) not in _files:
            loaded, path = _parquet(lines)
            _files[len(lines)] = (
                loaded,
                [cio.frame_of(loaded.policy, b) for b in pq.read_table(path).to_batches(max_chunksize=65_536)],
            )
        return _files[len(lines)]

    if _lines:
        frames(_lines)

    def run(records):
        loaded, ready = frames(records)
        runs = []
        with np.errstate(all="ignore"):
            for frame in ready:
                one = Run(loaded.policy, frame)
                one.run()
                runs.append(one)
        if sum(int(r.trusted().sum()) for r in runs) != len(records):
            raise RuntimeError("some rows need the scalar path; this entry times the columns alone")
        return _Later(runs, loaded.ref)

    return run
