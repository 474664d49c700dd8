"""No surprise after a silent check (issue 11, item 2).

A record that passes input validation never fails for a reason that lies in the policy: keys of
weights chosen by a field must be values of that field, every value has weights; a property test
per bundled policy evaluates generated valid records; publishing refuses a policy whose own
cases fail.
"""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import api, i18n, service
from engine.evaluate.io import decode_json, encode

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted(p.stem for p in (ROOT / "policies").glob("*.yaml"))

#: Codes that describe the record (validation, the policy's declared requirements, an optional
#: field that this record's case needs, given at its pointer): a valid record may still break a
#: requirement. Anything else (no weights, no table row, an empty mean, a division by zero, an
#: internal error) is about the policy.
ABOUT_THE_RECORD = {
    "requirement",
    "missing",
    "not_applicable",
    "type",
    "required",
    "unknown_field",
    "enum",
    "integer",
    "number_range",
    "minimum",
    "maximum",
    "exclusive_minimum",
    "exclusive_maximum",
    "min_items",
    "max_items",
    "too_long",
    "range_order",
    "too_many_errors",
}


# Static checks: weights keyed by an enum --------------------------------------------------------


def _serang_copy(tmp_path: Path, old: str, new: str) -> Path:
    text = (ROOT / "policies" / "serang.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "serang.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(path: Path, fragment: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if fragment in line)


def test_misspelt_weight_key_is_an_error_at_its_line_with_did_you_mean(tmp_path, run_cli, monkeypatch):
    monkeypatch.setenv("KINERJA_LANG", "en")
    path = _serang_copy(
        tmp_path, "        bidan: {capaian_cakupan_imunisasi", "        bidna: {capaian_cakupan_imunisasi"
    )
    code, out, _ = run_cli("check", str(path))
    assert code == 1
    line = _line_of(path, "bidna:")
    assert f"{path}:{line}:9: weights.unknown_key: weights for 'bidna', which is not a value of jabatan" in out
    assert "hint: did you mean 'bidan'?" in out
    # and, since no weight set is left for bidan, that value is named too
    assert "weights.missing_key: 'capaian_hasil_kerja' has no weights for jabatan = bidan" in out


def test_misspelt_weight_key_is_reported_in_indonesian_by_default(tmp_path, run_cli, monkeypatch):
    monkeypatch.delenv("KINERJA_LANG", raising=False)
    path = _serang_copy(
        tmp_path, "        bidan: {capaian_cakupan_imunisasi", "        bidna: {capaian_cakupan_imunisasi"
    )
    code, out, _ = run_cli("check", str(path))
    assert code == 1
    assert "weights.unknown_key: bobot untuk 'bidna', padahal itu bukan nilai jabatan" in out
    assert "'bidan'?" in out


def test_enum_value_without_weights_or_default_is_an_error(tmp_path, run_cli, monkeypatch):
    monkeypatch.setenv("KINERJA_LANG", "en")
    path = _serang_copy(
        tmp_path, "enum: [bidan, perawat, dokter, guru, staf]", "enum: [bidan, perawat, dokter, guru, staf, apoteker]"
    )
    code, out, _ = run_cli("check", str(path))
    assert code == 1
    line = _line_of(path, "by: jabatan")
    assert f"{path}:{line}:11: weights.missing_key: 'capaian_hasil_kerja' has no weights for jabatan = apoteker" in out
    assert "hint: add a weight set for each of them, or 'default' weights" in out


def test_default_weights_cover_a_new_enum_value(write_policy, run_cli):
    path = write_policy("""kinerja: 1
id: bobot-default
values:
  nilai:
    weighted:
      total: 100
      not_applicable: renormalise
      by: jabatan
      indicators:
        a: {formula: skor}
      weights:
        guru: {a: 100}
        default: {a: 100}
inputs:
  jabatan: {type: text, enum: [guru, staf]}
  skor: {type: number}
outputs:
  nilai: {}
""")
    code, out, _ = run_cli("check", str(path))
    assert (code, out) == (0, "")


def test_weights_by_a_field_without_values_need_a_default(write_policy, run_cli, monkeypatch):
    monkeypatch.setenv("KINERJA_LANG", "en")
    path = write_policy("""kinerja: 1
id: bobot-terbuka
inputs:
  jabatan: {type: text}
  skor: {type: number}
values:
  nilai:
    weighted:
      total: 100
      not_applicable: renormalise
      by: jabatan
      indicators:
        a: {formula: skor}
      weights:
        guru: {a: 100}
outputs:
  nilai: {}
""")
    code, out, _ = run_cli("check", str(path))
    assert code == 1 and "weights.open_domain" in out


def test_misspelt_matrix_key_in_a_child_is_located_in_the_child(write_policy, run_cli, monkeypatch):
    monkeypatch.setenv("KINERJA_LANG", "en")
    path = write_policy("""kinerja: 1
id: anak
extends: permenpanrb-6-2022
values:
  predikat:
    matrix:
      cells:
        sesuai: {di_bawah: Kurang/Misconduct, sesuai: Baik, diatas: Baik, di_atas: Baik}
""")
    code, out, _ = run_cli("check", str(path))
    assert code == 1
    assert f"{path}:8:" in out and "matrix.unknown_key: 'diatas' is not a value of rating_perilaku" in out


def test_enum_value_without_a_table_row_is_a_gap(write_policy, run_cli, monkeypatch):
    monkeypatch.setenv("KINERJA_LANG", "en")
    path = write_policy("""kinerja: 1
id: anak
extends: permenpanrb-6-2022
inputs:
  jenjang:
    enum: [pemula, terampil, mahir, penyelia, ahli_pertama, ahli_muda, ahli_madya, ahli_utama, ahli_baru]
""")
    code, out, _ = run_cli("check", str(path))
    assert code == 1 and "table.gap: no row of 'koefisien' matches jenjang = ahli_baru" in out


# Property: valid records never fail because of the policy ---------------------------------------


def _number(spec, integer: bool):
    low = (
        spec.minimum
        if spec.minimum is not None
        else (spec.exclusive_minimum if spec.exclusive_minimum is not None else Fraction(0))
    )
    high = (
        spec.maximum
        if spec.maximum is not None
        else (spec.exclusive_maximum if spec.exclusive_maximum is not None else low + 1000)
    )
    scale = 1 if integer else 100
    lo, hi = int(low * scale) + (1 if spec.exclusive_minimum is not None else 0), int(high * scale)
    if spec.exclusive_maximum is not None:
        hi -= 1
    lo = -(-int(low * scale) // 1) if spec.minimum is not None and not integer else lo
    return st.integers(lo, max(lo, hi)).map(lambda v: Decimal(v) / scale if not integer else v)


def _value(spec):
    kind = spec.type
    if spec.enum is not None:
        return st.sampled_from(list(spec.enum))
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return _number(spec, integer=True)
    if kind == "number":
        return _number(spec, integer=False)
    if kind == "number_or_range":
        one = _number(spec, integer=False)
        return st.one_of(one, st.tuples(one, one).map(lambda t: sorted(t)))
    if kind == "text":
        return st.text(alphabet="abcdefghij", min_size=1, max_size=8)
    if kind == "record":
        return _fields(spec.fields)
    if kind == "list":
        low = spec.min_items or 0
        return st.lists(_value(spec.items), min_size=low, max_size=max(low, min(spec.max_items or 4, 4)))
    raise AssertionError(f"no strategy for {kind}")


def _fields(specs: dict):
    required = {name: _value(s) for name, s in specs.items() if s.required and not s.has_default}
    optional = {
        name: (_value(s) | st.just(None)) if s.null == "not_applicable" else _value(s)
        for name, s in specs.items()
        if not (s.required and not s.has_default)
    }
    return st.fixed_dictionaries(required, optional=optional)


def _as_record(value) -> dict:
    """Through JSON text, exactly as a submitted record is read."""

    def plain(v):
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        return v

    return decode_json(encode(plain(value)))


@pytest.mark.parametrize("policy_id", BUNDLED)
def test_valid_records_never_fail_because_of_the_policy(policy_id):
    loaded = api.load(policy_id)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(_fields(loaded.policy.inputs))
    def check(record):
        result = api.evaluate(loaded, _as_record(record))
        about_policy = [e for e in result.get("errors", []) if e["code"] not in ABOUT_THE_RECORD]
        assert not about_policy, (json.dumps(record, default=str), about_policy)

    check()


# Publishing refuses a policy whose own cases fail -----------------------------------------------

FAILING = """kinerja: 1
id: pp-gagal
extends: pp-46-2011
title: Uji kasus gagal
version: "1"
berlaku_mulai: 2014-01-01
berlaku_sampai: 2021-06-30
tests:
  - name: contoh DOMAIN.md dengan harapan yang salah
    record:
      kegiatan: [{kuantitas: {target: 1, realisasi: 1}, kualitas: {target: 100, realisasi: 90}, waktu: {target: 12, realisasi: 12}}]
      tugas_tambahan: 0
      kreativitas: 0
      perilaku: {orientasi_pelayanan: 80, integritas: 80, komitmen: 80, disiplin: 80, kerja_sama: 80}
    expect: {nilai_skp: 90}
"""


def test_failing_cases_lists_each_failing_case():
    policy, diagnostics = api.check_text(FAILING)
    assert policy is not None and not [d for d in diagnostics if d.severity.value == "error"]
    with i18n.using("en"):
        (problem,) = service.failing_cases(policy)
    assert problem["code"] == "test.failed" and problem["path"] == "/policy"
    assert problem["message"].startswith("policy.yaml:9: case 'contoh DOMAIN.md dengan harapan yang salah' fails: ")
    assert "expected 90, got 88.67" in problem["message"]


def test_publish_refuses_a_policy_whose_own_cases_fail(app):
    client = app.test_client()
    store = app.extensions["kinerja_store"]
    admin = {"Authorization": f"Bearer {service.create_key(store, 'admin', None)[1]}", "Accept-Language": "en"}
    response = client.post(
        "/v1/policies", data=encode({"policy": FAILING}), headers=admin, content_type="application/json"
    )
    problem = decode_json(response.get_data())
    assert response.status_code == 422
    assert [e["code"] for e in problem["errors"]] == ["test.failed"]
    assert "expected 90, got 88.67" in problem["errors"][0]["message"]
    listed = client.get("/v1/policies/pp-gagal/versions", headers=admin)
    assert listed.status_code == 404 or decode_json(listed.get_data()).get("versions") == []
    fixed = FAILING.replace("expect: {nilai_skp: 90}", "expect: {nilai_skp: 88.67}")
    response = client.post(
        "/v1/policies", data=encode({"policy": fixed}), headers=admin, content_type="application/json"
    )
    assert response.status_code == 201
