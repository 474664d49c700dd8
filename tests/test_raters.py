"""360 feedback and the rater-bias report (issue 11, item 5): `kinerja distribution --raters`
names a superior whose ratings stand far above the unit's mean."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _analis(nip: str, atasan: str, score: int, peers: list[int]) -> dict:
    return {
        "id": nip,
        "jabatan": "analis",
        "atasan": atasan,
        "triwulan": [
            {
                "nomor": 1,
                "hasil_tugas": {"target": 100, "realisasi": 100},
                "disiplin": {"target": 100, "realisasi": 100},
                "kerja_sama": {"target": 100, "realisasi": 100},
            }
        ],
        "perilaku": {
            k: score
            for k in ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")
        },
        "umpan_balik": [{"jenis": "rekan_sejawat", "nilai": p} for p in peers],
    }


def _unit(tmp_path: Path, records: list[dict]) -> tuple[Path, Path]:
    data = tmp_path / "records.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    units = tmp_path / "units.yaml"
    units.write_text(
        "units:\n  - id: bidang-uji\n    name: Bidang Uji\n    predikat: Baik\n    members: ["
        + ", ".join(json.dumps(r["id"]) for r in records)
        + "]\n",
        encoding="utf-8",
    )
    return data, units


def test_a_lenient_superior_is_named_with_the_numbers(tmp_path, run_cli, monkeypatch):
    """Superior A gives 100 and 100, B gives 80 and 80; the peers give 70 (A's) and 80 (B's), three each.
    Unit mean of all 16 ratings: (200 + 160 + 6 x 70 + 6 x 80) / 16 = 78.75; A is 21.25 above it."""
    monkeypatch.setenv("KINERJA_LANG", "en")
    records = [
        _analis("1", "A", 100, [70, 70, 70]),
        _analis("2", "A", 100, [70, 70, 70]),
        _analis("3", "B", 80, [80, 80, 80]),
        _analis("4", "B", 80, [80, 80, 80]),
    ]
    data, units = _unit(tmp_path, records)
    code, out, _ = run_cli(
        "distribution", "--policy", "kertapati", str(data), "--units", str(units), "--raters", "--lang", "en"
    )
    assert code == 1
    assert out.splitlines() == [
        "Unit bidang-uji (Bidang Uji): 16 ratings, unit mean 78.75",
        "  superior A: employees: 2, mean 100, 21.25 points above the unit mean: far above the unit (from 10 points); "
        "check for leniency",
        "  superior B: employees: 2, mean 80, 1.25 points above the unit mean",
        "1 units, 1 superiors far above their unit's mean",
    ]


def test_no_superior_far_above_exits_0_and_speaks_indonesian(tmp_path, run_cli, monkeypatch):
    monkeypatch.delenv("KINERJA_LANG", raising=False)
    records = [_analis("1", "A", 85, [80, 82, 84]), _analis("2", "B", 80, [80, 80, 80])]
    data, units = _unit(tmp_path, records)
    code, out, _ = run_cli("distribution", "--policy", "kertapati", str(data), "--units", str(units), "--raters")
    assert code == 0
    assert "rata-rata unit" in out and "atasan A: pegawai: 1" in out and "0 atasan jauh di atas" in out


def test_json_report_is_exact(tmp_path, run_cli):
    records = [_analis("1", "A", 100, [70, 70, 70]), _analis("2", "B", 80, [80, 80, 80])]
    data, units = _unit(tmp_path, records)
    code, out, _ = run_cli(
        "distribution", "--policy", "kertapati", str(data), "--units", str(units), "--raters", "--json"
    )
    (report,) = json.loads(out)["reports"]
    assert report["ratings"] == 8 and report["mean"] == "78.75"  # (100 + 80 + 3 x 70 + 3 x 80) / 8 = 630 / 8
    assert report["superiors"][0] == {
        "atasan": "A",
        "employees": 1,
        "mean": "100",
        "difference": "21.25",
        "far_above": True,
    }


def test_results_are_refused_because_the_raters_are_inputs(tmp_path, run_cli):
    data, units = _unit(tmp_path, [_analis("1", "A", 90, [90, 90, 90])])
    _, results, _ = run_cli("eval", "--policy", "kertapati", str(data))
    (tmp_path / "results.jsonl").write_text(results, encoding="utf-8")
    code, _, err = run_cli(
        "distribution", "--policy", "kertapati", str(tmp_path / "results.jsonl"), "--units", str(units), "--raters"
    )
    assert code == 2 and "--raters" in err


def test_a_policy_without_a_rater_rule_is_a_usage_error(run_cli):
    code, _, err = run_cli(
        "distribution",
        "--policy",
        "permenpanrb-6-2022",
        "examples/kurva-distribusi.jsonl",
        "--units",
        str(ROOT / "examples" / "kurva-distribusi-units.yaml"),
        "--raters",
    )
    assert code == 2 and "bias_penilai" in err


def test_the_example_data_holds_one_lenient_superior_each(run_cli, monkeypatch):
    monkeypatch.setenv("KINERJA_LANG", "en")
    for policy, unit in (("kertapati", "bkpsdm-kertapati"), ("surabaya", "bapenda-upt-pbb")):
        code, out, _ = run_cli(
            "distribution",
            "--policy",
            policy,
            str(ROOT / "examples" / f"{policy}.jsonl"),
            "--units",
            str(ROOT / "examples" / f"{policy}-units.yaml"),
            "--raters",
            "--lang",
            "en",
        )
        flagged = [line for line in out.splitlines() if "far above the unit (from" in line]
        assert code == 1 and len(flagged) == 1, out
        lines = out.splitlines()
        header = max(i for i, line in enumerate(lines) if line.startswith("Unit ") and i < lines.index(flagged[0]))
        assert lines[header].startswith(f"Unit {unit} ")


def test_a_rater_rule_naming_an_unknown_input_is_an_error(write_policy, run_cli, monkeypatch):
    monkeypatch.setenv("KINERJA_LANG", "en")
    path = write_policy("""kinerja: 1
id: anak
extends: kertapati
bias_penilai:
  atasan: atasan_langsung
""")
    code, out, _ = run_cli("check", str(path))
    assert code == 1 and "raters.unknown: 'atasan_langsung' is not an input of this policy" in out
