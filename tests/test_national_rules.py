"""The national rules taken from the regulations' own examples, through `kinerja eval`.

PermenPANRB 8/2021, Lampiran: target maksimal (huruf (i), p. 93) and Nilai SKP = Nilai KU +
Nilai KT (pp. 95-96, example p. 243); Peraturan BKN 3/2023: periodic angka kredit.
"""

from __future__ import annotations

import json

import pytest


def _eval(run_cli, policy: str, record: dict) -> dict:
    code, out, err = run_cli("eval", "--policy", policy, stdin=json.dumps(record))
    assert (code, err) == (0, ""), out
    return json.loads(out)


def test_target_maksimal_met_gives_120(run_cli):
    """'Persentase pengelolaan keuangan yang bebas dari temuan material': target 100%, realisasi 100%."""
    result = _eval(
        run_cli,
        "pp-30-2019",
        {"iki": [{"target": 100, "realisasi": 100, "target_maksimal": True}], "nilai_perilaku": 100},
    )
    assert result["values"]["iki"][0]["nilai_iki"] == 120
    assert result["outputs"]["nilai_skp"] == 120


def test_without_target_maksimal_capaian_100_stays_109(run_cli):
    result = _eval(run_cli, "pp-30-2019", {"iki": [{"target": 100, "realisasi": 100}], "nilai_perilaku": 100})
    assert result["outputs"]["nilai_skp"] == 109


def test_nilai_skp_weighted_as_the_lampiran_example_totals_102_8(run_cli):
    """(59.2 + 43.6) + 0: a perspective of weight 40 at nilai 109, one of weight 60 at mean 98.667."""
    record = {
        "iki": [
            {"target": 85, "realisasi": 85, "bobot": 40},
            {"target": 100, "realisasi": 100, "bobot": 30},
            {"target": 60, "realisasi": 59, "bobot": 30},
        ],
        "nilai_perilaku": 100,
    }
    result = _eval(run_cli, "pp-30-2019", record)
    tertimbang = [i["nilai_tertimbang"] for i in result["values"]["iki"]]
    assert tertimbang[0] == 43.6 and tertimbang[1] + tertimbang[2] == pytest.approx(59.2, abs=1e-9)
    assert result["values"]["nilai_kinerja_tambahan"] == 0
    assert result["outputs"]["nilai_skp"] == 102.8


def test_nilai_skp_without_weights_is_the_plain_mean(run_cli):
    """DOMAIN.md's worked example still holds: 311/3 = 103.667, nilai kinerja 102.567."""
    record = {
        "iki": [
            {"target": 100, "realisasi": 92},
            {"target": 10, "realisasi": 9, "arah": "turun"},
            {"target": 50, "realisasi": 50},
        ],
        "nilai_perilaku": 100,
    }
    result = _eval(run_cli, "pp-30-2019", record)
    assert result["outputs"] == {"nilai_skp": 103.67, "nilai_kinerja": 102.57, "predikat": "Baik"}


def test_periodic_angka_kredit_is_reported_at_3_decimals(run_cli):
    """Ahli Pertama, Baik, January to March: 3/12 x 100% x 12.5 = 3.125 (Peraturan BKN 3/2023).

    The regional children inherit the rule; each has a case of its own with `bulan: 3`.
    """
    record = {"rating_hasil_kerja": "sesuai", "rating_perilaku": "sesuai", "jenjang": "ahli_pertama", "bulan": 3}
    assert _eval(run_cli, "permenpanrb-6-2022", record)["outputs"] == {"predikat": "Baik", "angka_kredit": 3.125}


@pytest.mark.parametrize("policy", ["serang", "kertapati", "palu", "sinabang", "surabaya"])
def test_every_regional_child_takes_bulan(policy, run_cli):
    code, out, _ = run_cli("schema", policy)
    bulan = json.loads(out)["properties"]["bulan"]
    assert code == 0 and (bulan["minimum"], bulan["maximum"]) == (1, 12)


def test_angka_kredit_without_bulan_is_annual(run_cli):
    record = {"rating_hasil_kerja": "di_atas", "rating_perilaku": "di_atas", "jenjang": "ahli_pertama"}
    assert _eval(run_cli, "permenpanrb-6-2022", record)["outputs"]["angka_kredit"] == 18.75
