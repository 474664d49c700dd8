"""Per-record evaluation time of the compiled scalar evaluator on a pp-46-2011 record.

Prints figures; asserts nothing. Run: python bench/eval_record.py [--seconds N]
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from engine import api
from engine.io import decode_json

ROOT = Path(__file__).resolve().parent.parent


def measure(fn, seconds: float) -> tuple[float, int]:
    """Median microseconds per call over repeated timed batches lasting about `seconds`."""
    batch, samples, deadline = 200, [], time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(samples) < 5:
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - start) / batch * 1e6)
    return statistics.median(samples), len(samples) * batch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    loaded = api.load("pp-46-2011")
    lines = (ROOT / "examples" / "pp-46-2011.jsonl").read_bytes().splitlines()
    rows = []
    for line in lines:
        record = decode_json(line)
        inputs, errors = loaded.reader.read(record)
        assert not errors, errors
        kegiatan = len(record["kegiatan"])
        full, n_full = measure(lambda: api.evaluate(loaded, record), args.seconds)
        validate, _ = measure(lambda: loaded.reader.read(record), args.seconds)
        run, _ = measure(lambda: loaded.compiled.run(inputs), args.seconds)
        traced, _ = measure(lambda: api.evaluate(loaded, record, trace=True), args.seconds)
        rows.append((record["id"], kegiatan, full, validate, run, traced, n_full))
    print("pp-46-2011, one record at a time, record already parsed (median microseconds per record)")
    print(f"{'record':<20} {'kegiatan':>8} {'evaluate':>9} {'validate':>9} {'compute':>9} {'+trace':>9} {'calls':>8}")
    for rid, kegiatan, full, validate, run, traced, calls in rows:
        print(f"{rid:<20} {kegiatan:>8} {full:>9.1f} {validate:>9.1f} {run:>9.1f} {traced:>9.1f} {calls:>8}")


if __name__ == "__main__":
    main()
