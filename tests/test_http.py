"""The HTTP service through its public interface (Flask's test client), on SQLite and PostgreSQL:
roles, agency isolation, all-or-nothing submissions, idempotency, limits, exact numbers and
problem+json errors.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path

import pytest

from engine import service
from engine.evaluate.io import decode_json, encode
from server import create_app

#: The assertions below read the English texts; Indonesian is the default (tests/test_language.py).
pytestmark = pytest.mark.usefixtures("english")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [decode_json(line) for line in (ROOT / "examples" / "pp-46-2011.jsonl").read_bytes().splitlines()]
PROBLEM = "application/problem+json"


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def keys(app):
    """Authorization headers for two agencies, a reviewer and an admin."""
    store = app.extensions["kinerja_store"]
    return {
        "dinkes": bearer(service.create_key(store, "agency", "dinkes")[1]),
        "bapenda": bearer(service.create_key(store, "agency", "bapenda")[1]),
        "reviewer": bearer(service.create_key(store, "reviewer", None)[1]),
        "admin": bearer(service.create_key(store, "admin", None)[1]),
    }


def body(response) -> object:
    """A response's JSON, numbers as exact Decimals."""
    return decode_json(response.get_data())


def submission(records=None, period: str = "2020", policy: str = "pp-46-2011") -> bytes:
    return encode(
        {"policy": policy, "period": period, "records": copy.deepcopy(EXAMPLES if records is None else records)}
    )


def submit(client, headers: dict, data: bytes, key: str | None = None):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post("/v1/submissions", data=data, headers={**headers, **extra}, content_type="application/json")


def assert_problem(response, status: int, *paths: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    problem = body(response)
    assert problem["type"] == "about:blank" and problem["status"] == status and problem["title"]
    assert problem["detail"] and problem["errors"]
    assert all(set(e) == {"path", "code", "message"} for e in problem["errors"])
    if paths:
        assert [e["path"] for e in problem["errors"]] == list(paths)
    return problem


# Roles ----------------------------------------------------------------------------------------


def test_the_role_matrix(client, keys):
    """Every role against every endpoint: who may read, who may write, who must show a key."""
    stored = body(submit(client, keys["dinkes"], submission()))
    policy_text = (ROOT / "policies" / "pp-46-2011.yaml").read_text(encoding="utf-8")
    endpoints = {
        "health": ("GET", "/v1/health", None),
        "openapi": ("GET", "/v1/openapi.json", None),
        "policies": ("GET", "/v1/policies", None),
        "policy": ("GET", "/v1/policies/pp-46-2011", None),
        "schema": ("GET", "/v1/policies/pp-46-2011/schema", None),
        "check": ("POST", "/v1/policies/check", {"policy": policy_text}),
        "evaluate": ("POST", "/v1/policies/pp-46-2011/evaluate", {"records": EXAMPLES[:1]}),
        "submit": ("POST", "/v1/submissions", decode_json(submission())),
        "submission": ("GET", f"/v1/submissions/{stored['id']}", None),
        "evaluations": ("GET", "/v1/evaluations", None),
        "evaluation": ("GET", f"/v1/evaluations/{stored['evaluations'][0]['id']}", None),
    }
    reader = {name: 200 for name in endpoints} | {"submit": 403}
    expected = {
        "dinkes": {name: 200 for name in endpoints} | {"submit": 201},
        "reviewer": reader,
        "admin": reader,
        None: {name: 401 for name in endpoints} | {"health": 200, "openapi": 200},
    }
    seen = {}
    for role, _statuses in expected.items():
        headers = keys[role] if role else {}
        for name, (method, url, data) in endpoints.items():
            response = client.open(
                url,
                method=method,
                headers=headers,
                data=None if data is None else encode(data),
                content_type="application/json",
            )
            seen[(role, name)] = response.status_code
            assert response.mimetype == ("application/json" if response.status_code < 400 else PROBLEM)
    assert seen == {(role, name): status for role, statuses in expected.items() for name, status in statuses.items()}


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer knj_nope_nope", "Basic dXNlcjpwYXNz", "bearer {secret}", "Bearer {secret}x"],
)
def test_a_missing_or_wrong_key_is_401(client, app, authorization):
    secret = service.create_key(app.extensions["kinerja_store"], "reviewer", None)[1]
    headers = {} if authorization is None else {"Authorization": authorization.format(secret=secret)}
    for response in (
        client.get("/v1/policies", headers=headers),
        client.get("/v1/evaluations", headers=headers),
        client.post("/v1/policies/pp-46-2011/evaluate", headers=headers, data=b"{"),
    ):
        assert_problem(response, 401, "")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/v1/policies", headers=bearer(secret)).status_code == 200


def test_a_revoked_key_is_401(client, app):
    store = app.extensions["kinerja_store"]
    key, secret = service.create_key(store, "agency", "dinkes")
    assert submit(client, bearer(secret), submission()).status_code == 201
    service.revoke_key(store, key.id)
    assert_problem(client.get("/v1/evaluations", headers=bearer(secret)), 401)
    assert_problem(submit(client, bearer(secret), submission()), 401)


# Agencies --------------------------------------------------------------------------------------


def test_an_agency_sees_only_its_own_data_and_a_reviewer_sees_all(client, keys):
    dinkes = body(submit(client, keys["dinkes"], submission()))
    bapenda = body(submit(client, keys["bapenda"], submission(EXAMPLES[:1], period="2021")))
    assert dinkes["agency"] == "dinkes" and bapenda["agency"] == "bapenda"

    for own, other, theirs in (("dinkes", "bapenda", dinkes), ("bapenda", "dinkes", bapenda)):
        assert_problem(client.get(f"/v1/submissions/{theirs['id']}", headers=keys[other]), 404)
        for evaluation in theirs["evaluations"]:
            assert_problem(client.get(f"/v1/evaluations/{evaluation['id']}", headers=keys[other]), 404)
            assert client.get(f"/v1/evaluations/{evaluation['id']}", headers=keys[own]).status_code == 200
        assert_problem(
            client.get(f"/v1/evaluations?after={theirs['evaluations'][0]['id']}", headers=keys[other]), 422, "after"
        )
        listed = body(client.get("/v1/evaluations", headers=keys[own]))["evaluations"]
        assert {e["id"] for e in listed} == {e["id"] for e in theirs["evaluations"]}
        assert {e["agency"] for e in listed} == {own}
        # the same record id, filtered, still shows only the caller's own evaluation
        nip = EXAMPLES[0]["id"]
        filtered = body(client.get(f"/v1/evaluations?record_id={nip}", headers=keys[own]))["evaluations"]
        assert [e["agency"] for e in filtered] == [own]

    for reader in ("reviewer", "admin"):
        everything = body(client.get("/v1/evaluations", headers=keys[reader]))["evaluations"]
        assert sorted(e["agency"] for e in everything) == ["bapenda"] + ["dinkes"] * 3
        assert body(client.get(f"/v1/submissions/{bapenda['id']}", headers=keys[reader])) == bapenda
        assert body(client.get(f"/v1/submissions/{dinkes['id']}", headers=keys[reader])) == dinkes
        by_period = body(client.get("/v1/evaluations?period=2021&policy=pp-46-2011", headers=keys[reader]))
        assert [e["submission_id"] for e in by_period["evaluations"]] == [bapenda["id"]]


def test_listing_pages_through_evaluations(client, keys):
    stored = body(submit(client, keys["dinkes"], submission()))
    first = body(client.get("/v1/evaluations?limit=2", headers=keys["dinkes"]))
    assert len(first["evaluations"]) == 2 and first["next"] == first["evaluations"][-1]["id"]
    rest = body(client.get(f"/v1/evaluations?limit=2&after={first['next']}", headers=keys["dinkes"]))
    assert len(rest["evaluations"]) == 1 and rest["next"] is None
    ids = [e["id"] for e in first["evaluations"] + rest["evaluations"]]
    assert sorted(ids) == sorted(e["id"] for e in stored["evaluations"])
    for bad in ("0", "501", "x", "-1", "1.5", ""):
        assert_problem(client.get(f"/v1/evaluations?limit={bad}", headers=keys["dinkes"]), 422, "limit")


# Submissions ------------------------------------------------------------------------------------


def test_a_submission_with_one_bad_record_stores_nothing(client, keys):
    records = copy.deepcopy(EXAMPLES)
    records[1]["kreativitas"] = 5
    records[2]["perilaku"]["integritas"] = 101
    response = submit(client, keys["dinkes"], submission(records))
    problem = assert_problem(response, 422, "/records/1/kreativitas", "/records/2/perilaku/integritas")
    assert "nothing was stored" in problem["detail"]
    assert body(client.get("/v1/evaluations", headers=keys["reviewer"]))["evaluations"] == []


def test_an_invalid_submission_body_is_422_at_its_fields(client, keys):
    problem = assert_problem(submit(client, keys["dinkes"], encode({"records": [], "extra": 1})), 422)
    assert {e["path"] for e in problem["errors"]} == {"/policy", "/period", "/extra"}
    assert_problem(submit(client, keys["dinkes"], submission(policy="no-such-policy")), 422, "/policy")
    assert_problem(submit(client, keys["dinkes"], encode({"policy": "pp-46-2011", "period": "2020"})), 422, "/records")
    assert_problem(submit(client, keys["dinkes"], b"[1, 2]"), 422, "")
    assert body(client.get("/v1/evaluations", headers=keys["reviewer"]))["evaluations"] == []


def test_a_retried_submission_returns_the_same_answer_and_stores_nothing_new(client, keys):
    data = submission()
    first = submit(client, keys["dinkes"], data, key="kunci-2020-1")
    again = submit(client, keys["dinkes"], data, key="kunci-2020-1")
    assert first.status_code == again.status_code == 201
    assert again.get_data() == first.get_data()
    assert again.headers["Location"] == first.headers["Location"] == f"/v1/submissions/{body(first)['id']}"
    assert len(body(client.get("/v1/evaluations", headers=keys["dinkes"]))["evaluations"]) == 3

    changed = submit(client, keys["dinkes"], submission(EXAMPLES[:1]), key="kunci-2020-1")
    assert assert_problem(changed, 422)["errors"][0]["code"] == "idempotency_key_reused"
    # the key belongs to its agency: another agency may use the same text
    assert submit(client, keys["bapenda"], data, key="kunci-2020-1").status_code == 201
    assert_problem(submit(client, keys["dinkes"], data, key="k" * 201), 422)
    assert len(body(client.get("/v1/evaluations", headers=keys["reviewer"]))["evaluations"]) == 6


# Limits -------------------------------------------------------------------------------------------


def test_a_body_over_the_configured_limit_is_413(db_url, pp46_record):
    app = create_app({"DATABASE_URL": db_url, "MAX_CONTENT_LENGTH": 2000})
    try:
        client = app.test_client()
        headers = bearer(service.create_key(app.extensions["kinerja_store"], "agency", "dinkes")[1])
        small = encode({"records": [pp46_record()]})
        large = encode({"records": [pp46_record(id=str(n)) for n in range(10)]})
        assert len(small) < 2000 < len(large)
        assert client.post("/v1/policies/pp-46-2011/evaluate", data=small, headers=headers).status_code == 200
        problem = assert_problem(client.post("/v1/policies/pp-46-2011/evaluate", data=large, headers=headers), 413)
        assert "2,000 bytes" in problem["detail"]
        assert_problem(submit(client, headers, submission(EXAMPLES * 4)), 413)
    finally:
        app.extensions["kinerja_store"].dispose()


def test_the_default_limit_is_10_mb(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 10 * 1024 * 1024


def test_more_records_than_a_request_may_hold_is_413(client, keys):
    too_many = encode({"records": [{}] * (service.MAX_RECORDS_PER_REQUEST + 1)})
    problem = assert_problem(
        client.post("/v1/policies/pp-46-2011/evaluate", data=too_many, headers=keys["reviewer"]), 413, "/records"
    )
    assert str(service.MAX_RECORDS_PER_REQUEST) in problem["detail"]


# Exact numbers and evaluation -------------------------------------------------------------------


def test_numbers_are_exact_json_numbers(client, keys):
    response = client.post(
        "/v1/policies/pp-46-2011/evaluate", data=encode({"records": EXAMPLES[:2]}), headers=keys["reviewer"]
    )
    text = response.get_data(as_text=True)
    assert '"nilai_skp":88.67,' in text and '"rata_rata_kegiatan":88.6666666667,' in text
    first = body(response)["results"][0]
    assert first["outputs"]["nilai_skp"] == Decimal("88.67")
    assert first["values"]["rata_rata_kegiatan"] == Decimal("88.6666666667")

    stored = body(submit(client, keys["dinkes"], submission()))
    assert stored["evaluations"][0]["outputs"]["nilai_skp"] == Decimal("88.67")
    evaluation = client.get(f"/v1/evaluations/{stored['evaluations'][1]['id']}", headers=keys["dinkes"])
    text = evaluation.get_data(as_text=True)
    assert '"realisasi":9.12}' in text  # the input as sent, not 9.1199999999999992184029906638897955417633056640625
    assert body(evaluation)["values"]["nilai_skp"] == 100
    listed = client.get("/v1/evaluations?record_id=198503122010011002", headers=keys["dinkes"])
    assert '"nilai_skp":88.67,' in listed.get_data(as_text=True)


def test_stateless_evaluation_of_the_examples(client, keys):
    for role in ("dinkes", "reviewer", "admin"):
        response = client.post(
            "/v1/policies/pp-46-2011/evaluate", data=encode({"records": EXAMPLES}), headers=keys[role]
        )
        assert response.status_code == 200 and response.mimetype == "application/json"
        results = body(response)["results"]
        assert [r["id"] for r in results] == [r["id"] for r in EXAMPLES]
        assert [r["outputs"]["predikat"] for r in results] == ["Baik", "Sangat Baik", "Baik"]
        assert [r["outputs"]["nilai_prestasi_kerja"] for r in results] == [Decimal("85.2"), 96, Decimal("83.66")]
        assert {r["policy"]["id"] for r in results} == {"pp-46-2011"}
    assert body(client.get("/v1/evaluations", headers=keys["reviewer"]))["evaluations"] == []


def test_evaluate_explains_on_request_and_reports_bad_records_in_place(client, keys, pp46_record):
    records = [pp46_record(), pp46_record(id="x", kreativitas=5)]
    results = body(
        client.post(
            "/v1/policies/pp-46-2011/evaluate",
            headers=keys["reviewer"],
            data=encode({"records": records, "explain": True}),
        )
    )["results"]
    assert results[0]["outputs"]["predikat"] == "Baik"
    assert results[0]["explanation"] and all(isinstance(s, str) for s in results[0]["explanation"])
    assert "trace" not in results[0]
    assert results[1] == {
        "id": "x",
        "policy": results[0]["policy"],
        "errors": [{"path": "/kreativitas", "code": "enum", "message": "must be one of 0, 3, 6, 12, got 5"}],
    }


def test_policies_are_listed_and_described(client, keys):
    listed = body(client.get("/v1/policies", headers=keys["reviewer"]))["policies"]
    assert {"permenpanrb-6-2022", "pp-30-2019", "pp-46-2011"} <= {p["id"] for p in listed}
    policy = body(client.get("/v1/policies/pp-46-2011", headers=keys["dinkes"]))
    assert policy["outputs"] == ["nilai_skp", "nilai_perilaku", "nilai_prestasi_kerja", "predikat"]
    assert policy["hash"].startswith("sha256:")
    schema = body(client.get("/v1/policies/pp-46-2011/schema", headers=keys["dinkes"]))
    assert schema["type"] == "object" and "kegiatan" in schema["properties"]
    assert_problem(client.get("/v1/policies/no-such-policy", headers=keys["dinkes"]), 404)
    assert_problem(client.get("/v1/policies/no-such-policy/schema", headers=keys["dinkes"]), 404)
    assert_problem(
        client.post("/v1/policies/no-such-policy/evaluate", headers=keys["dinkes"], data=encode({"records": []})), 404
    )


def test_a_policy_sent_as_text_is_checked(client, keys):
    valid = client.post(
        "/v1/policies/check",
        headers=keys["dinkes"],
        data=encode({"policy": (ROOT / "policies" / "pp-46-2011.yaml").read_text(encoding="utf-8")}),
    )
    assert body(valid) == {"valid": True, "diagnostics": []}
    broken = body(
        client.post("/v1/policies/check", headers=keys["dinkes"], data=encode({"policy": "id: x\nvalues: [\n"}))
    )
    assert broken["valid"] is False
    assert broken["diagnostics"][0]["code"] == "yaml.syntax" and broken["diagnostics"][0]["file"] == "policy.yaml"
    control = body(client.post("/v1/policies/check", headers=keys["dinkes"], data=b'{"policy": "id: x\\u0000"}'))
    assert control["valid"] is False and control["diagnostics"][0]["code"] == "yaml.character"
    assert_problem(client.post("/v1/policies/check", headers=keys["dinkes"], data=b"{}"), 422, "/policy")
    assert_problem(client.post("/v1/policies/check", headers=keys["dinkes"], data=b'{"policy": 1}'), 422, "/policy")


# Errors ---------------------------------------------------------------------------------------------


def test_malformed_json_is_400_with_its_line_and_column(client, keys):
    problem = assert_problem(
        client.post(
            "/v1/policies/pp-46-2011/evaluate", headers=keys["reviewer"], data=b'{"records": [\n  {"id": 1,}\n]}'
        ),
        400,
        "",
    )
    assert "line 2, column" in problem["detail"]
    for data in (b"", b"NaN", b'{"records": [Infinity]}', b"\xff", b'{"a": 1} x'):
        assert_problem(client.post("/v1/policies/pp-46-2011/evaluate", headers=keys["reviewer"], data=data), 400)


def test_a_body_that_is_not_an_object_is_422(client, keys):
    for data in (b"[]", b"1", b'"records"', b"null"):
        assert_problem(client.post("/v1/policies/pp-46-2011/evaluate", headers=keys["reviewer"], data=data), 422, "")


def test_unknown_routes_and_methods_are_problems(client, keys):
    assert_problem(client.get("/v1/nothing-here", headers=keys["reviewer"]), 404, "")
    assert_problem(client.get("/v1/submissions/does-not-exist", headers=keys["reviewer"]), 404, "")
    assert_problem(client.get("/v1/evaluations/does-not-exist", headers=keys["reviewer"]), 404, "")
    refused = assert_problem(client.delete("/v1/submissions", headers=keys["reviewer"]), 405, "")
    assert "POST" in client.delete("/v1/submissions").headers["Allow"]
    assert refused["errors"][0]["code"] == "method_not_allowed"


def test_an_unexpected_error_is_a_generic_500(client, keys, monkeypatch, caplog):
    def broken():
        raise RuntimeError("secret internals")

    monkeypatch.setattr(service, "list_policies", broken)
    response = client.get("/v1/policies", headers=keys["reviewer"])
    problem = assert_problem(response, 500, "")
    text = response.get_data(as_text=True)
    assert "secret" not in text and "Traceback" not in text and "RuntimeError" not in text
    assert problem["errors"][0]["code"] == "internal"
    assert "secret internals" in caplog.text  # logged for the operator, not shown to the caller
