"""How long `kinerja check` takes on a large policy: python3 bench/check_scale.py [--sizes 1000 4000 16000]

Issue 10 asks that checking a policy of 4,000 values take under a second from the command line.
For each size this writes the policy of tests/test_check_scale.py (value k reads value k - 1), then
prints, best of --runs:
  - the stages in one process (read the YAML, validate against the schema, build the model with
    its formulas parsed, run the checks), CPU seconds, each after a warm-up run of the same size;
  - `kinerja check FILE` as a new process, wall and CPU seconds (start-up and imports included);
  - the time per 1,000 values, so that linear growth shows as a flat column.
The machine's load shows in wall time; CPU time is what the code costs. Uses the Python it runs
under (the project's venv): no environment of its own, no peers.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("yaml", "schema", "model", "checks")


def many_values(count: int, unknown: bool = False) -> str:
    """A policy of `count` values in a chain (or each reading an unknown name)."""
    lines = ["kinerja: 1", "id: besar", "inputs:", "  x: {type: number, minimum: 0, maximum: 100}", "values:"]
    for k in range(count):
        read = f"nilai_tidak_ada_{k}" if unknown else ("x" if k == 0 else f"nilai_{k - 1}")
        lines.append(f"  nilai_{k}: {read} + 1")
    return "\n".join(lines + ["outputs:", f"  nilai_{count - 1}: {{}}"]) + "\n"


def stages(path: Path) -> dict[str, float]:
    """CPU seconds of each stage of `api.check`, in this process."""
    from engine.diagnostics import Diagnostics
    from engine.language import parser
    from engine.policy import builder, checks, document, source

    parser._parsed.cache_clear()  # each run parses every formula, as a new process does
    source._recent.clear()  # and reads the YAML again
    clock = time.process_time
    out = Diagnostics()
    began = clock()
    data, sources = source.load(path.read_bytes(), str(path), out)
    read = clock()
    document._validate_schema(data, sources, str(path), out)
    validated = clock()
    policy = builder.build(document.PolicyDocument(data, sources, str(path), [data["id"]]), out)
    built = clock()
    checks.run(policy, out)
    checked = clock()
    assert not out.errors, out.sorted()[:3]
    return {"yaml": read - began, "schema": validated - read, "model": built - validated, "checks": checked - built}


def cli(path: Path) -> tuple[float, float, str]:
    """Wall and CPU seconds of `kinerja check FILE` in a new process, and what it printed."""
    kinerja = shutil.which("kinerja", path=str(Path(sys.executable).parent)) or "kinerja"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(
        [kinerja, "check", str(path)], capture_output=True, text=True, env={**os.environ, "KINERJA_LANG": "en"}
    )
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, (done.stdout + done.stderr).strip() or f"exit {done.returncode}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 16000])
    parser.add_argument("--runs", type=int, default=3, help="best of this many runs")
    args = parser.parse_args()
    os.environ.setdefault("KINERJA_LANG", "en")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    header = f"{'values':>7} | " + " | ".join(f"{s:>6}" for s in STAGES)
    header += f" | {'in-proc':>7} | {'CLI wall':>8} | {'CLI cpu':>7} | {'cpu/1k':>6}"
    print("seconds, best of", args.runs)
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as directory:
        for size in args.sizes:
            path = Path(directory) / f"besar-{size}.yaml"
            path.write_text(many_values(size), encoding="utf-8")
            stages(path)  # warm-up: imports, the grammar, the schema
            best = {name: min(run[name] for run in [stages(path) for _ in range(args.runs)]) for name in STAGES}
            runs = [cli(path) for _ in range(args.runs)]
            wall, cpu = min(r[0] for r in runs), min(r[1] for r in runs)
            total = sum(best.values())
            print(
                f"{size:>7} | "
                + " | ".join(f"{best[s]:>6.3f}" for s in STAGES)
                + f" | {total:>7.3f} | {wall:>8.3f} | {cpu:>7.3f} | {cpu / size * 1000:>6.3f}"
            )
            if runs[0][2] != "exit 0" and runs[0][2]:
                print(f"        kinerja check said: {runs[0][2][:200]}")
    print(f"load after {os.getloadavg()[0]:.1f}; issue 10's target: 4,000 values under 1 s from the command line")


if __name__ == "__main__":
    main()
