"""Evaluations: stateless (evaluate), stored with their submission in one transaction (submit),
read back (submissions, evaluations, a page at a time) and replayed under the version they used."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine import api
from engine.errors import FieldError
from engine.evaluate.io import decode_json, encode
from engine.i18n import N_, _
from engine.policy import versions
from engine.policy.document import canonical
from engine.service.common import (
    EVALUATION_SECONDS,
    LOCAL,
    MAX_EXPLAINED_RECORDS,
    MAX_PAGE,
    MAX_RECORDS_PER_REQUEST,
    Caller,
    ServiceError,
    _audit,
    _fits,
    _record_index,
    _visible,
    _visible_row,
    capped_errors,
    iso,
    require,
)
from engine.service.policies import _chooser
from engine.service.store import (
    ID_LENGTH,
    IDEMPOTENCY_KEY_LENGTH,
    PERIOD_LENGTH,
    POLICY_ID_LENGTH,
    RECORD_ID_LENGTH,
    STORED_ORDER,
    Evaluation,
    PolicyVersion,
    Store,
    Submission,
    next_sequence,
    now,
)


def _records(body, limit: int = MAX_RECORDS_PER_REQUEST) -> list:
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list):
        raise ServiceError(
            422,
            "invalid_body",
            _("the body needs `records`: a list of records"),
            [FieldError("required", _("a list of records is required"), "/records")],
        )
    if len(records) > limit:
        raise ServiceError(
            413,
            "too_many_records",
            _("at most {limit} records per request, got {count}", limit=limit, count=len(records)),
            [
                FieldError(
                    "max_items",
                    _("at most {limit} records per request; send several requests", limit=limit),
                    "/records",
                )
            ],
        )
    return records


def evaluate(policy_id: str, body, store: Store | None = None, raw: bytes | None = None) -> dict:
    """Stateless evaluation: nothing is stored. Each result is as `kinerja eval` writes it, with the
    version in force for the record's `periode`, else the body's `period`, else today."""
    chooser = _chooser(policy_id, "", store)
    records = _records(body)
    problems = [
        FieldError("unknown_field", _("'{key}' is not a field of this request", key=k), f"/{k}")
        for k in sorted(set(body) - {"records", "explain", "period"})
    ]
    if not isinstance(body.get("explain", False), bool):
        problems.append(FieldError("type", _("explain is true or false"), "/explain"))
    if "period" in body and versions.parse_period(body["period"]) is None:
        problems.append(FieldError("pattern", versions.period_error(body["period"]), "/period"))
    if problems:
        raise ServiceError(422, "invalid_body", _("the request has fields it should not have"), problems)
    if "period" in body:
        chooser = _chooser(policy_id, "", store, body["period"])
    explain = body.get("explain", False)
    results = []
    if not explain:  # the batch path: the facade's rule, fast kernel else exact evaluator
        pairs = api.record_pairs(raw, len(records)) if raw is not None else None
        return {"results": _within_budget(chooser.for_record, records, pairs)}
    if len(records) > MAX_EXPLAINED_RECORDS:
        message = _(
            "at most {limit} records per request with explain: true, got {count}; send several requests",
            limit=MAX_EXPLAINED_RECORDS,
            count=len(records),
        )
        raise ServiceError(413, "too_many_records", message, [FieldError("max_items", message, "/records")])
    for record in records:
        result = api.evaluate(chooser.for_record(record), record, trace=explain)
        if explain and "trace" in result:
            from engine.review.explain import explain as sentences

            result["explanation"] = sentences(result.pop("trace"))
        results.append(result)
    return {"results": results}


def _within_budget(choose, records: list, pairs: list | None) -> list[dict]:
    """api.evaluate_records within EVALUATION_SECONDS, or a refusal saying so."""
    import time

    try:
        return api.evaluate_records(choose, records, pairs, time.monotonic() + EVALUATION_SECONDS)
    except api.OutOfTime:
        message = _(
            "evaluating these records took more than {seconds} seconds; send fewer records per request",
            seconds=EVALUATION_SECONDS,
        )
        raise ServiceError(422, "over_budget", message, [FieldError("over_budget", message, "/records")]) from None


def submit(store: Store, caller: Caller, body, idempotency_key: str | None, raw: bytes) -> tuple[int, dict, bool]:
    """Store a submission and all its evaluations in one transaction, or nothing at all.

    The same Idempotency-Key from the same agency returns the first response and stores
    nothing new, also when two requests race: the database's unique constraint decides.
    Returns (status, response, replayed).
    """
    require(caller, "agency")
    request_hash = hashlib.sha256(raw).hexdigest()
    if idempotency_key is not None:
        if not _fits(idempotency_key, IDEMPOTENCY_KEY_LENGTH):
            raise ServiceError(
                422,
                "idempotency_key",
                _("Idempotency-Key must be 1 to {limit} characters", limit=IDEMPOTENCY_KEY_LENGTH),
            )
        replay = _replay(store, caller, idempotency_key, request_hash)
        if replay is not None:
            return replay
    problems = []
    if not isinstance(body, dict):
        raise ServiceError(422, "invalid_body", _("the body must be a JSON object with policy, period and records"))
    for field, limit in (("policy", POLICY_ID_LENGTH), ("period", PERIOD_LENGTH)):
        if field not in body:
            problems.append(FieldError("required", _("{field} is required (text)", field=field), f"/{field}"))
        elif not _fits(body[field], limit):
            problems.append(
                FieldError(
                    "type", _("{field} is text of 1 to {limit} characters", field=field, limit=limit), f"/{field}"
                )
            )
    unknown = sorted(set(body) - {"policy", "period", "records"})
    problems += [
        FieldError("unknown_field", _("'{key}' is not a field of a submission", key=k), f"/{k}") for k in unknown
    ]
    if problems:
        raise ServiceError(422, "invalid_body", _("the submission is incomplete"), problems)
    records = _records(body)
    chooser = _chooser(body["policy"], "/policy", store, body["period"])
    loaded = chooser.default  # the version in force for the submission's period
    results = _within_budget(lambda record: loaded, records, api.record_pairs(raw, len(records)))
    errors = [
        FieldError(e["code"], e["message"], f"/records/{i}{e['path']}")
        for i, result in enumerate(results)
        for e in result.get("errors", ())
    ]
    errors += [
        FieldError(
            "period_mismatch",
            _(
                "this record's periode {periode} is not under the version of {id} in force for the "
                "submission's period {period}; submit it separately",
                periode=record["periode"],
                id=loaded.policy.id,
                period=body["period"],
            ),
            f"/records/{i}/periode",
        )
        for i, record in enumerate(records)
        if chooser.for_record(record) is not loaded
    ]
    errors.sort(key=lambda e: _record_index(e.path))
    if errors:
        raise ServiceError(
            422,
            "invalid_records",
            _(
                "{count} of {total} records have errors; nothing was stored",
                count=len({_record_index(e.path) for e in errors}),
                total=len(records),
            ),
            capped_errors(errors),
        )
    return _store_submission(store, caller, loaded, body["period"], records, results, idempotency_key, request_hash)


def _replay(store: Store, caller: Caller, key: str, request_hash: str) -> tuple[int, dict, bool] | None:
    with store.session() as session:
        existing = session.scalars(
            select(Submission).where(Submission.agency == caller.agency, Submission.idempotency_key == key)
        ).first()
    if existing is None:
        return None
    if existing.request_hash != request_hash:
        raise ServiceError(
            422, "idempotency_key_reused", _("this Idempotency-Key was used for a different request; use a new key")
        )
    return 201, cast(dict[str, Any], decode_json(existing.response.encode("utf-8"))), True  # a stored response


def _store_submission(store, caller, loaded, period, records, results, idempotency_key, request_hash):
    submission_id = uuid.uuid4().hex
    created = now()
    evaluations, rows = [], []
    for position, (record, result) in enumerate(zip(records, results)):
        evaluation_id = uuid.uuid4().hex
        record_id = result.get("id")
        evaluations.append({"id": evaluation_id, "record_id": record_id, "outputs": result["outputs"]})
        rows.append(
            Evaluation(
                id=evaluation_id,
                submission_id=submission_id,
                position=position,
                agency=caller.agency,
                policy_id=loaded.policy.id,
                policy_hash=loaded.policy.hash,
                period=period,
                record_id=None if record_id is None else str(record_id),
                inputs=encode(record).decode("utf-8"),
                outputs=encode(result["outputs"]).decode("utf-8"),
                values=encode(result["values"]).decode("utf-8"),
                created_at=created,
            )
        )
    response = {
        "id": submission_id,
        "agency": caller.agency,
        "policy": loaded.ref,
        "period": period,
        "record_count": len(records),
        "created_at": iso(created),
        "evaluations": evaluations,
    }
    response_text = encode(response).decode("utf-8")
    try:
        with store.session() as session, session.begin():
            _keep_policy_version(session, loaded)
            session.add(
                Submission(
                    id=submission_id,
                    agency=caller.agency,
                    policy_id=loaded.policy.id,
                    policy_hash=loaded.policy.hash,
                    period=period,
                    record_count=len(records),
                    idempotency_key=idempotency_key,
                    request_hash=request_hash,
                    response=response_text,
                    created_by=caller.key_id,
                    created_at=created,
                )
            )
            session.flush()  # the idempotency constraint decides here, before the evaluations
            first = next_sequence(session, len(rows))
            for offset, row in enumerate(rows):
                row.seq = first + offset
            session.add_all(rows)
            _audit(
                session,
                caller,
                "submission.create",
                f"submission/{submission_id}",
                f"policy={loaded.policy.id}@{loaded.policy.hash} period={period} records={len(records)}",
            )
    except IntegrityError:
        if idempotency_key is None:
            raise
        replay = _replay(store, caller, idempotency_key, request_hash)  # a concurrent retry won the race
        if replay is None:
            raise
        return replay
    store.after_write()
    return 201, decode_json(response_text.encode("utf-8")), False


def _keep_policy_version(session, loaded: api.LoadedPolicy) -> None:
    """Store the exact policy an evaluation used, once; a stored version never changes."""
    if session.get(PolicyVersion, loaded.policy.hash) is not None:
        return
    document = encode(canonical(loaded.policy.data)).decode("utf-8")
    try:
        with session.begin_nested():
            session.add(
                PolicyVersion(
                    hash=loaded.policy.hash,
                    policy_id=loaded.policy.id,
                    version=loaded.policy.version,
                    document=document,
                    stored_at=now(),
                    berlaku_mulai=loaded.policy.berlaku_mulai,
                    berlaku_sampai=loaded.policy.berlaku_sampai,
                )
            )
    except IntegrityError:
        pass  # another request stored the same version first: identical by its hash


def get_submission(store: Store, caller: Caller, submission_id: str) -> dict:
    with store.session() as session:
        submission = _visible_row(session, caller, Submission, submission_id, N_("submission"))
    return cast(dict[str, Any], decode_json(submission.response.encode("utf-8")))  # a stored response


def list_evaluations(
    store: Store,
    caller: Caller,
    policy: str | None = None,
    period: str | None = None,
    record_id: str | None = None,
    limit: int = 100,
    after: str | None = None,
) -> dict:
    """A page of evaluations, oldest first; `next` continues after the last one."""
    if not 1 <= limit <= MAX_PAGE:
        raise ServiceError(
            422,
            "limit",
            _("limit must be 1 to {limit}", limit=MAX_PAGE),
            [FieldError("range", _("limit must be 1 to {limit}", limit=MAX_PAGE), "limit")],
        )
    for value, longest in ((policy, POLICY_ID_LENGTH), (period, PERIOD_LENGTH), (record_id, RECORD_ID_LENGTH)):
        if value is not None and value != "" and not _fits(value, longest):
            return {"evaluations": [], "next": None}  # no stored value can look like this
    if after is not None and not _fits(after, ID_LENGTH):
        raise ServiceError(
            422,
            "after",
            _("unknown `after` evaluation id"),
            [FieldError("not_found", _("unknown evaluation id"), "after")],
        )
    query = select(Evaluation).order_by(*STORED_ORDER)
    if not caller.reads_everything:
        query = query.where(Evaluation.agency == caller.agency)
    if policy:
        query = query.where(Evaluation.policy_id == policy)
    if period:
        query = query.where(Evaluation.period == period)
    if record_id:
        query = query.where(Evaluation.record_id == record_id)
    with store.session() as session:
        if after:
            anchor = session.get(Evaluation, after)
            if anchor is None or not _visible(caller, anchor.agency):
                raise ServiceError(
                    422,
                    "after",
                    _("unknown `after` evaluation id"),
                    [FieldError("not_found", _("unknown evaluation id"), "after")],
                )
            query = query.where(Evaluation.seq > anchor.seq)
        rows = session.scalars(query.limit(limit + 1)).all()
    page = [_evaluation_json(row) for row in rows[:limit]]
    return {"evaluations": page, "next": page[-1]["id"] if len(rows) > limit else None}


def get_evaluation(store: Store, caller: Caller, evaluation_id: str) -> dict:
    with store.session() as session:
        row = _visible_row(session, caller, Evaluation, evaluation_id, N_("evaluation"))
    return _evaluation_json(row, full=True)


def _evaluation_json(row: Evaluation, full: bool = False) -> dict:
    result = {
        "id": row.id,
        "submission_id": row.submission_id,
        "agency": row.agency,
        "policy": {"id": row.policy_id, "hash": row.policy_hash},
        "period": row.period,
        "record_id": row.record_id,
        "outputs": decode_json(row.outputs.encode("utf-8")),
        "created_at": iso(row.created_at),
    }
    if full:
        result["inputs"] = decode_json(row.inputs.encode("utf-8"))
        result["values"] = decode_json(row.values.encode("utf-8"))
    return result


def replay_evaluation(store: Store, caller: Caller, evaluation_id: str) -> dict:
    """Evaluate a stored evaluation again under the policy version it used; audited, as an auditor's act."""
    from engine.service import replay

    with store.session() as session:
        row = _visible_row(session, caller, Evaluation, evaluation_id, N_("evaluation"))
        report = replay.replay(row, replay.StoredPolicies(session))
    with store.session() as session, session.begin():
        _audit(
            session,
            caller,
            "evaluation.replay",
            f"evaluation/{evaluation_id}",
            f"policy={report.policy_hash} same={str(report.same).lower()} differences={len(report.differences)}",
        )
    return report.as_json()


def replay_evaluations(
    store: Store,
    ids=(),
    submission: str | None = None,
    policy: str | None = None,
    period: str | None = None,
    actor: Caller = LOCAL,
) -> list:
    """Replay the stored evaluations selected (every one when nothing selects), for `kinerja replay`.

    An id or submission that is not stored is refused before anything is replayed; the run is
    audited once, with what it selected and found."""
    from engine.service import replay

    with store.session() as session:
        for evaluation_id in ids:
            if not _fits(evaluation_id, ID_LENGTH) or session.get(Evaluation, evaluation_id) is None:
                raise ServiceError(404, "not_found", _("no evaluation {id}", id=evaluation_id))
        if submission is not None and (not _fits(submission, ID_LENGTH) or session.get(Submission, submission) is None):
            raise ServiceError(404, "not_found", _("no submission {id}", id=submission))
    reports = list(replay.replay_stored(store, replay.selection(ids, submission, policy, period)))
    selected = " ".join(
        f"{name}={value}"
        for name, value in (("submission", submission), ("policy", policy), ("period", period))
        if value
    )
    with store.session() as session, session.begin():
        _audit(
            session,
            actor,
            "evaluation.replay",
            f"evaluation/{ids[0]}" if len(ids) == 1 else "evaluations",
            f"{selected or ('ids=' + str(len(ids)) if ids else 'all')} replayed={len(reports)} "
            f"differ={sum(1 for r in reports if not r.same)}",
        )
    return reports
