"""Hostile requests to the service: text a database cannot hold, policies that try to read the
server's files, and the signals a client relies on (replay header, strict fields)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import server
from engine import service
from engine.evaluate.io import encode

#: The assertions below read the English texts; Indonesian is the default (tests/test_language.py).
pytestmark = pytest.mark.usefixtures("english")

RECORD = json.loads((Path(__file__).resolve().parent.parent / "examples" / "pp-46-2011-contoh.json").read_text())


@pytest.fixture
def client(db_url):
    app = server.create_app({"DATABASE_URL": db_url})
    store = app.extensions["kinerja_store"]
    secret = service.create_key(store, "agency", "dinkes")[1]
    with app.test_client() as test_client:
        test_client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
        yield test_client
    store.dispose()


def submit(client, body: dict, key: str | None = None):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post("/v1/submissions", data=encode(body), headers=headers, content_type="application/json")


@pytest.mark.parametrize(
    "url,status",
    [
        ("/v1/evaluations?policy=%00", 200),
        ("/v1/evaluations?period=" + "9" * 40, 200),
        ("/v1/evaluations?record_id=a%00b", 200),
        ("/v1/evaluations?after=%00", 422),
        ("/v1/submissions/%00", 404),
        ("/v1/evaluations/a%00b", 404),
        ("/v1/evaluations/" + "f" * 40, 404),
    ],
)
def test_text_no_column_can_hold_is_absent_not_a_server_error(client, url, status):
    response = client.get(url)
    assert response.status_code == status
    if status == 200:
        assert response.get_json() == {"evaluations": [], "next": None}


@pytest.mark.parametrize(
    "change,path",
    [
        ({"period": "2020\u0000"}, "/period"),
        ({"period": "2" * 33}, "/period"),
        ({"records": [dict(RECORD, id="1985\u00000312")]}, "/records/0/id"),
        ({"records": [dict(RECORD, id="1" * 65)]}, "/records/0/id"),
    ],
)
def test_a_submission_with_such_text_is_refused_at_its_place(client, change, path):
    response = submit(client, {"policy": "pp-46-2011", "period": "2020", "records": [RECORD], **change})
    assert response.status_code == 422
    assert path in [e["path"] for e in response.get_json()["errors"]]
    assert client.get("/v1/evaluations").get_json()["evaluations"] == []


@pytest.mark.parametrize("target", ["/etc/passwd", "../../../../etc/hostname", "/dev/zero"])
def test_a_checked_policy_cannot_extend_a_file_on_the_server(client, target):
    response = client.post(
        "/v1/policies/check", data=encode({"policy": f"id: x\nextends: {target}\n"}), content_type="application/json"
    )
    assert response.status_code == 200
    diagnostics = response.get_json()["diagnostics"]
    assert [d["code"] for d in diagnostics] == ["extends.unknown"]
    assert "built-in" in diagnostics[0]["message"]


def test_a_checked_policy_may_extend_a_built_in_one(client):
    text = "id: kabupaten-x\nextends: permenpanrb-6-2022\n"
    response = client.post("/v1/policies/check", data=encode({"policy": text}), content_type="application/json")
    assert response.get_json() == {"valid": True, "diagnostics": []}


def test_a_replayed_submission_says_so(client):
    body = {"policy": "pp-46-2011", "period": "2020", "records": [RECORD]}
    first, again = submit(client, body, "k-1"), submit(client, body, "k-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in first.headers and again.headers["Idempotent-Replayed"] == "true"
    assert first.data == again.data


def test_evaluate_takes_explain_as_true_or_false_only(client):
    response = client.post(
        "/v1/policies/pp-46-2011/evaluate",
        data=encode({"records": [RECORD], "explain": "no"}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert [e["path"] for e in response.get_json()["errors"]] == ["/explain"]
    explained = client.post(
        "/v1/policies/pp-46-2011/evaluate",
        data=encode({"records": [RECORD], "explain": True}),
        content_type="application/json",
    ).get_json()["results"][0]
    assert explained["outputs"]["predikat"] == "Baik" and explained["explanation"]
