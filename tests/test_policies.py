"""Policy behaviour a region relies on: the shipped policies, weighted indicators chosen per
position, `extends`, and what missing, null and not-applicable inputs do."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from engine import api
from engine.diagnostics import PolicyError
from engine.evaluate.io import decode_json, encode
from engine.policy.document import available
from engine.review.cases import run_tests

#: The assertions below read the English texts; Indonesian is the default (tests/test_language.py).
pytestmark = pytest.mark.usefixtures("english")

SHIPPED = sorted(available())


def test_the_three_national_policies_ship():
    assert {"permenpanrb-6-2022", "pp-30-2019", "pp-46-2011"} <= set(SHIPPED)


@pytest.mark.parametrize("policy_id", SHIPPED)
def test_shipped_policy_is_clean_and_its_cases_pass_with_full_coverage(policy_id):
    policy, diagnostics = api.check(policy_id)
    assert [d.render() for d in diagnostics] == []
    report = run_tests(api.load(policy_id))
    assert report.cases, "every shipped policy carries test cases"
    assert [(c.name, c.failures) for c in report.failed] == []
    assert report.unreached == []


def evaluate(policy, record):
    return api.evaluate(policy, decode_json(encode(record)))


WEIGHTED = """
kinerja: 1
id: kinerja-unit
inputs:
  jabatan: {type: text, enum: [bidan, perawat, staf]}
  imunisasi: {type: record, required: false, fields: {target: {type: number, exclusive_minimum: 0}, realisasi: {type: number, minimum: 0}}}
  kepuasan: {type: number, minimum: 0, maximum: 100}
  disiplin: {type: number, minimum: 0, maximum: 100, null: not_applicable}
values:
  hasil_kerja:
    weighted:
      total: 100
      not_applicable: renormalise
      by: jabatan
      indicators:
        cakupan_imunisasi: {formula: "capaian(imunisasi.realisasi, imunisasi.target)", applies_when: present(imunisasi)}
        kepuasan_masyarakat: {formula: kepuasan}
        kedisiplinan: {formula: disiplin, applies_when: present(disiplin)}
      weights:
        bidan: {cakupan_imunisasi: 50, kepuasan_masyarakat: 30, kedisiplinan: 20}
        default: {kepuasan_masyarakat: 60, kedisiplinan: 40}
outputs:
  hasil_kerja: {}
"""


@pytest.fixture
def weighted(tmp_path):
    path = tmp_path / "kinerja-unit.yaml"
    path.write_text(WEIGHTED, encoding="utf-8")
    return api.load(path)


def test_weights_are_chosen_by_position(weighted):
    bidan = evaluate(
        weighted, {"jabatan": "bidan", "imunisasi": {"target": 200, "realisasi": 180}, "kepuasan": 80, "disiplin": 100}
    )
    # (50 x 90 + 30 x 80 + 20 x 100) / 100
    assert bidan["outputs"]["hasil_kerja"] == Fraction("89")
    staf = evaluate(weighted, {"jabatan": "staf", "kepuasan": 80, "disiplin": 90})
    # the default set: (60 x 80 + 40 x 90) / 100; imunisasi does not apply to staf
    assert staf["outputs"]["hasil_kerja"] == Fraction("84")
    assert "cakupan_imunisasi" not in staf["values"]


def test_an_indicator_that_does_not_apply_renormalises_the_others(weighted):
    result = evaluate(weighted, {"jabatan": "bidan", "kepuasan": 80, "disiplin": 100})
    # no imunisasi data: (30 x 80 + 20 x 100) / (30 + 20)
    assert result["outputs"]["hasil_kerja"] == Fraction("88")


def test_null_declared_not_applicable_excludes_the_indicator(weighted):
    result = evaluate(weighted, {"jabatan": "perawat", "kepuasan": 70, "disiplin": None})
    assert result["outputs"]["hasil_kerja"] == Fraction("70")


def test_zero_mode_counts_a_non_applying_indicator_as_zero(tmp_path):
    path = tmp_path / "nol.yaml"
    path.write_text(WEIGHTED.replace("id: kinerja-unit", "id: nol").replace("renormalise", "zero"), encoding="utf-8")
    result = evaluate(api.load(path), {"jabatan": "bidan", "kepuasan": 80, "disiplin": 100})
    assert result["outputs"]["hasil_kerja"] == Fraction("44")  # (30 x 80 + 20 x 100) / 100


OPTIONAL = """
kinerja: 1
id: opsional
inputs:
  nilai: {type: number}
  bonus: {type: number, required: false}
  faktor: {type: number, default: 1}
values:
  dengan_bonus: "nilai + bonus"
  aman: "if present(bonus) then nilai + bonus else nilai"
outputs:
  aman: {}
  dengan_bonus: {}
"""


def test_missing_optional_input_is_an_error_where_used_never_zero(tmp_path):
    path = tmp_path / "opsional.yaml"
    path.write_text(OPTIONAL, encoding="utf-8")
    policy = api.load(path)
    result = evaluate(policy, {"nilai": 5})
    assert "outputs" not in result
    assert [(e["path"], e["code"]) for e in result["errors"]] == [("/bonus", "missing")]
    fine = evaluate(policy, {"nilai": 5, "bonus": 2})
    assert fine["outputs"] == {"aman": 7, "dengan_bonus": 7}


def test_required_input_and_null_are_rejected_before_anything_is_computed(tmp_path):
    path = tmp_path / "opsional.yaml"
    path.write_text(OPTIONAL, encoding="utf-8")
    result = evaluate(api.load(path), {"bonus": None})
    assert [(e["path"], e["code"]) for e in result["errors"]] == [("/bonus", "type"), ("/nilai", "required")]


PARENT = """
kinerja: 1
id: induk
title: Induk
version: "1"
legal_basis: [Peraturan Induk]
inputs:
  skp: {type: number, minimum: 0, maximum: 100}
  perilaku: {type: number, minimum: 0, maximum: 100}
values:
  batas_baik: 76
  nilai:
    weighted:
      total: 100
      not_applicable: renormalise
      indicators:
        hasil: {formula: skp, weight: 60}
        sikap: {formula: perilaku, weight: 40}
  predikat:
    table:
      on: nilai
      hit: first
      rows:
        - {when: ">= batas_baik", then: Baik}
        - {when: "-", then: Kurang}
outputs:
  nilai: {}
  predikat: {labels: [Baik, Kurang]}
tests:
  - {name: induk, record: {skp: 80, perilaku: 70}, expect: {nilai: 76, predikat: Baik}}
"""

CHILD = """
kinerja: 1
id: anak
extends: induk
title: Anak
values:
  batas_baik: 80
  nilai:
    weighted:
      indicators:
        hasil: {weight: 70}
        sikap: {weight: 30}
tests:
  - {name: anak, record: {skp: 80, perilaku: 70}, expect: {nilai: 77, predikat: Kurang}}
"""


def test_a_child_changes_a_weight_and_a_threshold_without_copying_the_rest(tmp_path):
    (tmp_path / "induk.yaml").write_text(PARENT, encoding="utf-8")
    (tmp_path / "anak.yaml").write_text(CHILD, encoding="utf-8")
    parent, child = api.load(tmp_path / "induk.yaml"), api.load(tmp_path / "anak.yaml")
    record = {"skp": 80, "perilaku": 70}
    assert evaluate(parent, record)["outputs"] == {"nilai": 76, "predikat": "Baik"}
    assert evaluate(child, record)["outputs"] == {"nilai": 77, "predikat": "Kurang"}
    assert child.policy.legal_basis == ["Peraturan Induk"] and child.policy.title == "Anak"
    assert [c.name for c in child.policy.tests] == ["anak"]  # tests are not inherited
    assert child.policy.hash != parent.policy.hash
    assert not run_tests(child).failed


def test_a_mistake_in_an_inherited_rule_points_into_the_parent_file(tmp_path):
    (tmp_path / "induk.yaml").write_text(PARENT.replace("formula: perilaku", "formula: perilakuu"), encoding="utf-8")
    (tmp_path / "anak.yaml").write_text(CHILD, encoding="utf-8")
    _, diagnostics = api.check(tmp_path / "anak.yaml")
    unknown = [d for d in diagnostics if d.code == "name.unknown"]
    assert len(unknown) == 1
    assert Path(unknown[0].position.file).name == "induk.yaml"
    assert (unknown[0].position.line, unknown[0].position.column) == (18, 26)  # sikap: {formula: perilakuu


def test_null_in_a_child_removes_the_parents_entry(tmp_path):
    (tmp_path / "induk.yaml").write_text(PARENT, encoding="utf-8")
    child_without_tests = CHILD.split("tests:")[0]
    (tmp_path / "anak.yaml").write_text(child_without_tests + "outputs:\n  nilai: ~\n", encoding="utf-8")
    child = api.load(tmp_path / "anak.yaml")
    assert list(child.policy.outputs) == ["predikat"]


def test_extends_cycles_and_unknown_parents_are_located_errors(tmp_path):
    (tmp_path / "a.yaml").write_text("id: a\nextends: b\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("id: b\nextends: a\n", encoding="utf-8")
    (tmp_path / "c.yaml").write_text("id: c\nextends: indukk\n", encoding="utf-8")
    (tmp_path / "induk.yaml").write_text(PARENT, encoding="utf-8")
    _, cycle = api.check(tmp_path / "a.yaml")
    assert [d.code for d in cycle] == ["extends.cycle"]
    _, unknown = api.check(tmp_path / "c.yaml")
    assert [(d.code, d.position.line, d.hint) for d in unknown] == [("extends.unknown", 2, "did you mean 'induk'?")]
    with pytest.raises(PolicyError):
        api.load(tmp_path / "c.yaml")


def test_a_case_can_require_an_output_to_be_absent(tmp_path):
    path = tmp_path / "opsional.yaml"
    policy = OPTIONAL.replace("  dengan_bonus: {}\n", "  dengan_bonus: {when: present(bonus)}\n")
    path.write_text(
        policy
        + """tests:
  - {name: tanpa bonus, record: {nilai: 5}, expect: {aman: 5}, expect_absent: [dengan_bonus]}
  - {name: dengan bonus, record: {nilai: 5, bonus: 1}, expect_absent: [dengan_bonus]}
""",
        encoding="utf-8",
    )
    report = run_tests(api.load(path))
    assert [(c.name, c.failures) for c in report.failed] == [
        ("dengan bonus", ["output dengan_bonus: expected to be absent, got 6"])
    ]


def test_the_explanation_names_indicators_that_did_not_apply(weighted):
    from engine.review.explain import explain

    result = api.evaluate(
        weighted, decode_json(encode({"jabatan": "bidan", "kepuasan": 80, "disiplin": 100})), trace=True
    )
    sentence = [s for s in explain(result["trace"], "en") if s.startswith("hasil kerja")][0]
    assert "kepuasan_masyarakat = 80 (weight 30), kedisiplinan = 100 (weight 20)" in sentence
    assert "not applicable: cakupan_imunisasi (the other weights scaled up)" in sentence


REQUIRED = """
kinerja: 1
id: syarat
inputs:
  rhk:
    type: list
    min_items: 1
    items:
      type: record
      fields:
        jenis: {type: text, enum: [utama, tambahan]}
        target: {type: number, exclusive_minimum: 0}
        realisasi: {type: number, minimum: 0}
requirements:
  rhk_utama_ada:
    rule: count(r for r in rhk if r.jenis == "utama") >= 1
    path: /rhk
    message: SKP harus memuat paling sedikit satu RHK utama
  realisasi_wajar:
    for_each: rhk
    rule: realisasi <= 3 * target
    path: /realisasi
    message: realisasi lebih dari tiga kali target; periksa satuannya
values:
  capaian_rata: mean(capaian(r.realisasi, r.target) for r in rhk)
outputs:
  capaian_rata: {}
"""


def test_a_record_failing_a_requirement_is_rejected_with_every_failure_located(tmp_path):
    path = tmp_path / "syarat.yaml"
    path.write_text(REQUIRED, encoding="utf-8")
    policy = api.load(path)
    bad = evaluate(
        policy,
        {
            "rhk": [
                {"jenis": "tambahan", "target": 10, "realisasi": 9},
                {"jenis": "tambahan", "target": 10, "realisasi": 31},
            ]
        },
    )
    assert "outputs" not in bad
    assert [(e["path"], e["code"]) for e in bad["errors"]] == [
        ("/rhk", "requirement"),
        ("/rhk/1/realisasi", "requirement"),
    ]
    assert bad["errors"][0]["message"] == "SKP harus memuat paling sedikit satu RHK utama"
    good = evaluate(policy, {"rhk": [{"jenis": "utama", "target": 10, "realisasi": 9}]})
    assert good["outputs"] == {"capaian_rata": 90}


def test_a_requirement_that_is_not_a_condition_is_a_check_error(tmp_path):
    path = tmp_path / "syarat.yaml"
    path.write_text(REQUIRED.replace("rule: realisasi <= 3 * target", "rule: realisasi * 3"), encoding="utf-8")
    _, diagnostics = api.check(path)
    assert [d.code for d in diagnostics] == ["type.mismatch"]


def test_evaluating_the_same_inputs_twice_recomputes_everything():
    """Computed values live in the evaluation, not in the submitted data (replays rely on it)."""
    loaded = api.load("pp-46-2011")
    record = decode_json((Path(__file__).resolve().parent.parent / "examples" / "pp-46-2011-contoh.json").read_bytes())
    inputs, errors = loaded.reader.read(record)
    assert not errors
    first = loaded.compiled.run(inputs, trace=True)[1].trace
    second = loaded.compiled.run(inputs, trace=True)[1].trace
    assert [e.definition.name for e in first] == [e.definition.name for e in second]
    assert any(e.item == "/kegiatan/0" for e in second)
