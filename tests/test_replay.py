"""Replay of stored evaluations and the impact of a policy change on stored submissions, through
the HTTP service and the CLI, on SQLite and PostgreSQL.

Every test that stores evaluations is also replayed whole when its database is dropped
(conftest.db_url); these tests check what a reviewer relies on: a replay uses the policy version
stored, not today's file; a stored result that differs is reported at its place, never hidden;
and impact over stored data is the impact over the same records read from a file.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from engine import api, service
from engine.evaluate.io import decode_json, encode
from engine.review.diff import impact, impact_json
from engine.service.store import AuditEntry, Evaluation, PolicyVersion
from server import create_app

#: The assertions below read the English texts; Indonesian is the default (tests/test_language.py).
pytestmark = pytest.mark.usefixtures("english")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [decode_json(line) for line in (ROOT / "examples" / "pp-46-2011.jsonl").read_bytes().splitlines()]
PROBLEM = "application/problem+json"

#: pp-46-2011 with Baik from 86 instead of 76. By hand from DOMAIN.md's examples: the first record
#: (nilai prestasi kerja 85.2) and the third (83.66) go from Baik to Cukup; the second (96) stays
#: Sangat Baik; no number changes.
KETAT = """\
id: ketat
extends: pp-46-2011
title: Contoh daerah dengan batas Baik 86
version: "2024.1"
values:
  predikat:
    table:
      rows:
        - {when: ">= 91", then: Sangat Baik}
        - {when: "[86, 91)", then: Baik}
        - {when: "[61, 86)", then: Cukup}
        - {when: "[51, 61)", then: Kurang}
        - {when: "< 51", then: Buruk}
"""


@pytest.fixture
def policies(tmp_path, monkeypatch):
    """A policy directory on KINERJA_POLICY_PATH holding `ketat`."""
    directory = tmp_path / "policies"
    directory.mkdir()
    (directory / "ketat.yaml").write_text(KETAT, encoding="utf-8")
    monkeypatch.setenv("KINERJA_POLICY_PATH", str(directory))
    return directory


@pytest.fixture
def app(db_url, policies):
    app = create_app({"DATABASE_URL": db_url, "TESTING": True})
    yield app
    app.extensions["kinerja_store"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def keys(app):
    store = app.extensions["kinerja_store"]
    return {
        role: {"Authorization": f"Bearer {service.create_key(store, role_, agency)[1]}"}
        for role, role_, agency in (
            ("dinkes", "agency", "dinkes"),
            ("bapenda", "agency", "bapenda"),
            ("reviewer", "reviewer", None),
            ("admin", "admin", None),
        )
    }


def body(response):
    return decode_json(response.get_data())


def store_submission(client, headers, records=None, period="2020", policy="pp-46-2011") -> dict:
    data = encode(
        {"policy": policy, "period": period, "records": copy.deepcopy(EXAMPLES if records is None else records)}
    )
    response = client.post("/v1/submissions", data=data, headers=headers, content_type="application/json")
    assert response.status_code == 201, response.get_data(as_text=True)
    return body(response)


def replay(client, headers, evaluation_id: str):
    return client.post(f"/v1/evaluations/{evaluation_id}/replay", headers=headers)


def assert_problem(response, status: int, *paths: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    problem = body(response)
    if paths:
        assert [e["path"] for e in problem["errors"]] == list(paths)
    return problem


def tamper(app, evaluation_id: str, column: str, change) -> None:
    """Change one stored JSON column of an evaluation directly in the database."""
    store = app.extensions["kinerja_store"]
    with store.session() as session, session.begin():
        row = session.get(Evaluation, evaluation_id)
        document = decode_json(getattr(row, column).encode("utf-8"))
        change(document)
        session.execute(
            update(Evaluation).where(Evaluation.id == evaluation_id).values({column: encode(document).decode("utf-8")})
        )


# Replay ----------------------------------------------------------------------------------------


def test_a_stored_evaluation_replays_identically_for_whoever_may_read_it(app, client, keys):
    stored = store_submission(client, keys["dinkes"])
    first = stored["evaluations"][0]["id"]
    for evaluation in stored["evaluations"]:
        response = replay(client, keys["reviewer"], evaluation["id"])
        assert response.status_code == 200 and response.mimetype == "application/json"
        assert body(response) == {
            "evaluation_id": evaluation["id"],
            "policy_id": "pp-46-2011",
            "policy_hash": stored["policy"]["hash"],
            "same": True,
            "differences": [],
        }
    assert body(replay(client, keys["admin"], first))["same"] is True
    assert body(replay(client, keys["dinkes"], first))["same"] is True
    assert_problem(replay(client, keys["bapenda"], first), 404)  # another agency's: absent
    assert_problem(replay(client, {}, first), 401)
    assert_problem(replay(client, keys["reviewer"], "0" * 32), 404)
    with app.extensions["kinerja_store"].session() as session:
        audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "evaluation.replay")).all()
    assert len(audited) == 3 + 2  # the reviewer's three, the admin's and the agency's; no refusal
    assert {entry.object for entry in audited} == {f"evaluation/{e['id']}" for e in stored["evaluations"]}


def test_replay_uses_the_stored_policy_version_not_todays_file(app, client, keys, policies, db_url, run_cli):
    stored = store_submission(client, keys["dinkes"], policy="ketat", period="2024")
    assert [e["outputs"]["predikat"] for e in stored["evaluations"]] == ["Cukup", "Sangat Baik", "Cukup"]
    # The region moves Baik back to 76 in the same file: today's policy gives another answer ...
    (policies / "ketat.yaml").write_text(KETAT.replace("86", "76") + "# relaxed again\n", encoding="utf-8")
    today = client.post(
        "/v1/policies/ketat/evaluate",
        data=encode({"records": EXAMPLES[:1]}),
        headers=keys["reviewer"],
        content_type="application/json",
    )
    assert body(today)["results"][0]["outputs"]["predikat"] == "Baik"
    # ... and the stored evaluation still replays under the version it used.
    assert body(replay(client, keys["reviewer"], stored["evaluations"][0]["id"]))["same"] is True
    code, out, err = run_cli("replay", "--all", "--db", db_url)
    assert (code, out, err) == (0, "3 evaluations replayed, 3 identical, 0 differ\n", "")


@pytest.mark.store_tampered
def test_a_tampered_result_is_reported_at_its_place(app, client, keys, db_url, run_cli):
    stored = store_submission(client, keys["dinkes"])
    target = stored["evaluations"][0]["id"]  # DOMAIN.md's worked example: 85.2, Baik
    tamper(app, target, "outputs", lambda outputs: outputs.update(predikat="Sangat Baik"))
    tamper(app, target, "values", lambda values: values.update(nilai_prestasi_kerja=decode_json(b"91.2")))

    report = body(replay(client, keys["reviewer"], target))
    assert report["same"] is False
    assert report["differences"] == [
        {"path": "/outputs/predikat", "stored": "Sangat Baik", "replayed": "Baik"},
        {"path": "/values/nilai_prestasi_kerja", "stored": decode_json(b"91.2"), "replayed": decode_json(b"85.2")},
    ]
    assert body(replay(client, keys["reviewer"], stored["evaluations"][1]["id"]))["same"] is True

    code, out, err = run_cli("replay", target, "--db", db_url)
    assert code == 1 and err == ""
    assert out == (
        f"evaluation {target} (pp-46-2011 {stored['policy']['hash'][:19]}) differs:\n"
        '  /outputs/predikat: stored "Sangat Baik", replayed "Baik"\n'
        "  /values/nilai_prestasi_kerja: stored 91.2, replayed 85.2\n"
        "1 evaluation replayed, 0 identical, 1 differs\n"
    )
    code, out, _ = run_cli("replay", "--submission", stored["id"], "--db", db_url)
    assert code == 1 and out.endswith("3 evaluations replayed, 2 identical, 1 differs\n")
    code, out, _ = run_cli("replay", "--period", "2020", "--json", "--db", db_url)
    report = decode_json(out.encode("utf-8"))
    assert code == 1 and (report["replayed"], report["identical"], report["differ"]) == (3, 2, 1)
    assert report["evaluations"][0]["differences"][1]["stored"] == decode_json(b"91.2")


@pytest.mark.store_tampered
def test_a_stored_policy_that_no_longer_has_its_hash_is_a_difference(app, client, keys, db_url, run_cli):
    stored = store_submission(client, keys["dinkes"], records=EXAMPLES[:1])
    policy_hash = stored["policy"]["hash"]
    with app.extensions["kinerja_store"].session() as session, session.begin():
        row = session.get(PolicyVersion, policy_hash)
        row.document = row.document.replace('"title":"', '"title":"Diubah: ', 1)
    report = body(replay(client, keys["reviewer"], stored["evaluations"][0]["id"]))
    assert report["same"] is False and len(report["differences"]) == 1  # the results themselves still agree
    difference = report["differences"][0]
    assert difference["path"] == "/policy/hash" and difference["stored"] == policy_hash
    assert difference["replayed"].startswith("sha256:") and difference["replayed"] != policy_hash
    with app.extensions["kinerja_store"].session() as session, session.begin():
        session.get(PolicyVersion, policy_hash).document = "{not json"
    report = body(replay(client, keys["reviewer"], stored["evaluations"][0]["id"]))
    assert report["same"] is False and report["differences"][0]["path"] == "/policy/hash"
    assert "not JSON" in report["differences"][0]["message"]
    code, out, _ = run_cli("replay", "--all", "--db", db_url)
    assert code == 1 and out.endswith("1 evaluation replayed, 0 identical, 1 differs\n")


@pytest.mark.parametrize(
    "arguments, message",
    [
        ((), "name what to replay"),
        (("--all", "--period", "2020"), "name what to replay"),
        (("0" * 32,), f"no evaluation {'0' * 32}"),
        (("--submission", "nope"), "no submission nope"),
        (("--policy", "pp-30-2019"), "no stored evaluation matches --policy pp-30-2019"),
    ],
)
def test_replay_usage_errors_exit_2(app, client, keys, db_url, run_cli, arguments, message):
    store_submission(client, keys["dinkes"], records=EXAMPLES[:1])
    code, out, err = run_cli("replay", *arguments, "--db", db_url)
    assert (code, out) == (2, "") and err.startswith("kinerja: ") and message in err


def test_replay_of_an_empty_store_and_of_an_unreachable_one(tmp_path, run_cli):
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    assert run_cli("replay", "--all", "--db", url) == (0, "0 evaluations replayed, 0 identical, 0 differ\n", "")
    code, out, err = run_cli("replay", "--all", "--db", "postgresql://nobody@127.0.0.1:1/none")
    assert code == 2 and out == "" and err.startswith("kinerja: cannot open the database")


# Impact over stored submissions ---------------------------------------------------------------


def post_impact(client, headers, request: dict):
    return client.post("/v1/impact", data=encode(request), headers=headers, content_type="application/json")


def test_impact_over_stored_submissions_is_the_impact_over_the_same_records(app, client, keys):
    store = app.extensions["kinerja_store"]
    store_submission(client, keys["dinkes"])  # 2020: the three examples
    store_submission(client, keys["bapenda"], records=EXAMPLES[1:], period="2021")
    store_submission(client, keys["bapenda"], records=EXAMPLES[:1], period="2020", policy="ketat")

    response = post_impact(
        client, keys["reviewer"], {"old": "pp-46-2011", "new": "ketat", "policy": "pp-46-2011", "period": "2020"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    result = body(response)
    assert result["records"] == 3
    assert result["transitions"] == [
        {"old": "Sangat Baik", "new": "Sangat Baik", "count": 1},
        {"old": "Baik", "new": "Cukup", "count": 2},
    ]
    assert result["moved"] == [
        {"id": EXAMPLES[0]["id"], "old": "Baik", "new": "Cukup"},
        {"id": EXAMPLES[2]["id"], "old": "Baik", "new": "Cukup"},
    ]
    assert all(total["change"] == 0 for total in result["totals"].values()) and result["failed"] == []
    assert result["old"] == api.load("pp-46-2011").ref and result["new"] == api.load("ketat").ref
    old, new = api.load("pp-46-2011"), api.load("ketat")
    direct = impact_json(impact(old, new, copy.deepcopy(EXAMPLES)), list(old.policy.outputs["predikat"].labels))
    assert {k: v for k, v in result.items() if k not in ("old", "new", "policy", "period")} == decode_json(
        encode(direct)
    )

    everything = body(post_impact(client, keys["admin"], {"old": "pp-46-2011", "new": "ketat"}))
    with store.session() as session:
        stored = session.scalar(select(func.count()).select_from(Evaluation))
    assert everything["records"] == stored == 3 + 2 + 1
    assert sum(cell["count"] for cell in everything["transitions"]) + len(everything["failed"]) == stored
    by_hash = body(
        post_impact(
            client,
            keys["reviewer"],
            {"old": result["old"]["hash"], "new": "ketat", "policy": "pp-46-2011", "period": "2020"},
        )
    )
    assert by_hash == result  # a stored version by its hash is the same policy


def test_impact_refusals(app, client, keys, monkeypatch):
    store_submission(client, keys["dinkes"])
    request = {"old": "pp-46-2011", "new": "ketat"}
    assert_problem(post_impact(client, keys["dinkes"], request), 403)
    assert_problem(post_impact(client, {}, request), 401)
    assert_problem(post_impact(client, keys["reviewer"], {"old": "nope", "new": "ketat"}), 422, "/old")
    assert_problem(
        post_impact(client, keys["reviewer"], {"old": "pp-46-2011", "new": "sha256:" + "0" * 64}), 422, "/new"
    )
    assert_problem(
        post_impact(client, keys["reviewer"], {"old": "pp-46-2011", "period": 2020, "x": 1}),
        422,
        "/new",
        "/period",
        "/x",
    )
    monkeypatch.setattr(service.impact, "MAX_IMPACT_EVALUATIONS", 2)  # where impact_of_change reads it
    problem = assert_problem(post_impact(client, keys["reviewer"], request), 422)
    assert problem["errors"][0]["code"] == "too_many_evaluations" and "3 stored evaluations" in problem["detail"]
    assert body(post_impact(client, keys["reviewer"], {**request, "period": "1999"}))["records"] == 0


def test_kinerja_diff_over_a_database_says_what_it_says_over_the_same_file(app, client, keys, db_url, run_cli):
    store_submission(client, keys["dinkes"])
    store_submission(client, keys["dinkes"], records=EXAMPLES[:1], period="2021")
    from_file = run_cli("diff", "pp-46-2011", "ketat", "--data", ROOT / "examples" / "pp-46-2011.jsonl")
    from_db = run_cli("diff", "pp-46-2011", "ketat", "--db", db_url, "--policy", "pp-46-2011", "--period", "2020")
    assert from_db == from_file and from_db[0] == 1
    assert "3 records evaluated under both policies" in from_db[1] and "2 records change predikat:" in from_db[1]
    code, out, _ = run_cli("diff", "pp-46-2011", "ketat", "--db", db_url)
    assert code == 1 and "4 records evaluated under both policies" in out
    code, _, err = run_cli("diff", "pp-46-2011", "ketat", "--period", "2020")
    assert code == 2 and "give --db URL too" in err
    code, _, err = run_cli(
        "diff", "pp-46-2011", "ketat", "--db", db_url, "--data", ROOT / "examples" / "pp-46-2011.jsonl"
    )
    assert code == 2 and "not both" in err
