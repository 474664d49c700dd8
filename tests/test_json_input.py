"""Every JSON input is read the same way (issue 10, item 5): a repeated key is an error at its
JSON pointer in JSON Lines, a JSON array and HTTP; in the multi-core path an over-long line
yields exactly one error result."""

from __future__ import annotations

import io
import json

import pytest

from engine import api
from engine.evaluate import batch

ROOT_RECORD = (
    '{"id": "A", "kegiatan": [{"kuantitas": {"target": 1, "realisasi": 1, "target": 2}, '
    '"kualitas": {"target": 100, "realisasi": 90}, "waktu": {"target": 12, "realisasi": 12}}], '
    '"tugas_tambahan": 0, "kreativitas": 0, "perilaku": {"orientasi_pelayanan": 80, "integritas": 80, '
    '"komitmen": 80, "disiplin": 80, "kerja_sama": 80}}'
)


@pytest.fixture(autouse=True)
def english(monkeypatch):
    monkeypatch.setenv("KINERJA_LANG", "en")


def good(pp46_record, name: str) -> str:
    return json.dumps(pp46_record(id=name))


def test_a_repeated_key_in_json_lines_is_an_error_at_its_pointer(pp46_record, tmp_path, run_cli):
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join([good(pp46_record, "1"), ROOT_RECORD, good(pp46_record, "3")]) + "\n")
    code, out, _ = run_cli("eval", "--policy", "pp-46-2011", path)
    results = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and len(results) == 3
    assert "outputs" in results[0] and "outputs" in results[2]
    assert results[1]["errors"] == [
        {
            "path": "/kegiatan/0/kuantitas/target",
            "code": "duplicate_key",
            "message": "the key 'target' appears twice in the same object; keep one",
        }
    ]
    assert results[1]["line"] == 2


def test_a_repeated_key_in_a_json_array_refuses_that_record_only(pp46_record, tmp_path, run_cli):
    path = tmp_path / "records.json"
    path.write_text("[" + ", ".join([good(pp46_record, "1"), ROOT_RECORD, good(pp46_record, "3")]) + "]")
    code, out, _ = run_cli("eval", "--policy", "pp-46-2011", path)
    results = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and len(results) == 3
    assert "outputs" in results[0] and "outputs" in results[2]
    assert [e["path"] for e in results[1]["errors"]] == ["/kegiatan/0/kuantitas/target"]


def test_a_colon_inside_text_is_not_taken_for_a_key(pp46_record, tmp_path, run_cli):
    record = pp46_record(id="a:b:c")
    path = tmp_path / "records.jsonl"
    path.write_text(json.dumps(record) + "\n" + json.dumps(record).replace('"a:b:c"', '"a\\u003ab"') + "\n")
    code, out, _ = run_cli("eval", "--policy", "pp-46-2011", path)
    assert code == 0, out


def test_a_repeated_key_over_http_is_refused_at_its_pointer(client, pp46_record):
    from engine import service

    _, key = service.create_key(client.application.extensions["kinerja_store"], "reviewer", None)
    body = '{"records": [' + good(pp46_record, "1") + ", " + ROOT_RECORD + '], "explain": false, "explain": true}'
    response = client.post(
        "/v1/policies/pp-46-2011/evaluate",
        data=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert sorted((e["path"], e["code"]) for e in response.get_json()["errors"]) == [
        ("/explain", "duplicate_key"),
        ("/records/1/kegiatan/0/kuantitas/target", "duplicate_key"),
    ]


def test_an_over_long_line_in_the_multi_core_path_is_one_error_result(pp46_record, tmp_path, monkeypatch):
    monkeypatch.setattr(batch, "MAX_LINE_BYTES", 2000)
    monkeypatch.setattr(api, "MAX_LINE_BYTES", 2000)  # the facade's evaluator refuses the line batch cut
    lines = [good(pp46_record, str(k)) for k in range(40)]
    long_record = pp46_record(id="long", keterangan="x" * 9000)
    lines[17] = json.dumps(long_record)
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(lines) + "\n")
    loaded = api.load("pp-46-2011")
    out = io.BytesIO()
    evaluator = api.LineEvaluator(lambda record: loaded, loaded)
    records, bad = batch.run_file(str(path), out, evaluator, workers=2)
    results = [json.loads(line) for line in out.getvalue().splitlines()]
    assert (records, bad, len(results)) == (40, 1, 40)  # no phantom records from the rest of the line
    assert [r["line"] for r in results if "errors" in r] == [18]
    assert results[17]["errors"][0]["code"] == "too_large"
    assert [r["id"] for r in results if "outputs" in r] == [str(k) for k in range(40) if k != 17]


@pytest.mark.parametrize(
    "number", ["1.0000000000000000000000000000001", "1e16", "12345678901234567890123456789012", "0.5e-30"]
)
def test_every_json_input_applies_the_same_number_rule(number, pp46_record, tmp_path, run_cli, client):
    """One rule (engine.numbers.read_number) for JSON Lines, a JSON array and HTTP."""
    text = json.dumps(pp46_record(id="1")).replace('"tugas_tambahan": 0', f'"tugas_tambahan": {number}')
    (tmp_path / "r.jsonl").write_text(text + "\n")
    (tmp_path / "r.json").write_text(f"[{text}]")
    answers = []
    for name in ("r.jsonl", "r.json"):
        code, out, _ = run_cli("eval", "--policy", "pp-46-2011", tmp_path / name)
        answers.append(json.loads(out)["errors"])
    from engine import service

    _, key = service.create_key(client.application.extensions["kinerja_store"], "reviewer", None)
    response = client.post(
        "/v1/policies/pp-46-2011/evaluate",
        data='{"records": [' + text + "]}",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    answers.append(response.get_json()["results"][0]["errors"])
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0]["path"] == "/tugas_tambahan" and answers[0][0]["code"] in ("number_range", "integer")
