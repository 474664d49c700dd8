"""The store on SQLite and on the real PostgreSQL: migrations, and the service's core promises."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import service
from engine.evaluate.io import decode_json, encode
from engine.service.store import open_store

#: The assertions below read the English texts; Indonesian is the default (tests/test_language.py).
pytestmark = pytest.mark.usefixtures("english")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def store(db_url):
    opened = open_store(db_url)
    yield opened
    opened.dispose()


def submission(records=None, policy="pp-46-2011"):
    records = (
        records
        if records is not None
        else [decode_json(line) for line in (EXAMPLES / "pp-46-2011.jsonl").read_bytes().splitlines()]
    )
    body = {"policy": policy, "period": "2020", "records": records}
    raw = encode(body)
    return decode_json(raw), raw


def test_migrations_apply_twice_without_change(db_url):
    open_store(db_url).dispose()
    open_store(db_url).dispose()  # already at head: nothing to do, nothing broken


def test_a_valid_submission_is_stored_whole_and_a_retry_stores_nothing_new(store):
    caller = service.authenticate(store, "Bearer " + service.create_key(store, "agency", "dinkes")[1])
    body, raw = submission()
    status, first, replayed = service.submit(store, caller, body, "kunci-1", raw)
    again = service.submit(store, caller, body, "kunci-1", raw)
    assert (status, replayed) == (201, False) and again == (201, first, True)
    assert len(service.list_evaluations(store, caller)["evaluations"]) == 3
    stored = service.get_evaluation(store, caller, first["evaluations"][0]["id"])
    assert stored["outputs"]["predikat"] == "Baik" and stored["policy"]["hash"] == first["policy"]["hash"]


def test_an_invalid_record_rejects_the_whole_submission(store):
    caller = service.authenticate(store, "Bearer " + service.create_key(store, "agency", "dinkes")[1])
    records = [decode_json(line) for line in (EXAMPLES / "pp-46-2011.jsonl").read_bytes().splitlines()]
    records[1]["kreativitas"] = 5
    body, raw = submission(records)
    with pytest.raises(service.ServiceError) as refused:
        service.submit(store, caller, body, None, raw)
    assert refused.value.status == 422
    assert refused.value.errors == [
        {"path": "/records/1/kreativitas", "code": "enum", "message": "must be one of 0, 3, 6, 12, got 5"}
    ]
    assert service.list_evaluations(store, caller)["evaluations"] == []


def test_another_agency_sees_none_of_it(store):
    dinkes = service.authenticate(store, "Bearer " + service.create_key(store, "agency", "dinkes")[1])
    bapenda = service.authenticate(store, "Bearer " + service.create_key(store, "agency", "bapenda")[1])
    reviewer = service.authenticate(store, "Bearer " + service.create_key(store, "reviewer", None)[1])
    body, raw = submission()
    _, stored, _ = service.submit(store, dinkes, body, None, raw)
    assert service.list_evaluations(store, bapenda)["evaluations"] == []
    with pytest.raises(service.ServiceError) as hidden:
        service.get_submission(store, bapenda, stored["id"])
    assert hidden.value.status == 404
    assert len(service.list_evaluations(store, reviewer)["evaluations"]) == 3
    with pytest.raises(service.ServiceError) as forbidden:
        service.submit(store, reviewer, body, None, raw)
    assert forbidden.value.status == 403


def test_a_revoked_key_no_longer_authenticates(store):
    key, secret = service.create_key(store, "reviewer", None)
    service.revoke_key(store, key.id)
    with pytest.raises(service.ServiceError) as refused:
        service.authenticate(store, "Bearer " + secret)
    assert refused.value.status == 401


def test_listings_page_through_evaluations_in_submitted_order(store):
    caller = service.authenticate(store, "Bearer " + service.create_key(store, "agency", "dinkes")[1])
    body, raw = submission()
    _, stored, _ = service.submit(store, caller, body, None, raw)
    first = service.list_evaluations(store, caller, limit=2)
    rest = service.list_evaluations(store, caller, limit=2, after=first["next"])
    ids = [e["record_id"] for e in first["evaluations"] + rest["evaluations"]]
    assert ids == [e["record_id"] for e in stored["evaluations"]] and rest["next"] is None
    assert first["evaluations"][0]["created_at"].endswith("Z")


def test_every_write_is_audited_and_the_policy_version_used_is_kept(store):
    from sqlalchemy import select

    from engine import api
    from engine.policy.document import canonical
    from engine.service.store import AuditEntry, PolicyVersion

    key, secret = service.create_key(store, "agency", "dinkes")
    caller = service.authenticate(store, "Bearer " + secret)
    body, raw = submission()
    _, stored, _ = service.submit(store, caller, body, None, raw)
    service.revoke_key(store, key.id)
    with store.session() as session:
        log = [(e.actor, e.action, e.object) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        version = session.get(PolicyVersion, stored["policy"]["hash"])
    assert log == [
        ("cli", "key.create", f"key/{key.id}"),
        (key.id, "submission.create", f"submission/{stored['id']}"),
        ("cli", "key.revoke", f"key/{key.id}"),
    ]
    loaded = api.load("pp-46-2011")
    assert version.policy_id == "pp-46-2011" and version.hash == loaded.policy.hash
    assert decode_json(version.document.encode()) == decode_json(encode(canonical(loaded.policy.data)))
