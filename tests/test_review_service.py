"""The reviewers' service (issue 13): two versions compared with their impact on stored
evaluations (as `kinerja diff --data` computes it), replays, and the audit log's filters and pages."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from webtools import serang_threshold_copy

from engine import api, service
from engine.evaluate.io import decode_json, encode
from engine.service import Caller, ServiceError
from engine.service import review as review_service

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "serang.jsonl"
ADMIN = Caller("admin-1", "admin", None)
REVIEWER = Caller("reviewer-1", "reviewer", None)
DINKES = Caller("dinkes-1", "agency", "dinkes")
BAPENDA = Caller("bapenda-1", "agency", "bapenda")


@pytest.fixture
def store(db_url):
    from engine.service.store import open_store

    opened = open_store(db_url)
    yield opened
    opened.dispose()


def submit(store, caller: Caller, records: list, period: str = "2025-01") -> dict:
    body = {"policy": "serang", "period": period, "records": records}
    return service.submit(store, caller, body, None, encode(body))[1]


def threshold_copy(tmp_path) -> tuple[str, Path]:
    """serang with Di Atas from an average capaian of 105 instead of 100, as text and as a file."""
    text = serang_threshold_copy("Serang, ambang Di Atas 105")
    path = tmp_path / "serang-ambang.yaml"
    path.write_text(text, encoding="utf-8")
    return text, path


@pytest.mark.usefixtures("english")  # reads kinerja diff's summary line in English
def test_compare_matches_kinerja_diff_on_the_same_records(store, tmp_path, run_cli):
    records = [decode_json(line.encode("utf-8")) for line in EXAMPLE.read_text(encoding="utf-8").splitlines()]
    submit(store, DINKES, records[:200])
    submit(store, BAPENDA, records[200:])
    text, path = threshold_copy(tmp_path)
    assert service.publish_policy(store, ADMIN, {"policy": text})[0] == 201

    result = review_service.compare(store, REVIEWER, "serang", "serang-ambang")
    code, out, _ = run_cli("diff", "serang", path, "--data", EXAMPLE)
    assert code == 1
    moved = re.findall(r"^  (\d+): (.+) -> (.+)$", out, flags=re.MULTILINE)
    assert moved and sorted((m.record_id, m.old, m.new) for m in result.movers) == sorted(moved)
    assert f"{result.records} records evaluated under both policies" in out and result.records == len(records)
    assert sum(result.transitions.values()) == result.records
    assert [c.where for c in result.changes if c.path == "values.batas_di_atas.formula"] != []
    # per agency: every mover is counted once, under the agency that submitted the record
    assert sum(a.moved for a in result.agencies) == len(result.movers)
    assert {a.agency: a.records for a in result.agencies} == {"dinkes": 200, "bapenda": len(records) - 200}
    # TPP does not depend on the rating's threshold beyond the predikat factor: totals are exact sums
    old_total, new_total = result.tpp_totals["tpp"]
    direct = sum(
        api.evaluate(api.load("serang"), r)["outputs"]["tpp"]
        for r in records
        if "tpp" in api.evaluate(api.load("serang"), r).get("outputs", {})
    )
    assert old_total == direct
    rows = list(csv.reader(io.StringIO(review_service.movers_csv(result))))
    assert len(rows) == len(result.movers) + 1 and rows[0][:6] == [
        "evaluation_id",
        "agency",
        "record_id",
        "period",
        "predikat_old",
        "predikat_new",
    ]


def test_only_reviewers_and_admins_compare_and_read_the_audit_log(store):
    for caller in (DINKES, Caller("x", "agency", None)):
        with pytest.raises(ServiceError) as refused:
            review_service.compare(store, caller, "serang", "serang")
        assert refused.value.status == 404
        with pytest.raises(ServiceError) as refused:
            review_service.audit_log(store, caller)
        assert refused.value.status == 404
    assert review_service.audit_log(store, ADMIN).entries == []


def test_audit_pages_never_skip_nor_repeat_and_filters_narrow(store):
    records = [decode_json(line.encode("utf-8")) for line in EXAMPLE.read_text(encoding="utf-8").splitlines()[:3]]
    for _ in range(3):
        submit(store, DINKES, records)
    first = submit(store, BAPENDA, records)
    service.replay_evaluation(store, REVIEWER, first["evaluations"][0]["id"])
    reports = review_service.replay_submission(store, REVIEWER, first["id"])
    assert len(reports) == 3 and all(r.same for r in reports)

    seen = []
    page = review_service.audit_log(store, REVIEWER, limit=2)
    while True:
        seen += [e.id for e in page.entries]
        if page.next is None:
            break
        submit(store, DINKES, records)  # entries added while paging do not shift the older pages
        page = review_service.audit_log(store, REVIEWER, limit=2, before=page.next)
    assert len(seen) == len(set(seen)) == 6 and seen == sorted(seen, reverse=True)

    assert {e.action for e in review_service.audit_log(store, REVIEWER, action="evaluation.").entries} == {
        "evaluation.replay"
    }
    assert [e.actor for e in review_service.audit_log(store, REVIEWER, actor="bapenda-1").entries] == ["bapenda-1"]
    today = review_service.audit_log(store, REVIEWER).entries[0].at.date().isoformat()
    assert len(review_service.audit_log(store, REVIEWER, since=today, until=today).entries) == 8
    assert review_service.audit_log(store, REVIEWER, until="2000-01-01").entries == []
    with pytest.raises(ServiceError) as refused:
        review_service.audit_log(store, REVIEWER, since="kemarin")
    assert refused.value.status == 422


def test_an_agency_replays_only_its_own_submission(store):
    records = [decode_json(EXAMPLE.read_text(encoding="utf-8").splitlines()[0].encode("utf-8"))]
    mine = submit(store, DINKES, records)
    with pytest.raises(ServiceError) as refused:
        review_service.replay_submission(store, BAPENDA, mine["id"])
    assert refused.value.status == 404
    assert [r.same for r in review_service.replay_submission(store, DINKES, mine["id"])] == [True]


def test_catalogue_lists_published_versions_and_the_one_in_force(store, tmp_path):
    text, _ = threshold_copy(tmp_path)
    assert service.publish_policy(store, ADMIN, {"policy": text})[0] == 201
    entries = {e.id: e for e in review_service.policy_catalogue(store)}
    assert {"serang", "pp-46-2011", "serang-ambang"} <= set(entries)
    assert [(v["version"], v["source"], v["in_force"]) for v in entries["serang-ambang"].versions] == [
        ("1", "published", True)
    ]
    book = review_service.rulebook(store, "serang")
    assert 'id="nilai-batas_di_atas"' in book.html and book.anchors[(None, "batas_di_atas")] == "nilai-batas_di_atas"
