"""Hostile input gets a clear, located error: never a traceback, a hang or a silent wrong number.

Policies: a 50 MB file, an alias bomb, formulas and YAML nested 10,000 deep, object-building
tags. Records (through `kinerja eval --policy pp-46-2011`): each bad record sits between two
good ones; it must come back as an error at its JSON pointer while the good ones are written.
"""

from __future__ import annotations

import json
import time

import pytest

from engine import api

#: The assertions below read the English texts; Indonesian is the default (tests/test_language.py).
pytestmark = pytest.mark.usefixtures("english")

#: The worked example's outputs (see conftest.PP46_RECORD): what every good record gives.
GOOD_OUTPUTS = {"nilai_skp": 88.67, "nilai_perilaku": 80, "nilai_prestasi_kerja": 85.2, "predikat": "Baik"}
SECONDS = 5  # the most any single hostile input may take


def _codes(stdout: str) -> list[str]:
    """Diagnostic codes from `kinerja check` lines `file:line:col: code: message`."""
    codes = []
    for line in stdout.splitlines():
        if not line.startswith(" "):
            parts = line.split(": ")
            if len(parts) >= 3:
                codes.append(parts[1])
    return codes


# Policies ---------------------------------------------------------------------------------------


def test_a_50_megabyte_policy_is_refused(tmp_path, run_cli):
    path = tmp_path / "huge.yaml"
    row = "  " + "x" * 97 + "\n"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("id: huge\ndescription: |\n")
        for _ in range(50):
            handle.write(row * 10_486)  # about 1 MB per round
    assert path.stat().st_size > 50_000_000
    started = time.monotonic()
    code, out, err = run_cli("check", path)
    assert time.monotonic() - started < SECONDS
    assert code == 1
    assert f"{path}:1:1: yaml.too_large:" in out
    assert "Traceback" not in out + err

    code, out, err = run_cli("eval", "--policy", path, stdin="{}")
    assert code == 2
    assert "yaml.too_large" in err


BILLION_LAUGHS = """\
id: laughs
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def test_a_billion_laughs_alias_bomb_is_refused(write_policy, run_cli):
    path = write_policy(BILLION_LAUGHS)
    started = time.monotonic()
    code, out, err = run_cli("check", path)
    assert time.monotonic() - started < SECONDS
    assert code == 1
    assert f"{path}:3:" in out, "the first alias (*a, on line 3) is where the bomb starts"
    assert "yaml.alias" in _codes(out)
    assert "Traceback" not in out + err


def test_an_alias_is_refused_even_when_harmless(write_policy):
    path = write_policy("id: small\ninputs:\n  a: &number {type: number}\n  b: *number\n")
    _, diagnostics = api.check(path)
    assert [(d.code, d.position.line) for d in diagnostics] == [("yaml.alias", 4)]


DEEP_FORMULAS = {
    "10,000 parentheses": "(" * 10_000 + "1" + ")" * 10_000,
    "10,000 minus signs": "-" * 10_000 + "1",
    "1,300 negated parentheses (under the length limit)": "(-" * 1_300 + "1" + ")" * 1_300,
    "990 nots": "not " * 990 + "true",
    "790 nested calls": "abs(" * 790 + "1" + ")" * 790,
    "1,900 nested lists": "[" * 1_900 + "]" * 1_900,
}


@pytest.mark.parametrize("formula", DEEP_FORMULAS.values(), ids=DEEP_FORMULAS.keys())
def test_a_deeply_nested_formula_is_a_syntax_error(formula, write_policy, run_cli):
    path = write_policy(f'id: deep\nvalues:\n  result: "{formula}"\noutputs:\n  result: {{}}\n')
    started = time.monotonic()
    code, out, err = run_cli("check", path)
    assert time.monotonic() - started < SECONDS
    assert code == 1
    assert "Traceback" not in out + err
    located = [line for line in out.splitlines() if line.startswith(f"{path}:3:")]
    assert any(": syntax." in line for line in located), out


DEEP_YAML = {
    "10,000 nested lists": "x: " + "[" * 10_000 + "]" * 10_000 + "\n",
    "10,000 nested mappings": "x: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n",
    "40 levels of indentation": "x:\n" + "".join("  " * depth + "a:\n" for depth in range(1, 40)) + "  " * 40 + "1\n",
}


@pytest.mark.parametrize("text", DEEP_YAML.values(), ids=DEEP_YAML.keys())
def test_deeply_nested_yaml_is_refused(text, write_policy, run_cli):
    path = write_policy("id: deep\n" + text)
    started = time.monotonic()
    code, out, err = run_cli("check", path)
    assert time.monotonic() - started < SECONDS
    assert code == 1
    assert "yaml.too_deep" in _codes(out)
    assert "Traceback" not in out + err


TAGS = {
    "apply os.system": "!!python/object/apply:os.system ['touch {sentinel}']",
    "new subprocess": "!!python/object/new:subprocess.check_output [['touch', '{sentinel}']]",
    "name": "!!python/name:os.system",
    "custom tag": "!formula a + 1",
}


@pytest.mark.parametrize("tag", TAGS.values(), ids=TAGS.keys())
def test_an_object_building_tag_is_refused_and_nothing_runs(tag, tmp_path, write_policy, run_cli):
    sentinel = tmp_path / "executed"
    value = tag.format(sentinel=sentinel)
    path = write_policy(
        f"id: tagged\ninputs:\n  a: {{type: number}}\nvalues:\n  result: {value}\noutputs:\n  result: {{}}\n"
    )
    code, out, err = run_cli("check", path)
    assert not sentinel.exists(), "a YAML tag ran a command"
    assert code == 1
    assert f"{path}:5:11: yaml.tag:" in out
    code, out, err = run_cli("eval", "--policy", path, stdin='{"a": 1}')
    assert not sentinel.exists(), "a YAML tag ran a command"
    assert code == 2


# Records ----------------------------------------------------------------------------------------


def _bad(record: dict, **changes) -> str:
    record.update(changes)
    return json.dumps(record)


def _kegiatan(record: dict, aspect: str, key: str, value) -> dict:
    record["kegiatan"][0][aspect][key] = value
    return record


def _text_value(record: dict, raw: str) -> str:
    """The record as JSON with kualitas.realisasi written as `raw` (text that json cannot write)."""
    _kegiatan(record, "kualitas", "realisasi", "@@@")
    return json.dumps(record).replace('"@@@"', raw)


REALISASI = "/kegiatan/0/kualitas/realisasi"
BAD_RECORDS = {
    # name: (make the bad line from a fresh good record, {(path, code), ...} wanted)
    "1e999": (lambda r: _text_value(r, "1e999"), {(REALISASI, "number_range")}),
    "-1e999": (lambda r: _text_value(r, "-1e999"), {(REALISASI, "number_range")}),
    "text for a number": (
        lambda r: json.dumps(_kegiatan(r, "kualitas", "realisasi", "sembilan puluh")),
        {(REALISASI, "type")},
    ),
    "true for a number": (lambda r: json.dumps(_kegiatan(r, "kualitas", "realisasi", True)), {(REALISASI, "type")}),
    "null for a number": (lambda r: json.dumps(_kegiatan(r, "kualitas", "realisasi", None)), {(REALISASI, "type")}),
    "negative realisasi": (lambda r: json.dumps(_kegiatan(r, "kualitas", "realisasi", -5)), {(REALISASI, "minimum")}),
    "zero kualitas target": (
        lambda r: json.dumps(_kegiatan(r, "kualitas", "target", 0)),
        {("/kegiatan/0/kualitas/target", "exclusive_minimum")},
    ),
    "zero waktu target": (
        lambda r: json.dumps(_kegiatan(r, "waktu", "target", 0)),
        {("/kegiatan/0/waktu/target", "exclusive_minimum")},
    ),
    "a million kegiatan": (lambda r: _bad(r, kegiatan=[{}] * 1_000_000), {("/kegiatan", "max_items")}),
    "201 kegiatan": (lambda r: _bad(r, kegiatan=r["kegiatan"] * 201), {("/kegiatan", "max_items")}),
    "no kegiatan": (lambda r: _bad(r, kegiatan=[]), {("/kegiatan", "min_items")}),
    "kegiatan without waktu": (
        lambda r: json.dumps(r | {"kegiatan": [{k: v for k, v in r["kegiatan"][0].items() if k != "waktu"}]}),
        {("/kegiatan/0/waktu", "required")},
    ),
    "unknown field": (lambda r: _bad(r, catatan="rajin"), {("/catatan", "unknown_field")}),
    "misspelt field": (
        lambda r: json.dumps({("tugas_tambahn" if k == "tugas_tambahan" else k): v for k, v in r.items()}),
        {("/tugas_tambahn", "unknown_field"), ("/tugas_tambahan", "required")},
    ),
    "kreativitas not one of 0, 3, 6, 12": (lambda r: _bad(r, kreativitas=5), {("/kreativitas", "enum")}),
    "tugas_tambahan not whole": (lambda r: _bad(r, tugas_tambahan=1.5), {("/tugas_tambahan", "integer")}),
    "perilaku above 100": (
        lambda r: json.dumps(r | {"perilaku": r["perilaku"] | {"integritas": 101}}),
        {("/perilaku/integritas", "maximum")},
    ),
    "not an object": (lambda r: "[1, 2, 3]", {("", "type")}),
}


@pytest.mark.parametrize("make, wanted", BAD_RECORDS.values(), ids=BAD_RECORDS.keys())
def test_a_bad_record_is_an_error_at_its_pointer_and_the_others_are_evaluated(
    make, wanted, pp46_record, tmp_path, run_cli
):
    good = json.dumps(pp46_record())
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join([good, make(pp46_record(id="bad")), good]) + "\n", encoding="utf-8")
    started = time.monotonic()
    code, out, err = run_cli("eval", "--policy", "pp-46-2011", path)
    assert time.monotonic() - started < SECONDS
    assert code == 1
    assert "Traceback" not in err
    first, bad, last = [json.loads(line) for line in out.splitlines()]
    for result in (first, last):
        assert result["outputs"] == GOOD_OUTPUTS
    assert "outputs" not in bad
    assert bad["line"] == 2
    assert {(e["path"], e["code"]) for e in bad["errors"]} == wanted, bad["errors"]
    assert all(e["message"] for e in bad["errors"])
    assert "1 record(s) had errors" in err


def test_an_unknown_field_names_the_field_it_resembles(pp46_record, tmp_path, run_cli):
    record = {("tugas_tambahn" if k == "tugas_tambahan" else k): v for k, v in pp46_record().items()}
    code, out, _ = run_cli("eval", "--policy", "pp-46-2011", stdin=json.dumps(record))
    assert code == 1
    (error,) = [e for e in json.loads(out)["errors"] if e["code"] == "unknown_field"]
    assert "tugas_tambahan" in error["message"]


def test_a_wrong_code_lists_the_allowed_ones(pp46_record, run_cli):
    code, out, _ = run_cli("eval", "--policy", "pp-46-2011", stdin=json.dumps(pp46_record(kreativitas=5)))
    assert code == 1
    (error,) = json.loads(out)["errors"]
    assert all(allowed in error["message"] for allowed in ("0", "3", "6", "12"))


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused_with_their_line_and_column(token, pp46_record, tmp_path, run_cli):
    """NaN and Infinity are not JSON: the line cannot be read, so the error names line and column."""
    good = json.dumps(pp46_record())
    bad = _text_value(pp46_record(id="bad"), token)
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join([good, bad, good]) + "\n", encoding="utf-8")
    code, out, err = run_cli("eval", "--policy", "pp-46-2011", path)
    assert code == 1
    first, error, last = [json.loads(line) for line in out.splitlines()]
    assert first["outputs"] == GOOD_OUTPUTS and last["outputs"] == GOOD_OUTPUTS
    assert error["line"] == 2 and "outputs" not in error
    (problem,) = error["errors"]
    columns = {bad.index(token) + 1, bad.index(token.lstrip("-")) + 1}  # at the sign or at the word
    assert problem["path"] == REALISASI or any(f"line 2, column {c}:" in problem["message"] for c in columns), problem


def test_a_malformed_json_line_is_an_error_with_its_line_number(pp46_record, tmp_path, run_cli):
    good = json.dumps(pp46_record())
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join([good, good, '{"id": "broken", "kegiatan": [', good]) + "\n", encoding="utf-8")
    code, out, err = run_cli("eval", "--policy", "pp-46-2011", path)
    assert code == 1
    results = [json.loads(line) for line in out.splitlines()]
    assert len(results) == 4
    assert [r.get("outputs") for r in results] == [GOOD_OUTPUTS, GOOD_OUTPUTS, None, GOOD_OUTPUTS]
    assert results[2]["line"] == 3
    assert results[2]["errors"][0]["code"] == "json"
    assert "line 3" in results[2]["errors"][0]["message"]


def test_a_bad_csv_cell_is_an_error_at_its_pointer(tmp_path, run_cli):
    header = (
        "id,kegiatan.0.kuantitas.target,kegiatan.0.kuantitas.realisasi,kegiatan.0.kualitas.target,"
        "kegiatan.0.kualitas.realisasi,kegiatan.0.waktu.target,kegiatan.0.waktu.realisasi,tugas_tambahan,"
        "kreativitas,perilaku.orientasi_pelayanan,perilaku.integritas,perilaku.komitmen,perilaku.disiplin,"
        "perilaku.kerja_sama"
    )
    rows = [
        "a,1,1,100,90,12,12,0,0,80,80,80,80,80",
        "b,1,1,100,NaN,12,12,0,0,80,80,80,80,80",
        "c,1,1,100,sembilan puluh,12,12,0,0,80,80,80,80,80",
        "d,1,1,100,1e999,12,12,0,0,80,80,80,80,80",
        "e,1,1,100,90,12,12,0,0,80,80,80,80,80",
    ]
    path = tmp_path / "records.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    code, out, err = run_cli("eval", "--policy", "pp-46-2011", path)
    assert code == 1
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in results] == ["a", "b", "c", "d", "e"]
    assert results[0]["outputs"] == GOOD_OUTPUTS and results[4]["outputs"] == GOOD_OUTPUTS
    for result in results[1:4]:
        assert "outputs" not in result
        assert [e["path"] for e in result["errors"]] == [REALISASI], result["errors"]


# Hostile records that may exhaust the interpreter: run in a child process, with a time limit.


def _three_lines(pp46_record, bad: str) -> bytes:
    good = json.dumps(pp46_record())
    return ("\n".join([good, bad, good]) + "\n").encode("utf-8")


def test_a_record_nested_100000_deep_is_an_error(pp46_record, run_kinerja):
    bad = json.dumps(pp46_record(id="bad", tugas_tambahan="@@@")).replace('"@@@"', "[" * 100_000 + "]" * 100_000)
    code, out, err = run_kinerja(
        "eval", "--policy", "pp-46-2011", "-", stdin=_three_lines(pp46_record, bad), timeout=15
    )
    assert "Traceback" not in err, err[-2000:]
    assert code == 1
    first, error, last = [json.loads(line) for line in out.splitlines()]
    assert first["outputs"] == GOOD_OUTPUTS and last["outputs"] == GOOD_OUTPUTS
    assert error["line"] == 2 and error["errors"] and "outputs" not in error


@pytest.mark.parametrize(
    "tiny", ["1e-5001", "0." + "0" * 5000 + "1", "1e-99999999"], ids=["1e-5001", "0.(5000 zeros)1", "1e-99999999"]
)
def test_a_vanishingly_small_number_neither_crashes_nor_hangs(tiny, pp46_record, run_kinerja):
    bad = _text_value(pp46_record(id="bad"), tiny)
    code, out, err = run_kinerja("eval", "--policy", "pp-46-2011", "-", stdin=_three_lines(pp46_record, bad), timeout=8)
    assert "Traceback" not in err, err[-2000:]
    assert code in (0, 1)
    first, result, last = [json.loads(line) for line in out.splitlines()]
    assert first["outputs"] == GOOD_OUTPUTS and last["outputs"] == GOOD_OUTPUTS
    if "errors" in result:
        assert [e["path"] for e in result["errors"]] == [REALISASI]
    else:
        # kualitas is 0 to 2 decimals: (100 + 0 + 76) / 3 = 58.67; 0.6 x 58.67 + 32 = 67.2, Cukup
        assert result["outputs"] == {
            "nilai_skp": 58.67,
            "nilai_perilaku": 80,
            "nilai_prestasi_kerja": 67.2,
            "predikat": "Cukup",
        }
