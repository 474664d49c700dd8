"""kinerja explain --what-if: the smallest single-input change that reaches the next better
predikat, checked here by evaluating every reported change (and the value one step short of it)."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from engine import api
from engine.evaluate.io import decode_json, encode
from engine.numbers import to_decimal
from engine.review.whatif import render, what_if, whatif_json

#: The assertions below read the English texts; Indonesian is the default (tests/test_language.py).
pytestmark = pytest.mark.usefixtures("english")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

BOUNDED = """kinerja: 1
id: uji-whatif
title: Uji what-if
version: "1"
inputs:
  a: {type: number, minimum: 0, maximum: 100}
  b: {type: number, minimum: 0, maximum: 100}
values:
  nilai: (a + b) / 2
  predikat:
    table:
      on: nilai
      hit: unique
      rows:
        - {when: ">= 60", then: satu}
        - {when: "[55, 60)", then: dua}
        - {when: "< 55", then: tiga}
outputs:
  nilai: {}
  predikat: {labels: [satu, dua, tiga]}
"""


def pp46(perilaku, **kegiatan) -> dict:
    """One kegiatan (defaults: TO 1 RO 1, TK 100 RK 100, TW 12 RW 12) and five equal perilaku scores."""
    k = {"kuantitas": [1, 1], "kualitas": [100, 100], "waktu": [12, 12]} | kegiatan
    item = {aspect: {"target": t, "realisasi": r} for aspect, (t, r) in k.items()}
    scores = {name: perilaku for name in ("orientasi_pelayanan", "integritas", "komitmen", "disiplin", "kerja_sama")}
    return {"kegiatan": [item], "tugas_tambahan": 0, "kreativitas": 0, "perilaku": scores}


def changed(rec: dict, path: tuple, value) -> dict:
    result = copy.deepcopy(rec)
    node = result
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return result


def step_of(policy, change) -> Fraction:
    """The documented granularity: 1 for an integer input, else 10^-p with p the places of the
    record's value, at least 2."""
    spec = None
    for part in change.path:
        if isinstance(part, int):
            spec = spec.items if spec.type == "list" else spec
        else:
            spec = (policy.inputs if spec is None else spec.fields)[part]
    if spec.type == "integer":
        return Fraction(1)
    exponent = change.old.as_tuple().exponent if isinstance(change.old, Decimal) else 0
    return Fraction(1, 10 ** max(2, -exponent))


def exact(value: Fraction):
    return int(value) if value.denominator == 1 else to_decimal(value)


def assert_verified(loaded, rec: dict, report) -> None:
    """Every reported change reaches the goal by evaluation, and one step less does not."""
    labels = list(loaded.policy.outputs[report.output].labels)
    goal = labels.index(report.goal)
    for change in report.changes:
        after = api.evaluate(loaded, changed(rec, change.path, change.new))["outputs"][report.output]
        assert after == change.reached and labels.index(after) <= goal, change
        if change.kind == "number":
            new, old, step = Fraction(change.new), Fraction(change.old), step_of(loaded.policy, change)
            short = new - step if new > old else new + step
            before = api.evaluate(loaded, changed(rec, change.path, exact(short)))
            assert "errors" in before or labels.index(before["outputs"][report.output]) > goal, change


def find(report, *path):
    return next(c for c in report.changes if c.path == path)


# pp-46-2011 -----------------------------------------------------------------------------------


def test_domain_worked_example_gets_exact_minimal_changes_to_sangat_baik():
    loaded = api.load("pp-46-2011")
    rec = json.loads((EXAMPLES / "pp-46-2011-contoh.json").read_text(), parse_float=Decimal)
    report = what_if(loaded, rec)
    assert (report.current, report.goal) == ("Baik", "Sangat Baik")
    # by hand: nilai = 0.6 x (RO x 100 + 90 + 76) / 3 + 0.4 x 80 = 20 RO + 65.2, and the sebutan is
    # read from it rounded half up, so Sangat Baik needs 20 RO + 65.2 >= 90.995: RO >= 1.28975 -> 1.29
    ro = find(report, "kegiatan", 0, "kuantitas", "realisasi")
    assert (ro.old, ro.new, ro.reached) == (1, Decimal("1.29"), "Sangat Baik")
    assert ro.size == Fraction(29, 100)
    # kreativitas is a choice: 3 and 6 are too little (0.6 x 6 = 3.6 < 5.795), 12 is enough
    assert find(report, "kreativitas").new == 12
    assert report.best == min(report.changes, key=lambda c: c.size)
    assert_verified(loaded, rec, report)


def test_decimals_move_by_the_places_the_value_has_and_integers_by_one():
    loaded = api.load("pp-46-2011")
    # SKP 100 (RW 9,12 gives waktu 100), perilaku 76,25: nilai 60 + 30,5 = 90,5 -> Baik
    rec = pp46(Decimal("76.25"), waktu=[12, Decimal("9.12")])
    report = what_if(loaded, rec)
    assert report.current == "Baik"
    # one perilaku score: 0.4 x d / 5 >= 0.495 -> d >= 6.1875 -> 6.19 on the 0.01 grid
    assert find(report, "perilaku", "integritas").new == Decimal("82.44")
    # tugas tambahan 1 adds 1 to the SKP: 90.5 + 0.6 reaches 91.1
    assert find(report, "tugas_tambahan").new == 1
    assert_verified(loaded, rec, report)
    # 77,475 has three places: 90,99 -> Baik; d >= 0.0625 -> 0.063 on the 0.001 grid
    fine = pp46(Decimal("77.475"), waktu=[12, Decimal("9.12")])
    assert find(what_if(loaded, fine), "perilaku", "disiplin").new == Decimal("77.538")


def test_a_change_inside_a_narrow_band_of_a_non_monotone_input_is_found(indonesian):
    loaded = api.load("pp-46-2011")
    # SKP 92 at RW 12; only RW = 9,12 exactly (efisiensi 24%, nilai waktu 100) gives SKP 100 and
    # nilai 60 + 31 = 91; RW 9,11 (efisiensi above 24%) and 9,13 both stay Baik
    rec = pp46(Decimal("77.5"))
    report = what_if(loaded, rec)
    rw = find(report, "kegiatan", 0, "waktu", "realisasi")
    assert (rw.new, rw.reached, rw.monotone) == (Decimal("9.12"), "Sangat Baik", False)
    for near in ("9.11", "9.13"):
        assert api.evaluate(loaded, changed(rec, rw.path, Decimal(near)))["outputs"]["predikat"] == "Baik"
    assert_verified(loaded, rec, report)
    assert any(line.startswith("* tidak monoton") for line in render(report))


def test_a_record_already_at_the_best_predikat_says_so(indonesian):
    loaded = api.load("pp-46-2011")
    rec = pp46(90, waktu=[12, Decimal("9.12")])
    report = what_if(loaded, rec)
    assert (report.current, report.goal, report.changes) == ("Sangat Baik", None, [])
    assert render(report) == ["predikat Sangat Baik sudah yang terbaik; tidak ada tingkat di atasnya."]
    assert render(report, "en") == ["predikat Sangat Baik is already the best; there is no level above it."]


# permenpanrb-6-2022 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hasil, perilaku, change, reached",
    [
        ("di_bawah", "sesuai", (("rating_hasil_kerja",), "sesuai"), "Baik"),  # BP -> one step of hasil
        ("di_atas", "di_bawah", (("rating_perilaku",), "sesuai"), "Baik"),  # K/M -> jumps to Baik
        ("di_bawah", "di_bawah", (("rating_hasil_kerja",), "sesuai"), "Kurang/Misconduct"),  # SK -> K/M
    ],
)
def test_matrix_ratings_move_by_steps_of_their_declared_order(hasil, perilaku, change, reached):
    loaded = api.load("permenpanrb-6-2022")
    rec = {"rating_hasil_kerja": hasil, "rating_perilaku": perilaku}
    report = what_if(loaded, rec)
    assert (report.best.path, report.best.new, report.best.reached, report.best.size) == change + (reached, 1)
    assert_verified(loaded, rec, report)


def test_no_single_rating_lifts_sesuai_sesuai_to_sangat_baik():
    # the matrix is not symmetric: di_atas x sesuai and sesuai x di_atas are both Baik
    report = what_if(api.load("permenpanrb-6-2022"), {"rating_hasil_kerja": "sesuai", "rating_perilaku": "sesuai"})
    assert (report.current, report.goal, report.changes, report.examined) == ("Baik", "Sangat Baik", [], 2)
    assert render(report, "en")[1] == "No change of a single input reaches Sangat Baik or better (2 inputs examined)."


def test_bounds_limit_the_search_and_better_comes_from_the_declared_labels(write_policy):
    loaded = api.load(write_policy(BOUNDED))
    # (a + b) / 2 >= 55 needs a + b >= 110: from 0 and 0 one input reaches at most 100 / 2 = 50
    assert what_if(loaded, {"a": 0, "b": 0}).changes == []
    report = what_if(loaded, {"a": 40, "b": 60})  # b 70 (+10 of 60) beats a 50 (+10 of 40)
    assert [(c.path, c.new, c.reached) for c in report.changes] == [(("b",), 70, "dua"), (("a",), 50, "dua")]
    data = json.loads(encode(whatif_json(report)))
    assert data["best"] == {
        "path": "/b",
        "old": 60,
        "new": 70,
        "reached": "dua",
        "size": 0.1666666667,
        "kind": "number",
        "monotone": True,
    }


def test_serang_changes_are_verified_by_evaluation():
    loaded = api.load("serang")
    rec = decode_json((EXAMPLES / "serang.jsonl").read_bytes().splitlines()[1])
    report = what_if(loaded, rec)
    assert report.current == "Butuh Perbaikan" and report.changes
    assert_verified(loaded, rec, report)


# CLI ------------------------------------------------------------------------------------------


def test_cli_prints_the_smallest_change_after_the_explanation(run_cli, indonesian):
    plain = run_cli("explain", "--policy", "pp-46-2011", str(EXAMPLES / "pp-46-2011-contoh.json"))
    code, out, err = run_cli("explain", "--policy", "pp-46-2011", "--what-if", str(EXAMPLES / "pp-46-2011-contoh.json"))
    assert (code, err, plain[0]) == (0, "", 0)
    assert "Agar lebih baik" not in plain[1]
    added = [line for line in out.splitlines() if line not in plain[1].splitlines()]
    assert added[:2] == [
        "  Agar lebih baik: predikat sekarang Baik; satu tingkat di atasnya Sangat Baik.",
        (
            "  Perubahan satu masukan terkecil: kuantitas.target pada kegiatan ke-1 dari 1 menjadi 0,77 "
            "(turun 0,23; 23%) → Sangat Baik."
        ),
    ]
    assert "    3. kuantitas.realisasi pada kegiatan ke-1 dari 1 menjadi 1,29 (naik 0,29; 29%) → Sangat Baik" in added
    assert out.replace("\n".join(added) + "\n", "") == plain[1]


def test_cli_what_if_in_english_and_exit_codes(run_cli, write_policy):
    records = (
        '{"id": "a", "rating_hasil_kerja": "di_bawah", "rating_perilaku": "sesuai"}\n'
        '{"id": "b", "rating_hasil_kerja": "diatas", "rating_perilaku": "sesuai"}\n'
    )
    code, out, _ = run_cli("explain", "--policy", "permenpanrb-6-2022", "--what-if", "--lang", "en", stdin=records)
    assert code == 1  # record b cannot be evaluated
    assert "  Smallest single-input change: rating_hasil_kerja from di_bawah to sesuai (1 step) → Baik." in out
    no_labels = write_policy(BOUNDED.replace("  predikat: {labels: [satu, dua, tiga]}\n", ""))
    code, out, err = run_cli("explain", "--policy", no_labels, "--what-if", stdin='{"a": 1, "b": 2}')
    assert (code, out) == (2, "") and "has no output with `labels`" in err
