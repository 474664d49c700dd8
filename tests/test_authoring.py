"""Authoring tools (issue 11, item 4): the schema of a policy file as written, `kinerja init`,
`kinerja export` and `kinerja --version`."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from engine import __version__
from engine.evaluate.io import decode_json

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "policies").glob("*.yaml")) + sorted((ROOT / "docs" / "panduan").glob("contoh-*.yaml"))


def _as_written(path: Path):
    """A policy file's data as a generic YAML tool (an editor, check-jsonschema) reads it: plain
    YAML 1.1 scalars, so an unquoted key `null` is YAML's null, and dates are text."""

    def plain(value):
        if isinstance(value, dict):
            return {plain(k) if not isinstance(k, str) else k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, (datetime.date, datetime.datetime)):
            return value.isoformat()
        return value

    return plain(yaml.load(path.read_text(encoding="utf-8"), Loader=_Yaml12))


class _Yaml12(yaml.SafeLoader):
    """YAML 1.2's core schema, as editors and check-jsonschema read it: only true and false are
    booleans (`on:` is the word on), and `null` is null."""


_Yaml12.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@pytest.fixture(scope="module")
def validator():
    from engine.policy.policyschema import policy_file_schema

    schema = policy_file_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_shipped_policy_file_validates_as_written(path, validator):
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(_as_written(path))]
    assert not errors


def test_a_child_that_removes_an_input_and_changes_one_weight_validates(validator):
    child = {
        "kinerja": 1,
        "id": "kab-uji",
        "extends": "serang",
        "inputs": {"ikm": None},
        "values": {
            "capaian_hasil_kerja": {"weighted": {"weights": {"bidan": {"capaian_cakupan_imunisasi": 60}}}},
            "batas_sesuai": {"formula": "80"},
        },
    }
    assert not list(validator.iter_errors(child))


@pytest.mark.parametrize(
    "mistake",
    [
        {"values": {"nilai": {"formla": "1"}}},
        {"values": {"nilai": {"table": {"hit": "uniq"}}}},
        {"inputs": {"umur": {"type": "angka"}}},
        {"id": None},
    ],
    ids=["misspelt key", "unknown hit policy", "unknown input type", "id removed"],
)
def test_the_schema_still_refuses_mistakes(mistake, validator):
    assert list(validator.iter_errors({"kinerja": 1, "id": "kab-uji", **mistake}))


def test_descriptions_are_in_bahasa_indonesia(validator):
    schema = validator.schema
    assert schema["properties"]["legal_basis"]["anyOf"][0]["description"].startswith("Peraturan yang dijalankan")
    assert schema["properties"]["id"]["description"].startswith("Id kebijakan")
    assert "~" in json.dumps(schema, ensure_ascii=False)


def test_cli_and_http_publish_the_same_schema(run_cli, tmp_path, validator):
    from server import create_app

    code, out, _ = run_cli("schema", "--policy-file")
    assert code == 0 and json.loads(out) == validator.schema
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'k.sqlite'}"})
    try:
        response = app.test_client().get("/v1/schemas/policy.json")  # no key needed
        assert response.status_code == 200
        assert decode_json(response.get_data()) == decode_json(json.dumps(validator.schema).encode())
    finally:
        app.extensions["kinerja_store"].dispose()


# init, export, --version -------------------------------------------------------------------------


@pytest.mark.parametrize("parent", ["serang", "permenpanrb-6-2022", "pp-46-2011"])
def test_init_writes_a_regional_policy_that_checks_and_tests_green(parent, run_cli, tmp_path, validator):
    target = tmp_path / "kab-baru.yaml"
    code, out, err = run_cli("init", "kab-baru", "--extends", parent, "-o", str(target))
    assert (code, err) == (0, "")
    assert str(target) in out
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=kinerja-policy.schema.json\n")
    assert f"extends: {parent}\n" in text
    assert not list(validator.iter_errors(_as_written(target)))
    assert run_cli("check", str(target))[:2] == (0, "")
    code, out, _ = run_cli("test", str(target))
    assert code == 0 and "kab-baru:" in out and "FAIL" not in out


def test_init_copies_the_parts_a_region_changes(run_cli, tmp_path):
    target = tmp_path / "kab-baru.yaml"
    run_cli("init", "kab-baru", "--extends", "serang", "-o", str(target))
    text = target.read_text(encoding="utf-8")
    assert 'batas_sesuai: {formula: "76"}' in text
    assert (
        "bidan: {capaian_cakupan_imunisasi: 50, capaian_pelayanan_kesehatan: 30, capaian_kepuasan_masyarakat: 20}"
        in text
    )
    changed = target.read_text(encoding="utf-8").replace(
        'batas_sesuai: {formula: "76"}', 'batas_sesuai: {formula: "80"}'
    )
    target.write_text(changed, encoding="utf-8")
    code, out, _ = run_cli("test", str(target))
    assert code == 1 and "GAGAL kab-baru" in out  # the copied cases show what the change moves


def test_init_never_overwrites_and_refuses_a_bad_id(run_cli, tmp_path):
    target = tmp_path / "kab.yaml"
    target.write_text("milik penulis\n", encoding="utf-8")
    code, _, err = run_cli("init", "kab", "--extends", "serang", "-o", str(target))
    assert code == 2 and "--force" in err
    assert target.read_text(encoding="utf-8") == "milik penulis\n"
    code, _, err = run_cli("init", "Kab Baru", "--extends", "serang", "-o", str(tmp_path / "x.yaml"))
    assert code == 2 and "Kab Baru" in err
    code, _, err = run_cli("init", "kab", "--extends", "tidak-ada", "-o", str(tmp_path / "y.yaml"))
    assert code == 2 and not (tmp_path / "y.yaml").exists()


def test_export_copies_a_bundled_policy_byte_for_byte(run_cli, tmp_path):
    target = tmp_path / "pp-30-2019.yaml"
    code, out, _ = run_cli("export", "pp-30-2019", "-o", str(target))
    assert code == 0 and "policies/pp-30-2019.yaml" in out
    assert target.read_bytes() == (ROOT / "policies" / "pp-30-2019.yaml").read_bytes()
    code, _, err = run_cli("export", "pp-30-2019", "-o", str(target))
    assert code == 2 and "--force" in err


def test_version(run_cli):
    code, out, _ = run_cli("--version")
    assert (code, out) == (0, f"kinerja {__version__}\n")
