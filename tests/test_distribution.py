"""Unit-level rules: the kurva distribusi of PermenPANRB 6/2022, checked exactly per unit."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from engine import api
from engine.cli import main

#: The assertions below read the English texts; Indonesian is the default (tests/test_language.py).
pytestmark = pytest.mark.usefixtures("english")

ROOT = Path(__file__).resolve().parent.parent
RATINGS = {  # a pair of ratings that gives each predikat in the national matrix
    "SB": ("di_atas", "di_atas"),
    "B": ("sesuai", "sesuai"),
    "BP": ("di_bawah", "sesuai"),
    "KM": ("sesuai", "di_bawah"),
    "SK": ("di_bawah", "di_bawah"),
}


def run(args, monkeypatch, stdin: bytes = b""):
    out = io.StringIO()
    fake_in = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", fake_in)
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    return main(args), out.getvalue()


def unit_files(tmp_path, units: dict[str, tuple[str, dict]]):
    """units: id -> (unit predikat, {SB: 2, B: 7, ...}); writes records and the units file."""
    records, lines, seq = [], ["units:"], 0
    for unit_id, (predikat, mix) in units.items():
        members = []
        for code, count in mix.items():
            for _ in range(count):
                seq += 1
                members.append(f"{seq:018d}")
                hasil, perilaku = RATINGS[code]
                records.append({"id": members[-1], "rating_hasil_kerja": hasil, "rating_perilaku": perilaku})
        lines += [f"  - id: {unit_id}", f"    predikat: {predikat}", f"    members: {json.dumps(members)}"]
    (tmp_path / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (tmp_path / "units.yaml").write_text("\n".join(lines) + "\n")
    return str(tmp_path / "records.jsonl"), str(tmp_path / "units.yaml")


def violations(tmp_path, monkeypatch, units) -> tuple[int, dict]:
    records, units_file = unit_files(tmp_path, units)
    status, out = run(
        ["distribution", "--policy", "permenpanrb-6-2022", records, "--units", units_file, "--json"], monkeypatch
    )
    document = json.loads(out)
    return status, {r["unit"]: [v["condition"] for v in r["violations"]] for r in document["reports"]}


def test_domain_example_units_report_exactly_the_listed_violations(monkeypatch):
    status, out = run(
        [
            "distribution",
            "--policy",
            "permenpanrb-6-2022",
            str(ROOT / "examples/kurva-distribusi.jsonl"),
            "--units",
            str(ROOT / "examples/kurva-distribusi-units.yaml"),
            "--json",
        ],
        monkeypatch,
    )
    found = {
        r["unit"]: [(v["condition"], v["count"], v["total"]) for v in r["violations"]]
        for r in json.loads(out)["reports"]
    }
    assert found == {
        "unit-a": [("Baik at most 70%", 8, 10)],
        "unit-b": [],  # 7 of 10 is exactly 70%: allowed
        "unit-c": [("Butuh Perbaikan or Kurang/Misconduct at least 1 employees", 0, 10)],
    }
    assert status == 1


@pytest.mark.parametrize(
    "predikat,mix,expected",
    [
        ("Istimewa", {"SB": 7, "B": 3}, []),
        ("Istimewa", {"SB": 8, "B": 2}, ["Sangat Baik at most 70%"]),
        ("Butuh Perbaikan", {"BP": 6, "SB": 1, "B": 3}, []),
        ("Butuh Perbaikan", {"BP": 5, "SB": 2, "B": 3}, ["Butuh Perbaikan at least 60%", "Sangat Baik at most 10%"]),
        ("Kurang", {"KM": 6, "BP": 1, "SB": 1, "B": 2}, []),
        ("Kurang", {"KM": 7, "SB": 1, "B": 2}, ["Butuh Perbaikan at least 10%"]),
        ("Sangat Kurang", {"SK": 6, "KM": 1, "B": 3}, []),
        ("Sangat Kurang", {"SK": 6, "BP": 1, "SB": 1, "B": 2}, ["Sangat Baik at most 0 employees"]),
        ("Sangat Kurang", {"SK": 5, "KM": 1, "B": 4}, ["Sangat Kurang at least 60%"]),
    ],
)
def test_each_case_of_the_kurva_distribusi(tmp_path, monkeypatch, predikat, mix, expected):
    status, found = violations(tmp_path, monkeypatch, {"u": (predikat, mix)})
    assert found["u"] == expected
    assert status == (1 if expected else 0)


def test_shares_compare_exactly_with_thirds(tmp_path, monkeypatch):
    # 4 of 6 Butuh Perbaikan is 66.66...%: at least 60% holds; 1 Sangat Baik of 6 (16.66...%) breaks at most 10%
    status, found = violations(tmp_path, monkeypatch, {"u": ("Butuh Perbaikan", {"BP": 4, "SB": 1, "B": 1})})
    assert found["u"] == ["Sangat Baik at most 10%"]


def test_small_units_are_listed_but_not_checked(tmp_path, monkeypatch, indonesian):
    records, units_file = unit_files(tmp_path, {"kecil": ("Baik", {"B": 4})})
    status, out = run(["distribution", "--policy", "permenpanrb-6-2022", records, "--units", units_file], monkeypatch)
    assert "kurang dari 5 pegawai: tidak diperiksa" in out
    assert status == 0


def test_a_unit_predikat_without_a_rule_is_a_problem(tmp_path, monkeypatch):
    records, units_file = unit_files(tmp_path, {"u": ("Bagus", {"B": 5, "BP": 1})})
    status, out = run(
        ["distribution", "--policy", "permenpanrb-6-2022", records, "--units", units_file, "--lang", "en"], monkeypatch
    )
    assert "cannot be checked: no rule for unit predikat Bagus" in out
    assert status == 1


def test_results_of_eval_are_accepted_as_well_as_records(tmp_path, monkeypatch):
    records, units_file = unit_files(tmp_path, {"u": ("Baik", {"SB": 1, "B": 8, "BP": 1})})
    loaded = api.load("permenpanrb-6-2022")
    from engine.evaluate.io import decode_json, encode

    results = b"".join(
        encode(api.evaluate(loaded, decode_json(line))) + b"\n" for line in Path(records).read_bytes().splitlines()
    )
    status, out = run(
        ["distribution", "--policy", "permenpanrb-6-2022", "-", "--units", units_file, "--json"],
        monkeypatch,
        stdin=results,
    )
    assert [v["condition"] for v in json.loads(out)["reports"][0]["violations"]] == ["Baik at most 70%"]
    assert status == 1


def test_members_without_a_result_make_the_unit_incomplete(tmp_path, monkeypatch):
    records, units_file = unit_files(tmp_path, {"u": ("Baik", {"SB": 2, "B": 7, "BP": 1})})
    lines = Path(records).read_text().splitlines()
    Path(records).write_text("\n".join(lines[1:]) + "\n")  # one member's record is absent
    status, out = run(
        ["distribution", "--policy", "permenpanrb-6-2022", records, "--units", units_file, "--json"], monkeypatch
    )
    report = json.loads(out)["reports"][0]
    assert report["missing"] == [f"{1:018d}"] and report["employees"] == 9
    assert status == 1


def test_a_bad_units_file_is_a_located_error(tmp_path, monkeypatch):
    bad = tmp_path / "units.yaml"
    bad.write_text("units:\n  - id: a\n    members: ['1', '2']\n  - id: b\n    members: ['2']\n  - name: tanpa id\n")
    status, _ = run(["distribution", "--policy", "permenpanrb-6-2022", "-", "--units", str(bad)], monkeypatch)
    assert status == 2
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    main(["distribution", "--policy", "permenpanrb-6-2022", "-", "--units", str(bad)])
    assert f"{bad}:4:5: units.member_twice: employee 2 is in unit b and in unit a" in err.getvalue()
    assert f"{bad}:6:5: units.format:" in err.getvalue()


def test_a_unit_rule_naming_an_unknown_label_is_a_check_error(tmp_path):
    policy = (ROOT / "policies" / "permenpanrb-6-2022.yaml").read_text(encoding="utf-8")
    broken = policy.replace("- {labels: [Sangat Baik], at_most: 70}", "- {labels: [Sangat Bagus], at_most: 70}")
    (tmp_path / "permenpanrb-6-2022.yaml").write_text(broken, encoding="utf-8")
    _, diagnostics = api.check(tmp_path / "permenpanrb-6-2022.yaml")
    assert [(d.code, d.hint) for d in diagnostics] == [("unit_rule.unknown_label", "did you mean 'Sangat Baik'?")]
