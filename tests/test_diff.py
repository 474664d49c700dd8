"""kinerja diff: differences of meaning between two policies, and whom a change moves."""

from __future__ import annotations

import io
import json
import random
import sys
from pathlib import Path

import pytest

from engine import api
from engine.cli import main
from engine.review.diff import compare, impact

#: The assertions below read the English texts; Indonesian is the default (tests/test_language.py).
pytestmark = pytest.mark.usefixtures("english")

POLICIES = Path(__file__).resolve().parent.parent / "policies"


def run(args, monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    return main(args), out.getvalue()


def copy_of_pp30(tmp_path, *replacements) -> Path:
    text = (POLICIES / "pp-30-2019.yaml").read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "pp-30-2019.yaml"
    path.write_text(text, encoding="utf-8")
    return path


THRESHOLD = ('{when: [">= 70", "-"], then: Cukup}', '{when: [">= 75", "-"], then: Cukup}')


def test_one_changed_threshold_is_a_one_line_diff(tmp_path, monkeypatch):
    status, out = run(["diff", "pp-30-2019", str(copy_of_pp30(tmp_path, THRESHOLD))], monkeypatch)
    assert status == 1
    assert out.splitlines()[1:] == ["~ values.predikat.table.rows[3].when[1]: >= 70 -> >= 75"]


def test_reordering_and_reformatting_make_no_difference(tmp_path, monkeypatch):
    path = copy_of_pp30(
        tmp_path,
        (
            "formula: min(nilai_kinerja_utama + nilai_kinerja_tambahan, 120)",
            "formula: min( nilai_kinerja_utama   + nilai_kinerja_tambahan, 120 )",
        ),
        (
            "formula: nilai_skp * bobot_skp + nilai_perilaku * (1 - bobot_skp)",
            "formula: (nilai_skp * bobot_skp) + (nilai_perilaku * (1 - bobot_skp))",
        ),
        ('- {when: "[100, 101)", then: 109}', "- {then: 109, when: '[100,101)'}"),
        (
            "  nilai_skp: {label: Nilai SKP, range: [0, 120]}\n  nilai_kinerja: {label: Nilai kinerja, range: [0, 120]}",
            "  nilai_kinerja: {range: [0, 120], label: Nilai kinerja}\n  nilai_skp: {label: Nilai SKP, range: [0, 120]}",
        ),
    )
    assert compare(api.load("pp-30-2019").policy.data, api.load(path).policy.data) == []
    assert run(["diff", "pp-30-2019", str(path)], monkeypatch)[0] == 0


def test_the_impact_on_300_records_matches_a_direct_evaluation_under_both(tmp_path, monkeypatch):
    rng = random.Random(30)
    records = [
        {
            "id": f"{i:018d}",
            "iki": [{"target": 100, "realisasi": rng.randint(40, 115)} for _ in range(rng.randint(1, 4))],
            "nilai_perilaku": rng.randint(40, 120),
            "ide_baru": rng.random() < 0.3,
        }
        for i in range(300)
    ]
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    old, new = api.load("pp-30-2019"), api.load(copy_of_pp30(tmp_path, THRESHOLD))
    result = impact(old, new, [json.loads(line) for line in data.read_text().splitlines()])
    assert sum(result.transitions.values()) == 300 and not result.failed
    direct = {}
    for record in records:
        pair = (api.evaluate(old, record)["outputs"]["predikat"], api.evaluate(new, record)["outputs"]["predikat"])
        direct[pair] = direct.get(pair, 0) + 1
    assert result.transitions == direct
    assert any(a == "Cukup" and b == "Kurang" for a, b in direct)  # the change does move someone
    status, out = run(["diff", "pp-30-2019", str(tmp_path / "pp-30-2019.yaml"), "--data", str(data)], monkeypatch)
    moved = sum(count for (a, b), count in direct.items() if a != b)
    assert f"{moved} records change predikat:" in out and "300 records evaluated under both policies" in out


# Per unit (--units) ------------------------------------------------------------------------------

EXAMPLES = POLICIES.parent / "examples"
SERANG_DI_ATAS = (
    '    formula: "100"\n    basis: DOMAIN.md, Regional practice (rata-rata capaian >= 100 Di Atas)',
    '    formula: "102"\n    basis: DOMAIN.md, Regional practice (rata-rata capaian >= 100 Di Atas)',
)


def serang_with_threshold(tmp_path) -> Path:
    text = (POLICIES / "serang.yaml").read_text(encoding="utf-8")
    assert text.count(SERANG_DI_ATAS[0]) == 1
    path = tmp_path / "serang.yaml"
    path.write_text(text.replace(*SERANG_DI_ATAS), encoding="utf-8")
    return path


def test_per_unit_counts_and_verdicts_match_a_direct_evaluation_under_both(tmp_path):
    from engine.diagnostics import Diagnostics
    from engine.evaluate.io import decode_json
    from engine.review.diff import unit_impacts_json
    from engine.review.distribution import assess, read_units

    old, new = api.load("serang"), api.load(serang_with_threshold(tmp_path))
    records = [decode_json(line) for line in (EXAMPLES / "serang.jsonl").read_bytes().splitlines() if line.strip()]
    problems = Diagnostics()
    units = read_units(EXAMPLES / "serang-units.yaml", problems)
    assert not problems and units
    result = impact(old, new, records, units)
    assert [u.unit.id for u in result.units] == [u.id for u in units]
    for loaded, side in ((old, "old"), (new, "new")):
        outputs = {str(r["id"]): api.evaluate(loaded, r)["outputs"] for r in records}
        rule = loaded.policy.unit_rules["kurva_distribusi"]
        for change, unit in zip(result.units, units):
            counts, total = getattr(change, side), getattr(change, f"{side}_total")
            direct: dict = {}
            for member in unit.members:
                direct[outputs[member]["predikat"]] = direct.get(outputs[member]["predikat"], 0) + 1
            assert counts == direct
            assert total == sum(counts.values()) == len(unit.members)
            (report,) = assess(rule, [unit], outputs)
            ((name, before, after),) = change.verdicts
            verdict = after if side == "new" else before
            assert (name, verdict.status) == ("kurva_distribusi", "violates" if report.violations else "meets")
    # by hand: the Istimewa unit disdik-sekretariat had 27 of 35 Sangat Baik (77% > 70%); with
    # Di Atas from 102 four of them fall to Baik, and 23 of 35 (65.7%) meets the rule
    (sekretariat,) = [u for u in result.units if u.unit.id == "disdik-sekretariat"]
    assert (sekretariat.old["Sangat Baik"], sekretariat.new["Sangat Baik"]) == (27, 23)
    assert [u.unit.id for u in result.units if u.verdict_changed] == ["disdik-sekretariat"]
    data = json.loads(json.dumps(unit_impacts_json(result)))
    (entry,) = [d for d in data if d["unit"] == "disdik-sekretariat"]
    assert entry["change"]["Sangat Baik"] == -4 and sum(entry["change"].values()) == 0
    assert entry["verdicts"][0]["old"]["status"] == "violates" and entry["verdicts"][0]["changed"]


def test_cli_diff_reports_units_and_refuses_units_without_data(tmp_path, monkeypatch):
    changed = str(serang_with_threshold(tmp_path))
    data, units = str(EXAMPLES / "serang.jsonl"), str(EXAMPLES / "serang-units.yaml")
    status, out = run(["diff", "serang", changed, "--data", data, "--units", units], monkeypatch)
    assert status == 1
    lines = out.splitlines()
    at = lines.index("  disdik-sekretariat (Sekretariat Dinas Pendidikan): 35 -> 35 employees with a result")
    assert lines[at + 1 : at + 3] == [
        (
            "    Sangat Baik 27 -> 23 (-4) · Baik 7 -> 11 (+4) · Butuh Perbaikan 1 -> 1 · Kurang/Misconduct 0 -> 0 "
            "· Sangat Kurang 0 -> 0"
        ),
        "    kurva_distribusi: violates Sangat Baik at most 70% (27 of 35) -> meets",
    ]
    assert lines[-1] == "1 unit changes a unit-rule verdict"
    assert run(["diff", "serang", changed, "--units", units], monkeypatch) == (2, "")
    bad = tmp_path / "units.yaml"
    bad.write_text("units: 3\n")
    assert run(["diff", "serang", changed, "--data", data, "--units", str(bad)], monkeypatch) == (2, "")
