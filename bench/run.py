"""The benchmark suite in one command: python3 bench/run.py [--quick] [--only NAME ...]

Creates (or reuses) its own environment bench/.venv with Kinerja installed from this checkout and
the peers from PyPI, re-executes itself there, and measures side by side in one run:
  1. policy P (BENCH.md) on 200,000 records: the peers (Fraction, floats, zen-engine) and Kinerja's
     exact, compiled scalar and batch paths, each in a process of its own; every engine's outputs
     are checked against the Fraction reference on every record;
  2. pp-46-2011 on 1,000,000 records end to end, JSON Lines file to JSON Lines file: `kinerja eval`
     and a hand-written float script, wall time and peak RSS, every record checked against an
     independent Fraction implementation (bench/peers/pp46_fraction.py);
  3. the HTTP evaluate endpoint (bench/http_evaluate.py, bounded).
Prints one table per section and the targets of issue 5 (MET / MISSED with the measured ratio),
and writes the same to docs/performance.md (full runs only; --quick and --only just print).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV = HERE / ".venv"
DOC = ROOT / "docs" / "performance.md"
PEERS = ["zen-engine==2.1.3", "openfisca-core==46.0.1"]  # the versions BENCH.md measured; pinned so runs compare

P_ENTRIES = [
    "fraction",
    "float",
    "zen",
    "openfisca",
    "kinerja-exact",
    "kinerja-fast",
    "kinerja-outputs",
    "kinerja-batch",
    "kinerja-columns",
    "kinerja-columns-compute",
]
SECTIONS = ["p", "pp46", "http"]


@dataclass(frozen=True)
class Sizes:
    p_records: int
    runs: int
    p_budget: float  # seconds of timed passes per P engine
    pp46_records: int
    pp46_timeout: float  # each end-to-end run is stopped after this
    http_requests: int
    http_records: int
    http_seconds: float


FULL = Sizes(200_000, 5, 45.0, 1_000_000, 150.0, 40, 1_000, 120.0)
QUICK = Sizes(2_000, 2, 3.0, 20_000, 60.0, 8, 200, 30.0)
#: A tenth of the full sizes, for a shared machine where the full run does not finish (prints only).
MEDIUM = Sizes(20_000, 3, 15.0, 100_000, 150.0, 20, 1_000, 60.0)


# ------------------------------------------------------------------------------------ environment
def _wanted() -> str:
    pyproject = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    return json.dumps({"peers": PEERS, "pyproject": pyproject})


def ensure_environment() -> None:
    """Run inside bench/.venv, (re)installing Kinerja (editable) and the peers when they changed."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    python = VENV / "bin" / "python"
    stamp = VENV / "kinerja-bench.json"
    if not python.exists():
        print(f"bench: creating {VENV.relative_to(ROOT)}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    if not stamp.exists() or stamp.read_text() != _wanted():
        print(f"bench: installing kinerja (editable) and {', '.join(PEERS)} into {VENV.relative_to(ROOT)}", flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-e", str(ROOT), *PEERS], check=True)
        stamp.write_text(_wanted())
    os.execv(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])


# ------------------------------------------------------------------------------------ processes
@dataclass
class Finished:
    """A child process: exit code (None when stopped at its time limit), wall time, peak RSS."""

    code: int | None
    wall: float
    peak_mib: float
    stdout: str
    stderr: str


def run_process(argv: list, timeout: float) -> Finished:
    """Run `argv` with its output to files; the peak RSS is the child's own (os.wait4's ru_maxrss)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen([str(a) for a in argv], stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=ROOT)
        stopped = False
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if not stopped and time.perf_counter() - start > timeout:
                process.kill()
                stopped = True
            time.sleep(0.01)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Finished(
            None if stopped else process.returncode,
            wall,
            usage.ru_maxrss / 1024,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )


# ------------------------------------------------------------------------------------ policy P
@dataclass
class PResult:
    name: str
    label: str
    parsed: str
    us: float | None = None
    runs: int = 0
    records: int = 0
    peak_mib: float | None = None
    exact: str = ""
    is_exact: bool = False
    problem: str = ""


def run_p(sizes: Sizes, names: list[str], log) -> list[PResult]:
    import data
    import exactness
    from child import ENTRIES

    path = data.ensure("p", sizes.p_records)
    total, edges, midpoints = data.rates(path)
    log(
        f"data: {path.relative_to(ROOT)}: {total:,} records; exactly on 90 or 110: {edges:,} ({edges / total:.2%}); "
        f"exact x.xx5 midpoints: {midpoints:,} ({midpoints / total:.2%})"
    )
    reference = path.with_suffix(".reference.tsv")
    if "fraction" not in names and not reference.exists():
        names = ["fraction", *names]
    results = []
    for name in names:
        entry = ENTRIES[name]
        result = PResult(name, entry.label, entry.parsed)
        outputs = reference if name == "fraction" else data.CACHE / f"p-{sizes.p_records}.{name}.tsv"
        argv = [
            sys.executable,
            HERE / "child.py",
            name,
            path,
            outputs,
            "--runs",
            sizes.runs,
            "--budget",
            sizes.p_budget,
        ]
        finished = run_process(argv, timeout=3 * sizes.p_budget + 180)
        summary = _last_json(finished.stdout)
        result.peak_mib = finished.peak_mib
        if finished.code is None:
            result.problem = "stopped at its time limit"
        elif "unavailable" in summary:
            result.problem = f"not available ({summary['unavailable']})"
        elif "error" in summary or finished.code != 0 or "times" not in summary:
            result.problem = (
                "failed: " + (summary.get("error") or finished.stderr.strip().splitlines()[-1:] or ["?"])[0]
            )
        else:
            result.records, result.runs = summary["records"], len(summary["times"])
            result.us = statistics.median(summary["times"]) / result.records * 1e6
            if not reference.exists():
                result.exact = "unknown: no reference (the Fraction run failed)"
                results.append(result)
                continue
            with open(reference, encoding="utf-8") as a, open(outputs, encoding="utf-8") as b:
                comparison = exactness.compare(a, b)
            result.is_exact = comparison.exact and comparison.records == result.records
            result.exact = comparison.summary() + (
                "" if result.records == total else f"; first {result.records:,} only"
            )
            for index, want, got in comparison.examples[:1]:
                result.exact += f" (e.g. record {index}: {got.split(chr(9))} instead of {want.split(chr(9))})"
        results.append(result)
        shown = f"{result.us:.1f} us/record, {result.runs} runs" if result.us else result.problem
        log(f"  {name}: {shown}; peak {result.peak_mib:.0f} MiB; exact: {result.exact or '-'}")
    return results


def _last_json(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue
    return {}


def p_table(results: list[PResult], total: int) -> list[str]:
    rows = [
        f"| engine | input | µs / record | records / s | peak MiB | exact on all {total:,}? (vs Fraction) |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in results:
        if r.us is None:
            rows.append(f"| {r.label} | {r.parsed} | {r.problem} | - | - | - |")
            continue
        rows.append(
            f"| {r.label} | {r.parsed} | {_us(r.us)} (median of {r.runs}) | {1e6 / r.us:,.0f} | "
            f"{r.peak_mib:.0f} | {r.exact} |"
        )
    return rows


def _us(us: float) -> str:
    return f"{us:.2f}" if us < 10 else f"{us:.1f}" if us < 100 else f"{us:,.0f}"


# ------------------------------------------------------------------------------------ pp-46-2011
@dataclass
class EndToEnd:
    label: str
    command: str
    finished: Finished | None = None
    lines: int = 0
    checked: int = 0  # records compared with the Fraction reference (every one the run wrote)
    differ: int = 0
    example: str = ""


def run_pp46(sizes: Sizes, log) -> tuple[int, list[EndToEnd]]:
    import data

    path = data.ensure("pp46", sizes.pp46_records)
    log(f"data: {path.relative_to(ROOT)}: {sizes.pp46_records:,} records ({path.stat().st_size / 2**20:,.0f} MiB)")
    out_dir = data.CACHE / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    kinerja_out, float_out = out_dir / "pp46-kinerja.jsonl", out_dir / "pp46-float.jsonl"
    runs = [
        (
            EndToEnd(
                "Kinerja: kinerja eval --policy pp-46-2011 IN.jsonl -o OUT.jsonl",
                "kinerja eval --policy pp-46-2011 IN.jsonl -o OUT.jsonl",
            ),
            [Path(sys.executable).parent / "kinerja", "eval", "--policy", "pp-46-2011", path, "-o", kinerja_out],
            kinerja_out,
        ),
        (
            EndToEnd(
                "hand-written float script (stdlib json): bench/peers/pp46_float.py",
                "python bench/peers/pp46_float.py IN.jsonl OUT.jsonl",
            ),
            [sys.executable, HERE / "peers" / "pp46_float.py", path, float_out],
            float_out,
        ),
    ]
    parquet_in = _pp46_file(sizes, "--parquet", log)
    reference = _pp46_file(sizes, "--reference", log)
    kinerja = Path(sys.executable).parent / "kinerja"
    columnar = [
        (
            EndToEnd(
                "Kinerja columns: kinerja eval --policy pp-46-2011 IN.parquet -o OUT.jsonl",
                "kinerja eval --policy pp-46-2011 IN.parquet -o OUT.jsonl",
            ),
            [kinerja, "eval", "--policy", "pp-46-2011", parquet_in, "-o", out_dir / "pp46-columns.jsonl"],
            out_dir / "pp46-columns.jsonl",
        ),
        (
            EndToEnd(
                "Kinerja columns: kinerja eval --policy pp-46-2011 IN.parquet -o OUT.parquet",
                "kinerja eval --policy pp-46-2011 IN.parquet -o OUT.parquet",
            ),
            [kinerja, "eval", "--policy", "pp-46-2011", parquet_in, "-o", out_dir / "pp46-columns.parquet"],
            out_dir / "pp46-columns.parquet",
        ),
    ]
    runs += columnar
    for run, argv, out in runs:
        out.unlink(missing_ok=True)
        run.finished = run_process(argv, timeout=sizes.pp46_timeout)
        run.lines = _count_rows(out) if out.suffix == ".parquet" else _count_lines(out)
        state = "stopped at the time limit" if run.finished.code is None else f"exit {run.finished.code}"
        log(
            f"  {run.label}: {run.finished.wall:.1f} s, peak {run.finished.peak_mib:,.0f} MiB, {state}, "
            f"{run.lines:,} lines written"
        )
    for run, _, out in runs:
        _check_against_reference(reference, run, out)
        log(
            f"  {run.label}: {run.checked:,} records compared with the Fraction reference, {run.differ:,} differ"
            + (f" (e.g. {run.example})" if run.example else "")
        )
        out.unlink(missing_ok=True)
    return sizes.pp46_records, [run for run, _, _ in runs]


def _pp46_file(sizes: Sizes, flag: str, log) -> Path:
    """The pp-46 data as Parquet (`--parquet`) or the Fraction reference's outputs (`--reference`),
    made once by bench/data.py in a process of its own (untimed; this process stays small, so the
    children it starts later do not inherit its size in their peak RSS)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, HERE / "data.py", "--pp46", str(sizes.pp46_records), flag],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    made = Path(done.stdout.strip().splitlines()[-1])
    seconds = time.perf_counter() - started
    if seconds > 1:
        log(f"data: {made.relative_to(ROOT)} written in {seconds:.0f} s (untimed)")
    return made


def _count_rows(path: Path) -> int:
    if not path.exists():
        return 0
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def _count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    count = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 24):
            count += chunk.count(b"\n")
    return count


def _check_against_reference(reference: Path, run: EndToEnd, out: Path) -> None:
    """Every record `run` wrote against bench/peers/pp46_fraction.py's outputs for the same line:
    the id and the four outputs, numbers compared as exact decimals (JSON read with Decimal)."""
    from decimal import Decimal

    if not out.exists():
        return
    names = ["nilai_skp", "nilai_perilaku", "nilai_prestasi_kerja", "predikat"]

    def written():
        if out.suffix != ".parquet":
            with open(out, "rb") as lines:
                for line in lines:
                    if line.endswith(b"\n"):  # a line cut off where a run was stopped is not counted
                        result = json.loads(line, parse_float=Decimal)
                        yield str(result.get("id")), result.get("outputs")
            return
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(out).iter_batches(batch_size=65_536, columns=["id", *names]):
            for row in batch.to_pylist():
                shown = {n: json.loads(row[n], parse_float=Decimal) for n in names if row[n] is not None}
                yield str(row["id"]), shown

    with open(reference, "rb") as expected:
        for index, (got_id, got) in enumerate(written()):
            want = json.loads(expected.readline())
            want_outputs = {k: v if k == "predikat" else Decimal(v) for k, v in want["outputs"].items()}
            run.checked += 1
            if got_id != want["id"] or got != want_outputs:
                run.differ += 1
                if not run.example:
                    run.example = f"line {index + 1}: {got} instead of {want['outputs']}"


def pp46_table(count: int, runs: list[EndToEnd]) -> list[str]:
    rows = [
        f"| {count:,} pp-46-2011 records, file to file | wall s | records / s | peak RSS MiB | exit | "
        "records equal to the Fraction reference |",
        "|---|---:|---:|---:|---|---|",
    ]
    for run in runs:
        f = run.finished
        state = f"stopped after {f.wall:.0f} s with {run.lines:,} lines written" if f.code is None else str(f.code)
        rate = f"{run.lines / f.wall:,.0f}"
        rows.append(
            f"| {run.label} | {f.wall:.1f} | {rate} | {f.peak_mib:,.0f} | {state} | "
            f"{run.checked - run.differ:,} of {run.checked:,} |"
        )
    return rows


# ------------------------------------------------------------------------------------ HTTP
def run_http(sizes: Sizes, log) -> tuple[str, dict]:
    argv = [
        sys.executable,
        HERE / "http_evaluate.py",
        "--requests",
        sizes.http_requests,
        "--clients",
        8,
        "--records",
        sizes.http_records,
        "--seconds",
        sizes.http_seconds,
    ]
    finished = run_process(argv, timeout=sizes.http_seconds + 150)
    text = (finished.stdout + ("\n" + finished.stderr if finished.code else "")).strip()
    figures = {}
    if found := re.search(r"throughput: ([\d.,]+) requests/s, ([\d,]+) records/s", text):
        figures["requests_s"], figures["records_s"] = found.group(1), found.group(2)
    if found := re.search(r"latency: p50 (\d+) ms, p95 (\d+) ms, max (\d+) ms", text):
        figures["p50"], figures["p95"], figures["max"] = found.groups()
    for line in text.splitlines():
        log(f"  {line}")
    return text, figures


# ------------------------------------------------------------------------------------ targets
def targets(
    p: list[PResult] | None, pp46: list[EndToEnd] | None, pp46_count: int, elapsed: float, full: bool
) -> list[tuple[str, str, str, str]]:
    rows = []
    by = {r.name: r for r in p or []}
    zen = by.get("zen")

    def versus_zen(name: str, what: str, goal: str, test) -> None:
        mine = by.get(name)
        if mine is None or zen is None:
            rows.append((goal, "not run", "-", "MISSED (not run)"))
        elif zen.us is None:
            rows.append((goal, f"zen-engine {zen.problem}", "-", "MISSED (no zen figure to compare with)"))
        elif mine.us is None:
            rows.append((goal, f"{what} {mine.problem}", "-", "MISSED"))
        else:
            ratio_text, ok = test(mine.us, zen.us)
            measured = (
                f"{_us(mine.us)} µs vs zen {_us(zen.us)} µs per record; exact: {'yes' if mine.is_exact else 'no'}"
            )
            rows.append((goal, measured, ratio_text, "MET" if ok and mine.is_exact else "MISSED"))

    versus_zen(
        "kinerja-fast",
        "api.fast",
        "Kinerja scalar, exact, on P (record already parsed) <= 0.5x zen's time per record",
        lambda mine, theirs: (f"{mine / theirs:.2f}x zen's time", mine / theirs <= 0.5),
    )
    versus_zen(
        "kinerja-outputs",
        "kernel",
        "(the same job as zen: outputs only) Kinerja scalar, exact, <= 0.5x zen's time",
        lambda mine, theirs: (f"{mine / theirs:.2f}x zen's time", mine / theirs <= 0.5),
    )
    versus_zen(
        "kinerja-batch",
        "batch",
        "Kinerja batch, exact, on P (records parsed) >= 10x faster than zen per record",
        lambda mine, theirs: (f"{theirs / mine:.1f}x zen's speed", theirs / mine >= 10),
    )
    label = f"pp-46-2011, {pp46_count:,} records end to end"
    if not pp46:
        rows += [
            (f"{label} < 15 s", "not run", "-", "MISSED (not run)"),
            (f"{label}: peak RSS < 1 GiB", "not run", "-", "MISSED (not run)"),
            (f"{label}: every record equals the Fraction reference", "not run", "-", "MISSED (not run)"),
            (
                "kinerja eval end to end no slower than the hand-written float script",
                "not run",
                "-",
                "MISSED (not run)",
            ),
        ]
    else:
        kin, flo = pp46[:2]
        done = kin.finished.code == 0 and kin.lines == pp46_count
        wall = kin.finished.wall
        if done:
            rows.append(
                (f"{label} < 15 s", f"{wall:.1f} s", f"{wall / 15:.2f}x the limit", "MET" if wall < 15 else "MISSED")
            )
        else:
            projected = pp46_count / max(kin.lines / wall, 1e-9)
            how = "stopped at the time limit" if kin.finished.code is None else f"exit {kin.finished.code}"
            rows.append(
                (
                    f"{label} < 15 s",
                    f"not finished ({how}) after {wall:.0f} s with {kin.lines:,} lines written; "
                    f"at that rate about {projected:,.0f} s",
                    f"about {projected / 15:.1f}x the limit",
                    "MISSED",
                )
            )
        rows.append(
            (
                f"{label}: peak RSS < 1 GiB",
                f"{kin.finished.peak_mib:,.0f} MiB" + ("" if done else " (unfinished run)"),
                f"{kin.finished.peak_mib / 1024:.2f}x the limit",
                "MET" if done and kin.finished.peak_mib < 1024 else "MISSED",
            )
        )
        rows.append(
            (
                f"{label}: every record equals the Fraction reference",
                f"{kin.checked - kin.differ:,} of {kin.checked:,} equal" + ("" if done else " (of the lines written)"),
                "-",
                "MET" if done and kin.checked and not kin.differ else "MISSED",
            )
        )
        flo_done = flo.finished.code == 0 and flo.lines == pp46_count
        if not done or not flo_done:
            kin_rate, flo_rate = kin.lines / wall, flo.lines / flo.finished.wall
            rows.append(
                (
                    "kinerja eval end to end no slower than the hand-written float script",
                    f"not both finished; {kin_rate:,.0f} vs {flo_rate:,.0f} records/s",
                    f"about {flo_rate / max(kin_rate, 1e-9):.1f}x the script's time (by rate)",
                    "MISSED",
                )
            )
        else:
            ratio = wall / flo.finished.wall
            rows.append(
                (
                    "kinerja eval end to end no slower than the hand-written float script",
                    f"{wall:.1f} s vs {flo.finished.wall:.1f} s",
                    f"{ratio:.2f}x the script's time",
                    "MET" if ratio <= 1 else "MISSED",
                )
            )
    rows += columnar_targets(by, pp46 or [])
    rows.append(
        (
            "the whole bench runs in under 10 minutes",
            f"{elapsed / 60:.1f} min" + ("" if full else " (not a full run)"),
            f"{elapsed / 600:.2f}x the limit",
            "MET" if elapsed < 600 and full else "MISSED",
        )
    )
    return rows


def columnar_targets(by: dict, pp46: list) -> list[tuple[str, str, str, str]]:
    """Issue 15's targets (the columnar backend)."""
    rows = []

    def ratio(goal, mine, theirs, limit, faster: bool):
        a, b = by.get(mine), by.get(theirs)
        if a is None or b is None or a.us is None or b.us is None:
            rows.append((goal, "not run" if a is None or b is None else (a.problem or b.problem), "-", "MISSED"))
            return
        value = b.us / a.us if faster else a.us / b.us
        ok = (value >= limit if faster else value <= limit) and a.is_exact
        rows.append(
            (
                goal,
                f"{_us(a.us)} µs vs {_us(b.us)} µs per record; exact: {'yes' if a.is_exact else 'no'}",
                f"{value:.1f}x {'faster' if faster else 'the time'}",
                "MET" if ok else "MISSED",
            )
        )

    ratio(
        "(issue 15) Policy P in columns (Parquet in), exact: >= 10x faster than zen-engine per record",
        "kinerja-columns",
        "zen",
        10,
        True,
    )
    ratio(
        "(issue 15) Policy P in columns, compute only, exact: within 3x of OpenFisca's compute time",
        "kinerja-columns-compute",
        "openfisca",
        3,
        False,
    )
    rows.append(
        (
            "(issue 15) Policy P from JSON Lines end to end, exact: no slower than the float script",
            "not measured by this bench (JSON Lines stay on the scalar kernel; see below)",
            "-",
            "MISSED (not run)",
        )
    )
    for run in pp46[2:]:
        f = run.finished
        done = f is not None and f.code == 0
        rows.append(
            (
                f"(issue 15) pp-46-2011 from Parquet < 5 s: {run.command}",
                f"{f.wall:.1f} s, peak {f.peak_mib:,.0f} MiB" + ("" if done else f" (exit {f.code})"),
                f"{f.wall / 5:.2f}x the limit",
                "MET" if done and f.wall < 5 else "MISSED",
            )
        )
    kinerja_p = [r for r in by.values() if r.name.startswith("kinerja")]
    wrong = [r.name for r in kinerja_p if not r.is_exact]
    wrong += [r.command for r in pp46 if r.command.startswith("kinerja") and (r.differ or not r.checked)]
    rows.append(
        (
            "(issue 15) zero records differing from the exact reference, on every Kinerja run",
            "all equal" if not wrong else "differ: " + ", ".join(wrong),
            "-",
            "MET" if kinerja_p and not wrong else "MISSED",
        )
    )
    return rows


def targets_table(rows) -> list[str]:
    return [
        "| target | measured | ratio | verdict |",
        "|---|---|---|---|",
        *[f"| {goal} | {measured} | {ratio} | **{verdict}** |" for goal, measured, ratio, verdict in rows],
    ]


# ------------------------------------------------------------------------------------ report
def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": platform.platform(),
        "kinerja": f"{installed('kinerja')} at {commit or '?'}{' with uncommitted changes' if dirty else ''}",
        "zen-engine": installed("zen-engine"),
        "msgspec": installed("msgspec"),
    }


def report(info: dict, sections: dict, target_rows, elapsed: dict) -> str:
    out = [
        "# Performance",
        "",
        f"Generated by `python3 bench/run.py` on {info['date']}; re-run it to refresh this page (do not edit by hand).",
        "",
        f"Machine: {info['nproc']} cores ({info['cpu']}), {info['python']}, {info['os']}. "
        f"Kinerja {info['kinerja']}; peers from PyPI: zen-engine {info['zen-engine']}; msgspec {info['msgspec']} "
        "(Kinerja's JSON reader). Other work may have shared the machine during the run.",
        "",
        "## Targets (issues 5 and 15)",
        "",
        *targets_table(target_rows),
        "",
    ]
    if "p" in sections:
        results, total, rates = sections["p"]
        out += [
            "## Policy P (BENCH.md) side by side",
            "",
            f"{total:,} generated records (bench/data.py; {rates}). Each engine runs in a process of its own: it "
            "parses all records into its own input form (untimed), then times whole passes over them; the "
            "figure is the median pass divided by the records in it. Peak MiB is the process's peak RSS "
            "(ru_maxrss), the parsed records included. Every engine's outputs (hasil_kerja and perilaku at "
            "2 decimals, both ratings, predikat) are compared with the plain-Fraction reference on every record "
            "it evaluated. zen-engine is given each record as its JSON line (its fast path, parsing in Rust, as "
            "BENCH.md measured it); the others get records already parsed. `api.evaluate` also validates "
            "each record and returns every named value, and is timed on a subset.",
            "",
            *p_table(results, total),
            "",
        ]
    if "pp46" in sections:
        count, runs = sections["pp46"]
        out += [
            "## pp-46-2011 end to end",
            "",
            f"{count:,} generated records (bench/data.py), JSON Lines file to JSON Lines file, each command a "
            "process of its own; wall time from start to exit, peak RSS from os.wait4 (the largest single process of the run: a run on every core has a process per core, each of about this size). `kinerja eval` writes the "
            "full result (outputs, every named value, the policy reference); the float script writes the id and "
            "the four outputs and validates nothing. Every record each run wrote is compared with "
            "bench/peers/pp46_fraction.py, an independent plain-Fraction implementation of the rules (its "
            "outputs computed once per data file, untimed).",
            "",
            *pp46_table(count, runs),
            "",
            "The columnar runs read the same records from Parquet (DECIMAL(18, 6) columns, written from the "
            "JSON Lines file untimed and cached); on a file this size they use every core (a process per "
            "core, the standard library's executor).",
            "",
        ]
    if "http" in sections:
        text, _ = sections["http"]
        out += [
            "## HTTP evaluate endpoint",
            "",
            "`python bench/http_evaluate.py` (bounded: requests in all, and seconds), as it printed:",
            "",
            "```",
            text,
            "```",
            "",
        ]
    out += [
        "## Columnar files and Dask",
        "",
        "`kinerja eval` reads Parquet and Arrow IPC (`.parquet`, `.arrow`): numbers from DECIMAL, integer or "
        "decimal-text columns, never from float columns (refused with a message), list inputs as "
        "list<struct> columns, one record batch at a time. Rows the columns cannot trust (a problem to "
        "report, a possible int64 overflow) take the scalar path in their place; `--explain-engine` says how "
        "many. `-o OUT.parquet` writes one row per record with each output as exact JSON text. With "
        "`--dask SCHEDULER` the same function is mapped over the file's row groups on a Dask cluster "
        "(`local` starts a two-worker LocalCluster); the results are written in order by the client, the "
        "same bytes as a local run:",
        "",
        "```sh",
        "pip install 'kinerja[dask]'",
        "dask scheduler &                        # on the scheduler machine",
        "dask worker tcp://SCHEDULER:8786 &      # on each worker machine (Kinerja installed there too)",
        "kinerja eval --policy pp-46-2011 --dask tcp://SCHEDULER:8786 data.parquet -o results.parquet --explain-engine",
        "```",
        "",
        "## How to run",
        "",
        "```sh",
        "python3 bench/run.py             # everything, under 10 minutes; writes this page",
        "python3 bench/run.py --quick     # small sizes, a smoke run (prints only)",
        "python3 bench/run.py --only zen --only kinerja-fast   # some entries (prints only)",
        "```",
        "",
        "The first run creates `bench/.venv` (Kinerja from this checkout, editable, plus "
        f"{', '.join(PEERS)}) and the data in `bench/.cache/`; later runs reuse both. "
        f"Names for --only: {', '.join(P_ENTRIES)}, p (all of policy P), pp46, http.",
        "",
        "Time per section: " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in elapsed.items()) + ".",
        "",
    ]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run that writes nothing")
    parser.add_argument("--medium", action="store_true", help="a tenth of the full sizes; writes nothing")
    parser.add_argument(
        "--only",
        action="append",
        choices=[*P_ENTRIES, *SECTIONS],
        metavar="NAME",
        help=f"run only this ({', '.join([*P_ENTRIES, *SECTIONS])}); repeatable",
    )
    args = parser.parse_args()
    ensure_environment()
    sys.path.insert(0, str(HERE))
    sizes = QUICK if args.quick else MEDIUM if args.medium else FULL
    only = set(args.only or [])
    p_names = [n for n in P_ENTRIES if not only or n in only or "p" in only]
    full = not args.quick and not args.medium and not only
    began = time.perf_counter()
    elapsed: dict[str, float] = {}
    sections: dict = {}

    def log(text: str) -> None:
        print(text, flush=True)

    info = machine()
    log(
        f"bench: {info['nproc']} cores ({info['cpu']}), {info['python']}; zen-engine {info['zen-engine']}; "
        f"{'quick' if args.quick else 'medium' if args.medium else 'full'} sizes"
    )
    p_results = pp46_runs = None
    if p_names:
        log(f"== policy P, {sizes.p_records:,} records")
        start = time.perf_counter()
        import data

        p_results = run_p(sizes, p_names, log)
        total, edges, midpoints = data.rates(data.ensure("p", sizes.p_records))
        rates = f"exactly on 90 or 110: {edges / total:.2%}; exact x.xx5 midpoints: {midpoints / total:.2%}"
        sections["p"] = (p_results, total, rates)
        elapsed["policy P"] = time.perf_counter() - start
        log(f"   policy P took {elapsed['policy P']:.0f} s")
    if not only or "pp46" in only:
        log(f"== pp-46-2011, {sizes.pp46_records:,} records end to end")
        start = time.perf_counter()
        count, pp46_runs = run_pp46(sizes, log)
        sections["pp46"] = (count, pp46_runs)
        elapsed["pp-46-2011"] = time.perf_counter() - start
        log(f"   pp-46-2011 took {elapsed['pp-46-2011']:.0f} s")
    if not only or "http" in only:
        log(f"== HTTP, {sizes.http_requests} requests of {sizes.http_records:,} records, 8 clients")
        start = time.perf_counter()
        sections["http"] = run_http(sizes, log)
        elapsed["HTTP"] = time.perf_counter() - start
        log(f"   HTTP took {elapsed['HTTP']:.0f} s")
    total_elapsed = time.perf_counter() - began
    elapsed["total"] = total_elapsed
    rows = targets(p_results, pp46_runs, sizes.pp46_records, total_elapsed, full)
    text = report(info, sections, rows, elapsed)
    print()
    print(text)
    if full:
        DOC.write_text(text, encoding="utf-8")
        print(f"bench: wrote {DOC.relative_to(ROOT)}")
    else:
        print(f"bench: {DOC.relative_to(ROOT)} not written (--quick or --only)")


if __name__ == "__main__":
    main()
