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
    return [{"outputs": r.get("outputs"), "errors": r.get("errors")} if "errors" in r else {"outputs": r["outputs"]}
            for r in (_evaluate(record) for record in _records[start:end])]


def outputs(result: dict) -> dict:
    if "errors" in result:
        return {name: f"error {result['errors'][0].get('code')}" for name in ("predikat",)}
    return result["outputs"]
