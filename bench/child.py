"""One engine's timed run on policy P, in a process of its own (so its peak memory is its own).

bench/run.py starts it as `python bench/child.py ENTRY DATA OUTPUTS [--runs N] [--budget S]
[--limit N]`. It parses the records into the engine's own form (untimed), sets the engine up
(untimed), then times whole passes over the records: the first pass's results are written to
OUTPUTS as one line each (bench/exactness.py), further passes run while the budget (seconds of timed passes) lasts. The
last line printed is a JSON summary. The collector stays on; the parsed records are frozen out of
its reach (gc.freeze) since they are the harness's data, not the engine's garbage.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import exactness


@dataclass(frozen=True)
class Entry:
    """A way to evaluate P: `module` has parse and outputs, `make` builds the timed function."""

    label: str
    module: str
    make: str = "make"
    parsed: str = "records already parsed"
    limit: int | None = None  # records timed, when the full set would take too long
    parse: str = "parse"  # the module's function that parses a line into the engine's own form


ENTRIES = {
    "fraction": Entry(
        "plain Python, fractions.Fraction (the exact reference)",
        "peers.fraction_p",
        parsed="records parsed (json, numbers as Fraction)",
    ),
    "float": Entry("plain Python, floats, hand-written", "peers.float_p", parsed="records parsed (json, floats)"),
    "zen": Entry(
        "zen-engine, ZenEngine.evaluate (JDM graph)",
        "peers.zen_p",
        parsed="JSON line in (zen's fast path, parsed in Rust)",
    ),
    "kinerja-exact": Entry(
        "Kinerja api.evaluate (exact interpreter, all values)",
        "kinerja_p",
        "make_exact",
        parsed="records parsed (engine.evaluate.io.decode_json)",
        limit=10_000,
    ),
    "kinerja-fast": Entry(
        "Kinerja compiled kernel, scalar: outputs and every value",
        "kinerja_p",
        "make_fast",
        parsed="records parsed (engine.evaluate.kernel.decode_pairs)",
        parse="parse_pairs",
    ),
    "kinerja-outputs": Entry(
        "Kinerja compiled kernel, scalar: outputs only (zen's job)",
        "kinerja_p",
        "make_outputs",
        parsed="records parsed (engine.evaluate.kernel.decode_pairs)",
        parse="parse_pairs",
    ),
    "kinerja-batch": Entry(
        "Kinerja batch.evaluate_batch (both cores)",
        "kinerja_p",
        "make_batch",
        parsed="records parsed (engine.evaluate.kernel.decode_pairs)",
        parse="parse_pairs",
    ),
    "kinerja-columns": Entry(
        "Kinerja columns (engine.evaluate.columns): outputs only",
        "kinerja_p",
        "make_columns",
        parsed="Parquet file in (DECIMAL columns), read in the timed pass",
        parse="parse_keep",
    ),
    "kinerja-columns-compute": Entry(
        "Kinerja columns, compute only (the data already in columns)",
        "kinerja_p",
        "make_columns_compute",
        parsed="columns in memory (from Parquet, untimed)",
        parse="parse_keep",
    ),
    "openfisca": Entry(
        "OpenFisca, float32 (its default), compute only (NumPy over the population)",
        "peers.openfisca_p",
        parsed="arrays in memory (untimed)",
    ),
}


def read_lines(path: Path, limit: int | None) -> list[bytes]:
    lines = []
    with open(path, "rb") as f:
        for line in f:
            if limit is not None and len(lines) >= limit:
                break
            lines.append(line.rstrip(b"\n"))
    return lines


def run(name: str, data: Path, outputs_path: Path, runs: int, budget: float, limit: int | None) -> dict:
    entry = ENTRIES[name]
    module = importlib.import_module(entry.module)
    if entry.limit is not None:
        limit = entry.limit if limit is None else min(limit, entry.limit)
    lines = read_lines(data, limit)
    started = time.perf_counter()
    parse = getattr(module, entry.parse)
    records = [parse(line) for line in lines]
    parse_seconds = time.perf_counter() - started
    del lines
    try:
        evaluate_all = getattr(module, entry.make)()
    except Exception as error:  # the path is missing or cannot be set up: reported, not fatal
        named = type(error).__name__ != "Unavailable"
        return {"unavailable": f"{type(error).__name__}: {error}" if named else str(error)}
    gc.collect()
    gc.freeze()
    times: list[float] = []
    while len(times) < runs:
        start = time.perf_counter()
        try:
            results = evaluate_all(records)
        except Exception as error:
            return {"error": f"{type(error).__name__}: {error}", "times": times}
        times.append(time.perf_counter() - start)
        if len(times) == 1:
            with open(outputs_path, "w", encoding="utf-8") as out:
                for result in results:
                    out.write(exactness.line(module.outputs(result)))
                    out.write("\n")
        del results
        gc.collect()
        if sum(times) + times[-1] > budget:  # only timed passes count, not writing the outputs
            break
    return {"records": len(records), "times": times, "parse_seconds": parse_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("entry", choices=sorted(ENTRIES))
    parser.add_argument("data", type=Path)
    parser.add_argument("outputs", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--budget", type=float, default=45.0, help="seconds of timed passes, about")
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()
    summary = run(args.entry, args.data, args.outputs, args.runs, args.budget, args.limit)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
