"""The policy workbench (issue 13): the numbers of a policy as a form, a child policy that extends
the original with only the changed numbers, and checking, testing, trying and publishing it.

Hand computation for serang's second case (a bidan without an IKM survey): imunisasi 92.15 of 95
is 97%, pelayanan 420 of 400 is 105%. With weights 50/30 (renormalised over 80) the average is
(50 x 97 + 30 x 105) / 80 = 100 -> Di Atas; with weights 60/20 it is (60 x 97 + 20 x 105) / 80 = 99
-> Sesuai, so predikat Sangat Baik becomes Baik.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
import yaml

from engine import api, service
from engine.evaluate.io import decode_json
from engine.service import workbench

BIDAN = "values/capaian_hasil_kerja/weighted/weights/bidan/"
BIDAN_TANPA_IKM = {
    "jabatan": "bidan",
    "imunisasi": {"target": 95, "realisasi": Decimal("92.15")},
    "pelayanan_kesehatan": {"target": 400, "realisasi": 420},
    "perilaku": {
        k: 92
        for k in ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")
    },
    "tpp_pagu": 5000000,
    "keterlambatan": [],
    "apel_senin_tidak_hadir": 0,
}


def child(policy_id: str, form: dict, new_id: str = "serang-bobot", mulai: str = "2026-01-01") -> str:
    loaded = api.load(policy_id)
    return workbench.child_yaml(
        loaded, workbench.changes_from(loaded, form), workbench.Identity(new_id, "1", "Uji bengkel", mulai)
    )


def test_every_number_is_listed_with_its_label_basis_and_line():
    found = {n.key: n for n in workbench.numbers(api.load("serang"))}
    weight = found[BIDAN + "capaian_cakupan_imunisasi"]
    assert (weight.kind, weight.value) == ("bobot", 50)
    assert weight.basis.startswith("Artikel Serang") and weight.position.file.endswith("serang.yaml")
    assert weight.position.line == 251  # the bidan weights line in policies/serang.yaml
    threshold = found["values/batas_sesuai/formula"]
    assert (threshold.kind, threshold.value, threshold.label) == (
        "nilai",
        76,
        "Batas rata-rata capaian untuk Sesuai Ekspektasi",
    )
    cell = found["values/predikat/matrix/cells/di_bawah/sesuai"]
    assert cell.value == "Butuh Perbaikan" and "Sangat Baik" in cell.choices
    bounds = {n.key: n.value for n in workbench.numbers(api.load("pp-46-2011")) if n.kind == "batas"}
    assert bounds["values/predikat/table/rows/1/when#0"] == 76 and bounds["values/predikat/table/rows/1/when#1"] == 91


def test_a_changed_weight_gives_a_child_with_only_that_change(tmp_path, run_cli):
    text = child(
        "serang",
        {
            BIDAN + "capaian_cakupan_imunisasi": "60",
            BIDAN + "capaian_pelayanan_kesehatan": "20",
            BIDAN + "capaian_kepuasan_masyarakat": "20",
        },
    )
    data = yaml.safe_load(text)
    assert data["extends"] == "serang" and data["id"] == "serang-bobot"
    assert data["values"] == {
        "capaian_hasil_kerja": {
            "weighted": {"weights": {"bidan": {"capaian_cakupan_imunisasi": 60, "capaian_pelayanan_kesehatan": 20}}}
        }
    }
    assert len(data["tests"]) == len(api.load("serang").policy.tests)  # the parent's cases, copied
    path = tmp_path / "serang-bobot.yaml"
    path.write_text(text, encoding="utf-8")
    code, out, err = run_cli("check", path)
    assert (code, out, err) == (0, "", "")
    before = api.evaluate(api.load("serang"), BIDAN_TANPA_IKM)["outputs"]
    after = api.evaluate(api.load(path), BIDAN_TANPA_IKM)["outputs"]
    assert before["capaian_hasil_kerja"] == Fraction(50 * 97 + 30 * 105, 80) == 100
    assert after["capaian_hasil_kerja"] == Fraction(60 * 97 + 20 * 105, 80) == 99
    assert (before["predikat"], after["predikat"]) == ("Sangat Baik", "Baik")
    assert {k: v for k, v in after.items() if k not in ("capaian_hasil_kerja", "rating_hasil_kerja", "predikat")} == {
        k: v for k, v in before.items() if k not in ("capaian_hasil_kerja", "rating_hasil_kerja", "predikat")
    }


def test_a_table_bound_and_a_matrix_cell_change_in_place(tmp_path, run_cli):
    text = child(
        "pp-46-2011",
        {"values/predikat/table/rows/0/when#0": "90", "values/predikat/table/rows/1/when#1": "90"},
        new_id="pp-46-ubah",
        mulai="2014-01-01",
    )
    rows = yaml.safe_load(text)["values"]["predikat"]["table"]["rows"]
    assert [r["when"] for r in rows] == [">= 90", "[76, 90)", "[61, 76)", "[51, 61)", "< 51"]
    path = tmp_path / "pp-46-ubah.yaml"
    path.write_text(text, encoding="utf-8")
    assert run_cli("check", path)[0] == 0
    cell = child("serang", {"values/predikat/matrix/cells/di_bawah/sesuai": "Sangat Kurang"})
    assert yaml.safe_load(cell)["values"] == {
        "predikat": {"matrix": {"cells": {"di_bawah": {"sesuai": "Sangat Kurang"}}}}
    }


def test_bad_numbers_and_names_are_refused_at_their_field():
    loaded = api.load("serang")
    with pytest.raises(workbench.WorkbenchError) as refused:
        workbench.changes_from(
            loaded,
            {
                BIDAN + "capaian_cakupan_imunisasi": "enam puluh",
                BIDAN + "capaian_pelayanan_kesehatan": "-5",
                "values/predikat/matrix/cells/di_atas/di_atas": "Luar Biasa",
            },
        )
    assert sorted(field for field, _ in refused.value.problems) == [
        BIDAN + "capaian_cakupan_imunisasi",
        BIDAN + "capaian_pelayanan_kesehatan",
        "values/predikat/matrix/cells/di_atas/di_atas",
    ]
    assert workbench.changes_from(loaded, {"values/potongan_terlambat_1/formula": "0,75"}) == {
        "values/potongan_terlambat_1/formula": Fraction(3, 4)
    }
    with pytest.raises(workbench.WorkbenchError) as refused:
        workbench.child_yaml(loaded, {}, workbench.Identity("serang", "", "x", "2026-02-30"))
    assert sorted(field for field, _ in refused.value.problems) == ["berlaku_mulai", "id", "version"]


def test_the_try_form_reads_numbers_exactly_and_explains():
    loaded = api.load("serang")
    fields = {f.name: f for f in workbench.input_fields(loaded)}
    assert fields["jabatan"].choices == ("bidan", "perawat", "dokter", "guru", "staf")
    assert "keterlambatan.0.menit" in fields and fields["perilaku.loyal"].type == "number"
    form = {
        "jabatan": "bidan",
        "imunisasi.target": "95",
        "imunisasi.realisasi": "92,15",
        "pelayanan_kesehatan.target": "400",
        "pelayanan_kesehatan.realisasi": "420",
        "tpp_pagu": "5000000",
        "apel_senin_tidak_hadir": "0",
        **{f"perilaku.{k}": "92" for k in BIDAN_TANPA_IKM["perilaku"]},
    }
    record = workbench.empty_lists(loaded, workbench.record_from_form(loaded, form))
    assert record == BIDAN_TANPA_IKM
    result = workbench.try_record(loaded, record)
    assert result["outputs"]["predikat"] == "Sangat Baik"
    assert any(anchor == "nilai-capaian_hasil_kerja" for _, anchor in result["steps"])
    bad = workbench.try_record(
        loaded, workbench.empty_lists(loaded, workbench.record_from_form(loaded, {**form, "tpp_pagu": "lima"}))
    )
    assert "outputs" not in bad and [e["path"] for e in bad["errors"]] == ["/tpp_pagu"]


@pytest.fixture
def store(db_url):
    from engine.service.store import open_store

    opened = open_store(db_url)
    yield opened
    opened.dispose()


def test_publishing_is_refused_while_a_case_fails_and_the_child_is_then_in_force(store):
    admin = service.Caller("admin-1", "admin", None)
    text = child("serang", {BIDAN + "capaian_cakupan_imunisasi": "60", BIDAN + "capaian_pelayanan_kesehatan": "20"})
    checked = workbench.check(store, text)
    assert checked.errors == [] and checked.loaded is not None
    report = workbench.run_cases(checked)
    assert [c.line for c in report.failed] == [c.line for c in report.cases[:2]]  # both bidan cases
    with pytest.raises(service.ServiceError) as refused:
        workbench.publish(store, admin, text)
    assert refused.value.code == "cases_failed" and len(refused.value.errors) == 2
    with pytest.raises(service.ServiceError):
        service.list_versions(store, "serang-bobot")  # nothing was published
    with pytest.raises(service.ServiceError) as refused:
        workbench.publish(store, service.Caller("r", "reviewer", None), text)
    assert refused.value.status == 403
    fixed = text.replace("expect: {capaian_hasil_kerja: 101,", "expect: {capaian_hasil_kerja: 100.2,").replace(
        "expect: {capaian_hasil_kerja: 100, rating_hasil_kerja: di_atas, rating_perilaku: di_atas, predikat: Sangat Baik,",
        "expect: {capaian_hasil_kerja: 99, rating_hasil_kerja: sesuai, rating_perilaku: di_atas, predikat: Baik,",
    )
    assert workbench.run_cases(workbench.check(store, fixed)).failed == []
    status, published = workbench.publish(store, admin, fixed)
    assert status == 201 and published["source"] == "published" and published["berlaku_mulai"] == "2026-01-01"
    result = service.evaluate("serang-bobot", {"records": [BIDAN_TANPA_IKM], "period": "2026-03"}, store)
    assert result["results"][0]["policy"]["hash"] == published["hash"]
    assert decode_json(str(result["results"][0]["outputs"]["capaian_hasil_kerja"]).encode()) == 99
