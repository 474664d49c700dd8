"""One meaning, in columns: the columnar backend (engine.evaluate.columns) writes byte for byte what
the scalar path (the fast kernel, else the exact evaluator) writes, on every example file, on
records generated from every bundled policy (band edges, midpoints, numbers large enough that
int64 must give up), from Parquet and Arrow files, and on a Dask cluster.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fast import _bounds, _record

from engine import api
from engine.api import LineEvaluator
from engine.cli import columnar_files as files
from engine.cli.columnar_lines import ChunkEvaluator
from engine.evaluate import columnar_io as cio
from engine.evaluate.columns import columns
from engine.evaluate.io import decode_json, encode
from engine.policy.document import available

pytestmark = pytest.mark.usefixtures("english")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.jsonl"))
#: Bundled policies the columns take whole (the others fall back whole, tested below).
COVERED = ["palu", "permenpanrb-6-2022", "pp-46-2011", "serang", "sinabang"]


def _policy_of(path: Path) -> str:
    name = path.stem
    if name.startswith("pp-46-2011"):
        return "pp-46-2011"
    if name.startswith("kurva-distribusi"):
        return "permenpanrb-6-2022"
    return name.removesuffix("-bad")


def both_ways(loaded, lines: list[bytes]) -> tuple[bytes, bytes, ChunkEvaluator]:
    """(the scalar path's lines, the columns' lines, the chunk evaluator with its counts)."""
    scalar = LineEvaluator(lambda record: loaded, loaded)
    expected = b"".join(scalar.line(raw, number)[0] for number, raw in enumerate(lines, start=1) if raw.strip())
    chunked = ChunkEvaluator(lambda record: loaded, loaded, use_columns=True)
    got, _records, _bad, _size = chunked.chunk(1, lines)
    return expected, got, chunked


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_columns_equal_the_scalar_path_on_every_example_file(path):
    loaded = api.load(_policy_of(path))
    lines = path.read_bytes().splitlines(keepends=True)
    expected, got, chunked = both_ways(loaded, lines)
    assert got == expected
    if _policy_of(path) in COVERED and not path.stem.endswith(("-bad", "-mixed")):
        assert chunked.counts.columns > 0 and chunked.counts.columns >= chunked.counts.scalar


@pytest.mark.parametrize("policy_id", sorted(available()))
def test_each_bundled_policy_is_taken_or_refused_whole_with_a_reason(policy_id):
    found = columns(api.load(policy_id))
    assert found.usable == (policy_id in COVERED), found.reason


def _huge(record):
    """The record with every number made enormous: int64 cross products must give up on it."""
    if isinstance(record, dict):
        return {k: _huge(v) for k, v in record.items()}
    if isinstance(record, list):
        return [_huge(v) for v in record]
    if isinstance(record, Decimal) or isinstance(record, int) and not isinstance(record, bool):
        return Decimal(record) * Decimal("987654321.123") + Decimal("0.001")
    return record


@pytest.mark.parametrize("policy_id", COVERED)
def test_columns_equal_the_scalar_path_on_generated_records(policy_id):
    loaded = api.load(policy_id)
    record = _record(loaded.policy.inputs, _bounds(loaded.policy))

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(st.tuples(record, st.integers(0, 9)), min_size=1, max_size=40))
    def check(drawn):
        lines = [encode(_huge(r) if k == 0 else r) + b"\n" for r, k in drawn]
        expected, got, _chunked = both_ways(loaded, lines)
        assert got == expected

    check()


def test_rows_that_could_overflow_int64_take_the_exact_path():
    loaded = api.load("pp-46-2011")
    record = decode_json((ROOT / "examples" / "pp-46-2011.jsonl").read_bytes().splitlines()[0])
    record["kegiatan"][0]["kuantitas"] = {"target": Decimal("0.000000000007"), "realisasi": Decimal("999999999.99")}
    lines = [encode(record) + b"\n", (ROOT / "examples" / "pp-46-2011.jsonl").read_bytes().splitlines(keepends=True)[1]]
    expected, got, chunked = both_ways(loaded, lines)
    assert got == expected
    assert (chunked.counts.columns, chunked.counts.scalar) == (1, 1)


def test_policy_p_in_columns_equals_the_kernel():
    sys.path.insert(0, str(ROOT / "bench"))
    import data

    loaded = api.load(ROOT / "bench" / "policy-p.yaml")
    lines = [line + b"\n" for line in data.p_records(3000)]
    expected, got, chunked = both_ways(loaded, lines)
    assert got == expected
    assert chunked.counts.columns == 3000


# Columnar files ---------------------------------------------------------------------------------------


def _to_parquet(policy_id: str, source: Path, target: Path, row_group: int = 100) -> None:
    loaded = api.load(policy_id)
    records = [decode_json(line) for line in source.read_bytes().splitlines() if line.strip()]
    pq.write_table(cio.table_from_records(loaded.policy, records), target, row_group_size=row_group)


def _kinerja(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", "--lang", "en", *map(str, args)], capture_output=True, cwd=ROOT
    )


@pytest.mark.parametrize("name", ["pp-46-2011", "serang", "sinabang"])
def test_kinerja_eval_reads_parquet_and_writes_what_it_writes_from_json_lines(tmp_path, name):
    policy_id = _policy_of(Path(name))
    source = ROOT / "examples" / f"{name}.jsonl"
    _to_parquet(policy_id, source, tmp_path / "in.parquet", row_group=64)
    from_json = _kinerja("eval", "--policy", policy_id, source)
    from_parquet = _kinerja("eval", "--policy", policy_id, tmp_path / "in.parquet", "--explain-engine")
    assert from_parquet.returncode == from_json.returncode
    assert from_parquet.stdout == from_json.stdout
    assert b"engine: columns for" in from_parquet.stderr


def test_a_record_the_columns_refuse_gets_the_exact_paths_errors_at_its_row(tmp_path):
    source = (ROOT / "examples" / "pp-46-2011.jsonl").read_bytes().splitlines()
    broken = decode_json(source[1])
    broken["kegiatan"][0]["kuantitas"]["realisasi"] = Decimal(-5)
    lines = [source[0] + b"\n", encode(broken) + b"\n", source[2] + b"\n"]
    (tmp_path / "in.jsonl").write_bytes(b"".join(lines))
    _to_parquet("pp-46-2011", tmp_path / "in.jsonl", tmp_path / "in.parquet")
    from_json = _kinerja("eval", "--policy", "pp-46-2011", tmp_path / "in.jsonl")
    from_parquet = _kinerja("eval", "--policy", "pp-46-2011", tmp_path / "in.parquet", "--explain-engine")
    assert from_parquet.returncode == from_json.returncode == 1
    assert from_parquet.stdout == from_json.stdout
    assert b'"line":2' in from_parquet.stdout
    assert b"columns for 2 record(s), scalar path (kernel or exact) for 1" in from_parquet.stderr


def test_arrow_ipc_in_and_parquet_out_hold_exact_text(tmp_path):
    loaded = api.load("pp-46-2011")
    records = [decode_json(line) for line in (ROOT / "examples" / "pp-46-2011.jsonl").read_bytes().splitlines()]
    table = cio.table_from_records(loaded.policy, records)
    with pa.ipc.new_file(tmp_path / "in.arrow", table.schema) as writer:
        writer.write_table(table)
    done = _kinerja(
        "eval", "--policy", "pp-46-2011", tmp_path / "in.arrow", "-o", tmp_path / "out.parquet", "--outputs-only"
    )
    assert done.returncode == 0, done.stderr
    out = pq.read_table(tmp_path / "out.parquet").to_pylist()
    expected = [api.evaluate(loaded, r) for r in records]
    assert [row["line"] for row in out] == [1, 2, 3]
    assert [row["nilai_prestasi_kerja"] for row in out] == [
        encode(e["outputs"]["nilai_prestasi_kerja"]).decode() for e in expected
    ]
    assert "values" not in out[0]


def test_a_float_column_is_refused_with_a_message_that_says_what_to_write(tmp_path):
    loaded = api.load("pp-46-2011")
    records = [decode_json(line) for line in (ROOT / "examples" / "pp-46-2011.jsonl").read_bytes().splitlines()]
    table = cio.table_from_records(loaded.policy, records)
    table = table.set_column(
        table.schema.get_field_index("kreativitas"), "kreativitas", table.column("kreativitas").cast(pa.float64())
    )
    pq.write_table(table, tmp_path / "floats.parquet")
    done = _kinerja("eval", "--policy", "pp-46-2011", tmp_path / "floats.parquet")
    assert done.returncode == 2
    assert b"column kreativitas holds binary floats" in done.stderr and b"DECIMAL" in done.stderr


def test_decimal_text_columns_are_read_exactly(tmp_path):
    loaded = api.load("pp-46-2011")
    records = [decode_json(line) for line in (ROOT / "examples" / "pp-46-2011.jsonl").read_bytes().splitlines()]
    table = cio.table_from_records(loaded.policy, records)
    texts = pa.array(
        [None if v is None else format(v.normalize(), "f") for v in table.column("kreativitas").to_pylist()]
    )
    table = table.set_column(table.schema.get_field_index("kreativitas"), "kreativitas", texts)
    pq.write_table(table, tmp_path / "text.parquet")
    from_text = _kinerja("eval", "--policy", "pp-46-2011", tmp_path / "text.parquet")
    from_json = _kinerja("eval", "--policy", "pp-46-2011", ROOT / "examples" / "pp-46-2011.jsonl")
    assert from_text.stdout == from_json.stdout


def test_outputs_only_leaves_the_values_out_and_keeps_the_outputs():
    source = ROOT / "examples" / "serang.jsonl"
    full = _kinerja("eval", "--policy", "serang", source).stdout.splitlines()
    short = _kinerja("eval", "--policy", "serang", source, "--outputs-only").stdout.splitlines()
    import json

    assert len(full) == len(short) == 303
    for a, b in zip(full, short):
        whole = json.loads(a)
        del whole["values"]
        assert json.loads(b) == whole


def test_dask_on_a_two_worker_local_cluster_writes_the_local_bytes(tmp_path):
    from dask.distributed import LocalCluster

    _to_parquet("serang", ROOT / "examples" / "serang.jsonl", tmp_path / "in.parquet", row_group=40)
    local = io.BytesIO()
    files.run("serang", None, [str(tmp_path / "in.parquet")], local, None, True)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        distributed = io.BytesIO()
        totals = files.run(
            "serang", None, [str(tmp_path / "in.parquet")], distributed, None, True, cluster.scheduler_address
        )
    assert distributed.getvalue() == local.getvalue()
    assert totals.partitions == 8 and totals.records == 303
    assert local.getvalue() == _kinerja("eval", "--policy", "serang", ROOT / "examples" / "serang.jsonl").stdout


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_a_large_file_on_every_core_writes_the_bytes_of_one_process(tmp_path, monkeypatch, suffix):
    """A file of PARALLEL_FROM_ROWS rows or more runs a process per core (here the limit is lowered
    so the 303 example records count as large); its output is the one-process output, in order."""
    _to_parquet("serang", ROOT / "examples" / "serang.jsonl", tmp_path / "in.parquet", row_group=40)
    parts = files.partitions(str(tmp_path / "in.parquet"))
    assert files.local_workers(parts) == 1  # 303 rows: this process alone
    alone = tmp_path / f"alone{suffix}"
    files.run("serang", None, [str(tmp_path / "in.parquet")], None, str(alone), True)
    monkeypatch.setattr(files, "PARALLEL_FROM_ROWS", 1)
    assert files.local_workers(parts) == min(len(os.sched_getaffinity(0)), len(parts))
    pooled = tmp_path / f"pooled{suffix}"
    totals = files.run("serang", None, [str(tmp_path / "in.parquet")], None, str(pooled), True)
    assert totals.records == 303 and totals.partitions == 8
    if suffix == ".jsonl":
        assert pooled.read_bytes() == alone.read_bytes()
    else:
        assert pq.read_table(pooled).equals(pq.read_table(alone))
