"""Per-record evaluation time of the compiled scalar evaluator on a pp-46-2011 record.

Prints figures; asserts nothing. Run: python bench/eval_record.py [--seconds N]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from pathlib import Path

from engine import api
from engine.evaluate.io import decode_json

ROOT = Path(__file__).resolve().parent.parent


def measure(fn, seconds: float) -> tuple[float, float, int]:
    """(best, median) microseconds per call over timed batches lasting about `seconds`.

    The best batch is the least disturbed by the rest of the machine (this is a shared VM);
    the median says what to expect. The collector is paused while a batch runs.
    """
    batch, samples, deadline = 200, [], time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(samples) < 5:
        gc.disable()
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - start) / batch * 1e6)
        gc.enable()
        gc.collect()
    return min(samples), statistics.median(samples), len(samples) * batch


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
        full = measure(lambda: api.evaluate(loaded, record), args.seconds)
        validate = measure(lambda: loaded.reader.read(record), args.seconds)
        run = measure(lambda: loaded.compiled.run(inputs), args.seconds)
        traced = measure(lambda: api.evaluate(loaded, record, trace=True), args.seconds)
        rows.append((record["id"], kegiatan, full, validate, run, traced))
    print("pp-46-2011, one record at a time, record already parsed: microseconds per record, best / median batch")
    print("(evaluate = validate + compute + collecting values; +trace = evaluate with the trace)")
    print(f"{'record':<20} {'kegiatan':>8} {'evaluate':>13} {'validate':>13} {'compute':>13} {'+trace':>13}")
    for rid, kegiatan, *figures in rows:
        cells = " ".join(f"{best:>6.0f} / {median:<4.0f}" for best, median, _ in figures)
        print(f"{rid:<20} {kegiatan:>8} {cells}")


if __name__ == "__main__":
    main()
