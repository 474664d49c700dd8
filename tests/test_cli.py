"""The `kinerja` command: exit codes, input and output formats, schema, check, test, explain."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from jsonschema import Draft202012Validator

#: The assertions below read the English texts; Indonesian is the default (tests/test_language.py).
pytestmark = pytest.mark.usefixtures("english")

GOOD_OUTPUTS = {"nilai_skp": 88.67, "nilai_perilaku": 80, "nilai_prestasi_kerja": 85.2, "predikat": "Baik"}
OUTPUT_COLUMNS = ["id", "nilai_skp", "nilai_perilaku", "nilai_prestasi_kerja", "predikat", "errors"]


def _lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


# Exit codes -------------------------------------------------------------------------------------


def test_eval_exits_0_when_every_record_is_evaluated(pp46_record, run_cli):
    code, out, err = run_cli("eval", "--policy", "pp-46-2011", stdin=json.dumps(pp46_record()))
    assert (code, err) == (0, "")
    (result,) = _lines(out)
    assert result["id"] == "199001012020011001"
    assert result["policy"]["id"] == "pp-46-2011"
    assert result["policy"]["version"] and result["policy"]["hash"].startswith("sha256:")
    assert result["outputs"] == GOOD_OUTPUTS
    assert result["values"]["nilai_perilaku"] == 80
    assert result["values"]["kegiatan"][0]["nilai_waktu"] == 76  # on time is 76, by design
    assert "errors" not in result


def test_eval_exits_1_when_some_records_have_errors(pp46_record, run_cli):
    records = json.dumps(pp46_record()) + "\n" + json.dumps(pp46_record(id="x", kreativitas=4)) + "\n"
    code, out, err = run_cli("eval", "--policy", "pp-46-2011", stdin=records)
    assert code == 1
    good, bad = _lines(out)
    assert good["outputs"] == GOOD_OUTPUTS
    assert bad["id"] == "x" and bad["errors"][0]["path"] == "/kreativitas"
    assert "1 record(s) had errors" in err


def test_eval_exits_2_for_an_unknown_policy(run_cli):
    code, out, err = run_cli("eval", "--policy", "pp-46-201", stdin="{}")
    assert code == 2
    assert out == ""
    assert "policy.unknown" in err and "did you mean 'pp-46-2011'?" in err


def test_eval_exits_2_for_a_policy_with_errors(write_policy, run_cli):
    path = write_policy(
        "id: broken\ninputs:\n  a: {type: number}\nvalues:\n  result:\n    formula: a * \noutputs:\n  result: {}\n"
    )
    code, out, err = run_cli("eval", "--policy", path, stdin='{"a": 1}')
    assert code == 2
    assert out == ""
    assert f"{path}:6:17: syntax.missing_operand:" in err


def test_eval_exits_2_for_an_input_file_that_does_not_exist(tmp_path, run_cli):
    code, out, err = run_cli("eval", "--policy", "pp-46-2011", tmp_path / "nothing.jsonl")
    assert code == 2
    assert "nothing.jsonl" in err


def test_no_command_is_a_usage_error(run_cli):
    code, _, err = run_cli()
    assert code == 2
    assert "usage" in err.lower()


# check and test ---------------------------------------------------------------------------------


def test_check_prints_file_line_column_code_message(write_policy, run_cli):
    path = write_policy(
        "id: broken\ninputs:\n  a: {type: number}\n  b: {type: number}\nvalues:\n"
        "  x: 0,7 * a\n  y: a + bb\noutputs:\n  x: {}\n  y: {}\n"
    )
    code, out, _ = run_cli("check", path)
    assert code == 1
    lines = [line for line in out.splitlines() if not line.startswith(" ")]
    assert lines == [
        f"{path}:6:7: syntax.decimal_comma: use '.' as the decimal mark",
        f"{path}:7:10: name.unknown: unknown name 'bb'",
    ]
    assert "hint: did you mean 'b'?" in out


def test_check_json_gives_every_diagnostic_as_data(write_policy, run_cli):
    path = write_policy("id: broken\ninputs:\n  a: {type: number}\nvalues:\n  x: a *\noutputs:\n  x: {}\n")
    code, out, _ = run_cli("check", "--json", path)
    assert code == 1
    (diagnostic,) = json.loads(out)
    assert {k: diagnostic[k] for k in ("file", "line", "column", "code", "severity")} == {
        "file": str(path),
        "line": 5,
        "column": 9,
        "code": "syntax.missing_operand",
        "severity": "error",
    }


def test_check_of_every_shipped_policy_is_silent(monkeypatch, run_cli):
    monkeypatch.delenv("KINERJA_POLICY_PATH", raising=False)
    code, out, err = run_cli("check")
    assert (code, out, err) == (0, "", "")


def test_check_of_pp_46_2011_by_id_is_silent(run_cli):
    assert run_cli("check", "pp-46-2011") == (0, "", "")


def test_policies_lists_pp_46_2011_without_errors(run_cli):
    code, out, _ = run_cli("policies", "--json")
    assert code == 0
    (row,) = [r for r in json.loads(out) if r["id"] == "pp-46-2011"]
    assert row["errors"] == 0
    assert row["berlaku_mulai"] == "2014-01-01" and row["berlaku_sampai"] == "2021-06-30"


def test_the_policy_s_own_cases_pass(run_cli):
    code, out, _ = run_cli("test", "pp-46-2011")
    assert code == 0
    assert re.search(r"pp-46-2011: (\d+) of \1 cases passed", out), out


def test_a_failing_policy_case_fails_kinerja_test(write_policy, run_cli):
    path = write_policy(
        "id: wrong\ninputs:\n  a: {type: number}\nvalues:\n  double: a * 2\noutputs:\n  double: {}\n"
        "tests:\n  - name: two times three\n    record: {a: 3}\n    expect: {double: 7}\n"
    )
    code, out, _ = run_cli("test", path)
    assert code == 1
    assert "FAIL" in out and "two times three" in out


# Output formats ---------------------------------------------------------------------------------


def test_jsonl_is_the_default_one_result_per_line(pp46_record, run_cli):
    records = "\n".join(json.dumps(pp46_record(id=f"r{i}")) for i in range(3))
    code, out, _ = run_cli("eval", "--policy", "pp-46-2011", stdin=records)
    assert code == 0
    assert [r["id"] for r in _lines(out)] == ["r0", "r1", "r2"]


def test_format_json_writes_one_array(pp46_record, run_cli):
    records = json.dumps([pp46_record(id="a"), pp46_record(id="b", kreativitas=7)])
    code, out, _ = run_cli("eval", "--policy", "pp-46-2011", "--format", "json", stdin=records)
    assert code == 1
    results = json.loads(out)
    assert isinstance(results, list) and [r["id"] for r in results] == ["a", "b"]
    assert results[0]["outputs"] == GOOD_OUTPUTS
    assert results[1]["errors"][0]["path"] == "/kreativitas"


def test_format_json_of_no_records_is_an_empty_array(run_cli):
    code, out, _ = run_cli("eval", "--policy", "pp-46-2011", "--format", "json", stdin="")
    assert code == 0
    assert json.loads(out) == []


def test_format_csv_has_one_column_per_output(pp46_record, run_cli):
    records = json.dumps(pp46_record(id="a")) + "\n" + json.dumps(pp46_record(id="b", tugas_tambahan=-1)) + "\n"
    code, out, _ = run_cli("eval", "--policy", "pp-46-2011", "--format", "csv", stdin=records)
    assert code == 1
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == OUTPUT_COLUMNS
    assert rows[1] == ["a", "88.67", "80", "85.2", "Baik", ""]
    assert rows[2][:5] == ["b", "", "", "", ""]
    assert "/tugas_tambahan" in rows[2][5]
    assert len(rows) == 3


def test_output_file(pp46_record, tmp_path, run_cli):
    target = tmp_path / "hasil.jsonl"
    code, out, _ = run_cli("eval", "--policy", "pp-46-2011", "-o", target, stdin=json.dumps(pp46_record()))
    assert (code, out) == (0, "")
    (result,) = _lines(target.read_text(encoding="utf-8"))
    assert result["outputs"] == GOOD_OUTPUTS


# Input formats ----------------------------------------------------------------------------------

CSV_HEADER = [
    "id",
    "kegiatan.0.kuantitas.target",
    "kegiatan.0.kuantitas.realisasi",
    "kegiatan.0.kualitas.target",
    "kegiatan.0.kualitas.realisasi",
    "kegiatan.0.waktu.target",
    "kegiatan.0.waktu.realisasi",
    "kegiatan.1.kuantitas.target",
    "kegiatan.1.kuantitas.realisasi",
    "kegiatan.1.kualitas.target",
    "kegiatan.1.kualitas.realisasi",
    "kegiatan.1.waktu.target",
    "kegiatan.1.waktu.realisasi",
    "tugas_tambahan",
    "kreativitas",
    "perilaku.orientasi_pelayanan",
    "perilaku.integritas",
    "perilaku.komitmen",
    "perilaku.disiplin",
    "perilaku.kerja_sama",
]


def _csv(*rows: list) -> str:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([CSV_HEADER, *rows])
    return text.getvalue()


def test_csv_input_with_dotted_headers(tmp_path, run_cli):
    # Row 1 is the worked example; its second kegiatan is left empty, so it has one kegiatan.
    # Row 2: kegiatan 1 (10/10, 100/100, TW 12 RW 9.12) gives 100, 100, 100 -> 100;
    # kegiatan 2 (4/3, 100/80, 12/12) gives 75, 80, 76 -> 77; mean 88.5, + 1 for two tugas
    # tambahan, + 3 kreativitas = 92.5; perilaku (90+85+80+75+70)/5 = 80;
    # 0.6 x 92.5 + 0.4 x 80 = 87.5, Baik.
    path = tmp_path / "skp.csv"
    path.write_text(
        _csv(
            ["a", 1, 1, 100, 90, 12, 12, "", "", "", "", "", "", 0, 0, 80, 80, 80, 80, 80],
            ["b", 10, 10, 100, 100, 12, "9.12", 4, 3, 100, 80, 12, 12, 2, 3, 90, 85, 80, 75, 70],
        ),
        encoding="utf-8",
    )
    code, out, err = run_cli("eval", "--policy", "pp-46-2011", path)
    assert (code, err) == (0, "")
    first, second = _lines(out)
    assert first["outputs"] == GOOD_OUTPUTS
    assert len(first["values"]["kegiatan"]) == 1
    assert second["outputs"] == {
        "nilai_skp": 92.5,
        "nilai_perilaku": 80,
        "nilai_prestasi_kerja": 87.5,
        "predikat": "Baik",
    }
    assert [k["nilai"] for k in second["values"]["kegiatan"]] == [100, 77]


def test_csv_on_standard_input_with_input_format(run_cli):
    data = _csv(["a", 1, 1, 100, 90, 12, 12, "", "", "", "", "", "", 0, 0, 80, 80, 80, 80, 80])
    code, out, _ = run_cli("eval", "--policy", "pp-46-2011", "--input-format", "csv", "-", stdin=data)
    assert code == 0
    assert _lines(out)[0]["outputs"] == GOOD_OUTPUTS


def test_csv_id_is_echoed_as_written(tmp_path, run_cli):
    """An id is text (a NIP, a code with leading zeros), never turned into a number."""
    path = tmp_path / "skp.csv"
    path.write_text(
        _csv(["007", 1, 1, 100, 90, 12, 12, "", "", "", "", "", "", 0, 0, 80, 80, 80, 80, 80]), encoding="utf-8"
    )
    code, out, _ = run_cli("eval", "--policy", "pp-46-2011", "--format", "csv", path)
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[1][0] == "007"


def test_json_ids_are_echoed_back_unchanged(pp46_record, run_cli):
    records = json.dumps(
        [pp46_record(id="0012"), pp46_record(id=42), {k: v for k, v in pp46_record().items() if k != "id"}]
    )
    code, out, _ = run_cli("eval", "--policy", "pp-46-2011", "--format", "json", stdin=records)
    assert code == 0
    assert [r["id"] for r in json.loads(out)] == ["0012", 42, None]


def test_a_json_array_file(pp46_record, tmp_path, run_cli):
    path = tmp_path / "skp.json"
    path.write_text(json.dumps([pp46_record(id="a"), pp46_record(id="b")]), encoding="utf-8")
    code, out, _ = run_cli("eval", "--policy", "pp-46-2011", path)
    assert code == 0
    assert [(r["id"], r["outputs"]) for r in _lines(out)] == [("a", GOOD_OUTPUTS), ("b", GOOD_OUTPUTS)]


# schema -----------------------------------------------------------------------------------------


@pytest.fixture
def record_schema(run_cli):
    code, out, _ = run_cli("schema", "pp-46-2011")
    assert code == 0
    schema = json.loads(out)
    Draft202012Validator.check_schema(schema)
    return schema


def test_schema_accepts_a_good_record(record_schema, pp46_record):
    assert list(Draft202012Validator(record_schema).iter_errors(pp46_record())) == []


def test_schema_accepts_the_optional_parts(record_schema, pp46_record):
    record = pp46_record()
    record["kegiatan"][0]["biaya"] = {"target": 100, "realisasi": 80}
    record["perilaku"]["kepemimpinan"] = 75
    assert list(Draft202012Validator(record_schema).iter_errors(record)) == []


@pytest.mark.parametrize(
    "change",
    [
        {"kreativitas": 5},
        {"tugas_tambahan": 1.5},
        {"kegiatan": []},
        {"perilaku": {"orientasi_pelayanan": 80}},
        {"catatan": "rajin"},
    ],
    ids=["kreativitas 5", "tugas_tambahan 1.5", "no kegiatan", "perilaku incomplete", "unknown field"],
)
def test_schema_refuses_a_bad_record(change, record_schema, pp46_record):
    assert list(Draft202012Validator(record_schema).iter_errors(pp46_record(**change)))


def test_schema_of_policy_files(run_cli):
    code, out, _ = run_cli("schema", "--policy-file")
    assert code == 0
    schema = json.loads(out)
    Draft202012Validator.check_schema(schema)
    assert "inputs" in schema["properties"]


def test_schema_needs_a_policy(run_cli):
    assert run_cli("schema")[0] == 2
    assert run_cli("schema", "no-such-policy")[0] == 2


# explain ----------------------------------------------------------------------------------------


def test_explain_in_bahasa_indonesia(pp46_record, run_cli, indonesian):
    code, out, _ = run_cli("explain", "--policy", "pp-46-2011", stdin=json.dumps(pp46_record()))
    assert code == 0
    assert "Nilai SKP" in out
    assert "Sebutan = Baik" in out
    assert "88,67" in out  # the Indonesian decimal mark
    assert "Hasil:" in out and "predikat = Baik" in out
    assert "Perka BKN 1/2013" in out  # the legal basis of the rule


def test_explain_in_english(pp46_record, run_cli):
    code, out, _ = run_cli("explain", "--policy", "pp-46-2011", "--lang", "en", stdin=json.dumps(pp46_record()))
    assert code == 0
    assert "Nilai SKP" in out
    assert "because" in out and "basis" in out
    assert "Result:" in out and "88.67" in out and "88,67" not in out


def test_explain_says_why_a_record_cannot_be_evaluated(pp46_record, run_cli):
    code, out, _ = run_cli("explain", "--policy", "pp-46-2011", stdin=json.dumps(pp46_record(kreativitas=4)))
    assert code == 1
    assert "/kreativitas" in out


def test_eval_explain_adds_sentences_to_each_result(pp46_record, run_cli):
    code, out, _ = run_cli("eval", "--policy", "pp-46-2011", "--explain", stdin=json.dumps(pp46_record()))
    assert code == 0
    (result,) = _lines(out)
    assert result["outputs"] == GOOD_OUTPUTS
    assert any("Nilai SKP" in sentence for sentence in result["explanation"])
    assert any("Baik" in sentence for sentence in result["explanation"])
