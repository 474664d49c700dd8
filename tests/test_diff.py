"""kinerja diff: differences of meaning between two policies, and whom a change moves."""
from __future__ import annotations

import io
import json
import random
import sys
from pathlib import Path

from engine import api
from engine.cli import main
from engine.diff import compare, impact

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
        ("formula: mean(i.nilai_iki for i in iki)", "formula: mean( i.nilai_iki   for i in iki )"),
        ("formula: nilai_skp * bobot_skp + nilai_perilaku * (1 - bobot_skp)",
         "formula: (nilai_skp * bobot_skp) + (nilai_perilaku * (1 - bobot_skp))"),
        ('- {when: "[100, 101)", then: 109}', "- {then: 109, when: '[100,101)'}"),
        ("  nilai_skp: {label: Nilai SKP, range: [0, 120]}\n  nilai_kinerja: {label: Nilai kinerja, range: [0, 120]}",
         "  nilai_kinerja: {range: [0, 120], label: Nilai kinerja}\n  nilai_skp: {label: Nilai SKP, range: [0, 120]}"),
    )
    assert compare(api.load("pp-30-2019").policy.data, api.load(path).policy.data) == []
    assert run(["diff", "pp-30-2019", str(path)], monkeypatch)[0] == 0


def test_the_impact_on_300_records_matches_a_direct_evaluation_under_both(tmp_path, monkeypatch):
    rng = random.Random(30)
    records = [{"id": f"{i:018d}", "iki": [{"target": 100, "realisasi": rng.randint(40, 115)}
                                          for _ in range(rng.randint(1, 4))],
                "nilai_perilaku": rng.randint(40, 120), "ide_baru": rng.random() < 0.3} for i in range(300)]
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
