"""Versions in force (issue 6): several versions of one policy id, each valid from berlaku_mulai
to berlaku_sampai; evaluation picks the version in force for a period; `kinerja check` reports
overlaps and gaps; the service publishes versions immutably and evaluates by period.

The two versions extend pp-46-2011. Version 1 keeps nilai prestasi kerja = 0.6 SKP + 0.4
perilaku; version 2 makes it 0.5 + 0.5. For DOMAIN.md's worked record (nilai SKP 88.6667,
perilaku 80): version 1 gives 0.6 x 88.6667 + 0.4 x 80 = 85.2; version 2 gives
(88.6667 + 80) / 2 = 84.3333, reported 84.33.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from engine import api, service
from engine.evaluate.io import decode_json, encode

#: The assertions below read the English texts; Indonesian is the default (tests/test_language.py).
pytestmark = pytest.mark.usefixtures("english")

VERSION_1 = """kinerja: 1
id: pp-uji
extends: pp-46-2011
title: Uji versi
version: "1"
berlaku_mulai: 2021-01-01
berlaku_sampai: 2022-12-31
"""
VERSION_2 = """kinerja: 1
id: pp-uji
extends: pp-46-2011
title: Uji versi
version: "2"
berlaku_mulai: {mulai}
values:
  nilai_prestasi_kerja:
    formula: nilai_skp * 0.5 + nilai_perilaku * 0.5
"""
NILAI = {"1": Decimal("85.2"), "2": Decimal("84.33")}


@pytest.fixture
def versions_dir(tmp_path, monkeypatch):
    """write(mulai_of_version_2) -> the directory holding pp-uji.yaml and pp-uji@2.yaml, on the path."""
    directory = tmp_path / "kebijakan"
    directory.mkdir()
    monkeypatch.setenv("KINERJA_POLICY_PATH", str(directory))

    def write(mulai: str = "2023-01-01"):
        (directory / "pp-uji.yaml").write_text(VERSION_1, encoding="utf-8")
        (directory / "pp-uji@2.yaml").write_text(VERSION_2.format(mulai=mulai), encoding="utf-8")
        return directory

    return write


def results(stdout: str) -> list[dict]:
    return [decode_json(line.encode("utf-8")) for line in stdout.splitlines()]


# CLI ------------------------------------------------------------------------------------------


def test_each_record_is_evaluated_with_the_version_in_force_for_its_period(
    versions_dir, run_cli, pp46_record, tmp_path
):
    versions_dir()
    records = tmp_path / "r.jsonl"
    records.write_text(
        "\n".join(
            json.dumps(pp46_record(id=i, periode=p))
            for i, p in (("a", "2021"), ("b", "2023"), ("c", "2022-12-31"), ("d", "2023-01"))
        )
    )
    code, out, err = run_cli("eval", "--policy", "pp-uji", records)
    assert code == 0, err
    got = {r["id"]: r for r in results(out)}
    assert {i: r["policy"]["version"] for i, r in got.items()} == {"a": "1", "b": "2", "c": "1", "d": "2"}
    assert {i: r["outputs"]["nilai_prestasi_kerja"] for i, r in got.items()} == {
        "a": NILAI["1"],
        "b": NILAI["2"],
        "c": NILAI["1"],
        "d": NILAI["2"],
    }
    assert got["a"]["policy"]["hash"] == got["c"]["policy"]["hash"] != got["b"]["policy"]["hash"]
    # the hashes are those of the files, as `ID@VERSION` loads them
    for version, record_id in (("1", "a"), ("2", "b")):
        _, named, _ = run_cli("eval", "--policy", f"pp-uji@{version}", stdin=json.dumps(pp46_record()))
        assert results(named)[0]["policy"] == got[record_id]["policy"]


def test_the_period_option_chooses_for_records_without_their_own(versions_dir, run_cli, pp46_record):
    versions_dir()
    stdin = json.dumps(pp46_record(id="x")) + "\n" + json.dumps(pp46_record(id="y", periode="2023"))
    code, out, _ = run_cli("eval", "--policy", "pp-uji", "--period", "2022-03", stdin=stdin)
    assert code == 0
    assert [r["policy"]["version"] for r in results(out)] == ["1", "2"]


def test_a_period_straddling_two_versions_names_both(versions_dir, run_cli, pp46_record):
    directory = versions_dir("2022-07-01")  # version 2 starts mid-2022, version 1 ends the day before
    (directory / "pp-uji.yaml").write_text(VERSION_1.replace("2022-12-31", "2022-06-30"))
    code, out, err = run_cli("eval", "--policy", "pp-uji", "--period", "2022", stdin=json.dumps(pp46_record()))
    assert code == 2 and out == ""
    assert "version.straddles" in err and "pp-uji.yaml" in err and "pp-uji@2.yaml" in err
    assert "name a version (pp-uji@VERSION) or give a narrower period" in err
    # per record: an error at /periode, the other records still evaluated
    stdin = json.dumps(pp46_record(id="s", periode="2022")) + "\n" + json.dumps(pp46_record(id="m", periode="2022-07"))
    code, out, err = run_cli("eval", "--policy", "pp-uji", stdin=stdin)
    assert code == 1
    straddling, july = results(out)
    assert [(e["path"], e["code"]) for e in straddling["errors"]] == [("/periode", "version.straddles")]
    assert july["policy"]["version"] == "2" and july["outputs"]["nilai_prestasi_kerja"] == NILAI["2"]


def test_no_version_in_force_lists_each_validity(versions_dir, run_cli, pp46_record):
    versions_dir()
    code, _, err = run_cli("eval", "--policy", "pp-uji", "--period", "2020-05", stdin=json.dumps(pp46_record()))
    assert code == 2
    assert "version.none_in_force" in err
    assert "2021-01-01 to 2022-12-31" in err and "2023-01-01 to …" in err


@pytest.mark.parametrize("period", ["2023-13", "2023-02-30", "23", "2023-1"])
def test_a_malformed_period_is_refused(versions_dir, run_cli, pp46_record, period):
    versions_dir()
    code, _, err = run_cli("eval", "--policy", "pp-uji", "--period", period, stdin=json.dumps(pp46_record()))
    assert code == 2 and "period.invalid" in err
    code, out, _ = run_cli("eval", "--policy", "pp-uji", stdin=json.dumps(pp46_record(periode=period)))
    assert code == 1 and [(e["path"], e["code"]) for e in results(out)[0]["errors"]] == [("/periode", "pattern")]


def test_the_record_schema_shows_periode(run_cli):
    code, out, _ = run_cli("schema", "pp-46-2011")
    assert code == 0
    schema = json.loads(out)
    assert schema["properties"]["periode"]["type"] == "string" and "periode" not in schema["required"]


def test_a_gap_between_versions_is_reported_by_check(versions_dir, run_cli):
    directory = versions_dir("2023-02-01")
    code, out, _ = run_cli("check")
    assert code == 1
    # pp-uji@2.yaml line 6 is `berlaku_mulai: 2023-02-01`, its value at column 16
    assert (
        f"{directory / 'pp-uji@2.yaml'}:6:16: versions.gap: no version of pp-uji is in force from 2023-01-01 "
        "to 2023-01-31" in out
    )
    assert "hint: start version 2 on 2023-01-01, or end version 1 on 2023-01-31" in out
    code, out, _ = run_cli("check", "pp-uji", "--json")
    assert code == 1 and [d["code"] for d in json.loads(out)] == ["versions.gap"]


def test_overlapping_versions_are_reported_by_check(versions_dir, run_cli):
    directory = versions_dir("2022-07-01")
    code, out, _ = run_cli("check", "pp-uji")
    assert code == 1
    assert f"{directory / 'pp-uji@2.yaml'}:6:16: versions.overlap: " in out
    assert "from 2022-07-01 to 2022-12-31" in out


def test_consecutive_versions_pass_check(versions_dir, run_cli):
    versions_dir()
    code, out, _ = run_cli("check", "pp-uji")
    assert (code, out) == (0, "")


def test_same_version_with_other_content_and_reversed_dates(versions_dir, run_cli):
    directory = versions_dir()
    (directory / "pp-uji@2.yaml").write_text(VERSION_2.format(mulai="2023-01-01").replace('"2"', '"1"'))
    (directory / "pp-uji@3.yaml").write_text(
        VERSION_1.replace('"1"', '"3"').replace("2021-01-01", "2025-01-01").replace("2022-12-31", "2024-12-31")
    )
    code, out, _ = run_cli("check", "pp-uji", "--json")
    found = {(d["file"].rsplit("/", 1)[-1], d["line"], d["code"]) for d in json.loads(out)}
    assert code == 1
    assert ("pp-uji@2.yaml", 5, "versions.duplicate") in found
    assert ("pp-uji@3.yaml", 7, "versions.order") in found


# HTTP -------------------------------------------------------------------------------------------


@pytest.fixture
def keys(app):
    store = app.extensions["kinerja_store"]
    return {
        role: {"Authorization": f"Bearer {service.create_key(store, role, agency)[1]}"}
        for role, agency in (("agency", "dinkes"), ("reviewer", None), ("admin", None))
    }


def post(client, url, headers, value):
    response = client.post(url, data=encode(value), headers=headers, content_type="application/json")
    return response.status_code, decode_json(response.get_data())


def test_publish_list_get_and_evaluate_by_period(app, keys, pp46_record):
    client = app.test_client()
    admin = keys["admin"]
    status, first = post(client, "/v1/policies", admin, {"policy": VERSION_1})
    assert status == 201 and first["version"] == "1" and first["source"] == "published"
    assert (first["berlaku_mulai"], first["berlaku_sampai"]) == ("2021-01-01", "2022-12-31")
    document = decode_json(client.get(f"/v1/policies/pp-uji/versions/{first['hash']}", headers=admin).get_data())

    # a gap is refused, with the location in the text sent; nothing is published
    status, problem = post(client, "/v1/policies", admin, {"policy": VERSION_2.format(mulai="2023-03-01")})
    assert status == 422 and [e["code"] for e in problem["errors"]] == ["versions.gap"]
    assert problem["errors"][0]["message"].startswith("policy.yaml:6:16: versions.gap")
    status, second = post(client, "/v1/policies", admin, {"policy": VERSION_2.format(mulai="2023-01-01")})
    assert status == 201 and second["version"] == "2"

    # republishing is idempotent; the same version with other content is a conflict
    assert post(client, "/v1/policies", admin, {"policy": VERSION_1}) == (200, first)
    status, problem = post(client, "/v1/policies", admin, {"policy": VERSION_1.replace("Uji versi", "Lain")})
    assert status == 409 and problem["errors"][0]["code"] == "version_exists"

    listed = decode_json(client.get("/v1/policies/pp-uji/versions", headers=keys["agency"]).get_data())
    assert [(v["version"], v["hash"], v["source"]) for v in listed["versions"]] == [
        ("1", first["hash"], "published"),
        ("2", second["hash"], "published"),
    ]
    # the old version is unchanged by the new one: same hash, same document
    again = decode_json(client.get(f"/v1/policies/pp-uji/versions/{first['hash']}", headers=admin).get_data())
    assert again == document and again["text"] == VERSION_1
    assert again["document"]["berlaku_sampai"] == "2022-12-31"

    records = [pp46_record(id="a", periode="2021-05"), pp46_record(id="b", periode="2023")]
    status, evaluated = post(client, "/v1/policies/pp-uji/evaluate", keys["agency"], {"records": records})
    assert status == 200
    assert [(r["policy"]["hash"], r["outputs"]["nilai_prestasi_kerja"]) for r in evaluated["results"]] == [
        (first["hash"], NILAI["1"]),
        (second["hash"], NILAI["2"]),
    ]
    status, evaluated = post(
        client, "/v1/policies/pp-uji/evaluate", keys["agency"], {"records": [pp46_record()], "period": "2022"}
    )
    assert status == 200 and evaluated["results"][0]["policy"]["version"] == "1"
    status, evaluated = post(client, "/v1/policies/pp-uji@2/evaluate", keys["agency"], {"records": [pp46_record()]})
    assert evaluated["results"][0]["policy"]["hash"] == second["hash"]

    # a submission is evaluated with the version in force for its period
    status, stored = post(
        client, "/v1/submissions", keys["agency"], {"policy": "pp-uji", "period": "2021", "records": [pp46_record()]}
    )
    assert status == 201 and stored["policy"]["hash"] == first["hash"]
    assert stored["evaluations"][0]["outputs"]["nilai_prestasi_kerja"] == NILAI["1"]
    status, problem = post(
        client,
        "/v1/submissions",
        keys["agency"],
        {"policy": "pp-uji", "period": "2021", "records": [pp46_record(periode="2023")]},
    )
    assert status == 422 and [e["path"] for e in problem["errors"]] == ["/records/0/periode"]
    status, problem = post(
        client, "/v1/submissions", keys["agency"], {"policy": "pp-uji", "period": "2020", "records": [pp46_record()]}
    )
    assert status == 422 and problem["errors"][0]["path"] == "/period"


def test_only_admins_publish(app, keys):
    client = app.test_client()
    for role in ("agency", "reviewer"):
        status, problem = post(client, "/v1/policies", keys[role], {"policy": VERSION_1})
        assert status == 403 and problem["errors"][0]["code"] == "forbidden"
    assert client.get("/v1/policies/pp-uji/versions", headers=keys["admin"]).status_code == 404


def test_a_published_policy_extends_only_ids(app, keys):
    client = app.test_client()
    status, problem = post(
        client,
        "/v1/policies",
        keys["admin"],
        {"policy": VERSION_1.replace("extends: pp-46-2011", "extends: /etc/passwd")},
    )
    assert status == 422 and [e["code"] for e in problem["errors"]] == ["extends.unknown"]


def test_bundled_versions_are_listed(app, keys):
    listed = decode_json(app.test_client().get("/v1/policies/pp-46-2011/versions", headers=keys["agency"]).get_data())
    assert [(v["version"], v["source"], v["berlaku_mulai"], v["berlaku_sampai"]) for v in listed["versions"]] == [
        ("2013.1", "bundled", "2014-01-01", "2021-06-30")
    ]
    got = decode_json(
        app.test_client()
        .get(f"/v1/policies/pp-46-2011/versions/{listed['versions'][0]['hash']}", headers=keys["agency"])
        .get_data()
    )
    assert got["document"]["id"] == "pp-46-2011" and got["text"] is None


def test_the_rulebook_of_a_version_shows_what_changed_since_the_one_before(versions_dir, run_cli):
    directory = versions_dir()
    code, out, err = run_cli("render", str(directory / "pp-uji@2.yaml"))
    assert code == 0, err
    history = out.split("## Riwayat versi\n", 1)[1].split("\n## ", 1)[0]
    first = api.load(directory / "pp-uji.yaml").policy
    assert f"versi 1 (`{first.hash[:19]}`)" in history
    assert "nilai_prestasi_kerja" in history and "nilai_skp * 0.5 + nilai_perilaku * 0.5" in history
    code, out, _ = run_cli("render", str(directory / "pp-uji.yaml"))  # the first has nothing before it
    assert code == 0 and "Versi sebelumnya tidak diketahui" in out
