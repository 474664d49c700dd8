"""The service: what the HTTP API and the CLI do with stored data. Routes and commands parse,
call one of these functions and serialise; every rule about who may do what lives here.

Roles: an agency key reads and writes its own agency's data only; a reviewer reads everything
and writes nothing; an admin manages keys and policies and reads everything. Another agency's
object is reported as absent (404), not as forbidden, so ids reveal nothing.
"""
from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError

from . import api
from .diagnostics import PolicyError
from .io import decode_json, encode
from .policyfile import available, canonical
from .store import (AGENCY_LENGTH, ID_LENGTH, IDEMPOTENCY_KEY_LENGTH, PERIOD_LENGTH, POLICY_ID_LENGTH,
                    RECORD_ID_LENGTH, ApiKey, AuditEntry, Evaluation, PolicyVersion, Store, Submission, now)

ROLES = ("agency", "reviewer", "admin")
#: Most records in one request (evaluate or submission); a province sends several requests.
MAX_RECORDS_PER_REQUEST = 5000
#: Most evaluations returned by one listing page.
MAX_PAGE = 500


def _fits(value, limit: int) -> bool:
    """Text a column can hold on every database (PostgreSQL refuses NUL, and over-long text)."""
    return isinstance(value, str) and 0 < len(value) <= limit and "\x00" not in value


class ServiceError(Exception):
    """A refusal with an HTTP status, a stable code and, where useful, located errors."""

    def __init__(self, status: int, code: str, message: str, errors: list[dict] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.errors = errors or [{"path": "", "code": code, "message": message}]


@dataclass(frozen=True)
class Caller:
    key_id: str
    role: str
    agency: str | None

    @property
    def reads_everything(self) -> bool:
        return self.role in ("reviewer", "admin")


LOCAL = Caller("cli", "admin", None)  # a command run on the server's own machine


def iso(moment) -> str:
    """UTC time as ISO 8601 with 'Z', the same from SQLite (which drops the zone) and PostgreSQL."""
    from datetime import timezone
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


# Keys --------------------------------------------------------------------------------------

def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_key(store: Store, role: str, agency: str | None, actor: Caller = LOCAL) -> tuple[ApiKey, str]:
    """A new key; the secret is returned once and only its hash is stored."""
    if role not in ROLES:
        raise ServiceError(422, "role", f"role must be one of {', '.join(ROLES)}")
    if role == "agency" and not agency:
        raise ServiceError(422, "agency", "an agency key needs --agency ID")
    if role != "agency" and agency:
        raise ServiceError(422, "agency", "only agency keys belong to an agency")
    if agency is not None and not _fits(agency, AGENCY_LENGTH):
        raise ServiceError(422, "agency", f"an agency id is 1 to {AGENCY_LENGTH} characters")
    key_id = secrets.token_hex(6)
    secret = f"knj_{key_id}_{secrets.token_urlsafe(32)}"
    key = ApiKey(id=key_id, key_hash=_digest(secret), role=role, agency=agency, created_at=now(), revoked_at=None)
    with store.session() as session, session.begin():
        session.add(key)
        _audit(session, actor, "key.create", f"key/{key_id}", f"role={role} agency={agency or ''}")
    return key, secret


def list_keys(store: Store) -> list[dict]:
    with store.session() as session:
        keys = session.scalars(select(ApiKey).order_by(ApiKey.created_at)).all()
        return [{"id": k.id, "role": k.role, "agency": k.agency, "created_at": iso(k.created_at),
                 "revoked_at": iso(k.revoked_at) if k.revoked_at else None} for k in keys]


def revoke_key(store: Store, key_id: str, actor: Caller = LOCAL) -> None:
    with store.session() as session, session.begin():
        key = session.get(ApiKey, key_id)
        if key is None:
            raise ServiceError(404, "not_found", f"no key {key_id}")
        if key.revoked_at is None:
            key.revoked_at = now()
            _audit(session, actor, "key.revoke", f"key/{key_id}", "")


def has_keys(store: Store) -> bool:
    with store.session() as session:
        return session.scalars(select(ApiKey.id).limit(1)).first() is not None


def authenticate(store: Store, authorization: str | None) -> Caller:
    """The caller behind an `Authorization: Bearer KEY` header, or 401."""
    if not authorization or not authorization.startswith("Bearer "):
        raise ServiceError(401, "unauthenticated", "send an API key: Authorization: Bearer KEY")
    digest = _digest(authorization[len("Bearer "):].strip())
    with store.session() as session:
        key = session.scalars(select(ApiKey).where(ApiKey.key_hash == digest)).first()
    if key is None or key.revoked_at is not None:
        raise ServiceError(401, "unauthenticated", "the API key is not valid (unknown or revoked)")
    return Caller(key.id, key.role, key.agency)


def require(caller: Caller, *roles: str) -> None:
    if caller.role not in roles:
        raise ServiceError(403, "forbidden", f"a {caller.role} key cannot do this (needs: {', '.join(roles)})")


def _audit(session, actor: Caller, action: str, target: str, detail: str) -> None:
    session.add(AuditEntry(at=now(), actor=actor.key_id, role=actor.role, agency=actor.agency,
                           action=action, object=target, detail=detail))


# Policies ----------------------------------------------------------------------------------

def list_policies() -> list[dict]:
    result = []
    for policy_id in sorted(available()):
        try:
            loaded = api.load(policy_id)
        except PolicyError:
            continue  # a broken file is reported by `kinerja check`, not served
        result.append(_policy_summary(loaded))
    return result


def _policy_summary(loaded: api.LoadedPolicy) -> dict:
    p = loaded.policy
    return {"id": p.id, "version": p.version, "hash": p.hash, "title": p.title,
            "berlaku_mulai": p.berlaku_mulai, "berlaku_sampai": p.berlaku_sampai,
            "extends": p.chain[1] if len(p.chain) > 1 else None}


def load_policy(policy_id: str, path: str = "/policy") -> api.LoadedPolicy:
    """A built-in policy by id (never a path: the service does not read arbitrary files)."""
    if policy_id not in available():
        raise ServiceError(404 if path == "" else 422, "unknown_policy", f"no policy with id '{policy_id}'",
                           [{"path": path, "code": "unknown_policy", "message": f"no policy with id '{policy_id}'"}])
    try:
        return api.load(policy_id)
    except PolicyError as error:
        raise ServiceError(500, "policy_broken", f"policy {policy_id} does not pass its checks",
                           [d.as_json() for d in error.diagnostics]) from None


def get_policy(policy_id: str) -> dict:
    loaded = load_policy(policy_id, path="")
    p = loaded.policy
    summary = _policy_summary(loaded)
    summary.update({"description": p.description, "legal_basis": p.legal_basis,
                    "inputs": loaded.reader.schema, "outputs": list(p.outputs)})
    return summary


def policy_schema(policy_id: str) -> dict:
    return load_policy(policy_id, path="").reader.schema


def check_policy_text(text: str) -> dict:
    """Diagnostics for a policy sent as YAML text (it may extend the built-in policies)."""
    import tempfile
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "policy.yaml"
        path.write_text(text, encoding="utf-8")
        _, diagnostics = api.check(path, extends_ids_only=True)
    found = [dict(d.as_json(), file="policy.yaml" if d.position.file == str(path) else Path(d.position.file).name)
             for d in diagnostics]
    return {"valid": not any(d["severity"] == "error" for d in found), "diagnostics": found}


# Evaluation ----------------------------------------------------------------------------------

def _records(body, limit: int = MAX_RECORDS_PER_REQUEST) -> list:
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list):
        raise ServiceError(422, "invalid_body", "the body needs `records`: a list of records",
                           [{"path": "/records", "code": "required", "message": "a list of records is required"}])
    if len(records) > limit:
        raise ServiceError(413, "too_many_records", f"at most {limit} records per request, got {len(records)}",
                           [{"path": "/records", "code": "max_items",
                             "message": f"at most {limit} records per request; send several requests"}])
    return records


def evaluate(policy_id: str, body) -> dict:
    """Stateless evaluation: nothing is stored. Each result is as `kinerja eval` writes it."""
    loaded = load_policy(policy_id, path="")
    records = _records(body)
    problems = [{"path": f"/{k}", "code": "unknown_field", "message": f"'{k}' is not a field of this request"}
                for k in sorted(set(body) - {"records", "explain"})]
    if not isinstance(body.get("explain", False), bool):
        problems.append({"path": "/explain", "code": "type", "message": "explain is true or false"})
    if problems:
        raise ServiceError(422, "invalid_body", "the request has fields it should not have", problems)
    explain = body.get("explain", False)
    results = []
    for record in records:
        result = api.evaluate(loaded, record, trace=explain)
        if explain and "trace" in result:
            from .explain import explain as sentences
            result["explanation"] = sentences(result.pop("trace"))
        results.append(result)
    return {"results": results}


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
            raise ServiceError(422, "idempotency_key", f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_LENGTH} characters")
        replay = _replay(store, caller, idempotency_key, request_hash)
        if replay is not None:
            return replay
    problems = []
    if not isinstance(body, dict):
        raise ServiceError(422, "invalid_body", "the body must be a JSON object with policy, period and records")
    for field, limit in (("policy", POLICY_ID_LENGTH), ("period", PERIOD_LENGTH)):
        if field not in body:
            problems.append({"path": f"/{field}", "code": "required", "message": f"{field} is required (text)"})
        elif not _fits(body[field], limit):
            problems.append({"path": f"/{field}", "code": "type", "message": f"{field} is text of 1 to {limit} characters"})
    unknown = sorted(set(body) - {"policy", "period", "records"})
    problems += [{"path": f"/{k}", "code": "unknown_field", "message": f"'{k}' is not a field of a submission"}
                 for k in unknown]
    if problems:
        raise ServiceError(422, "invalid_body", "the submission is incomplete", problems)
    records = _records(body)
    loaded = load_policy(body["policy"])
    results = [api.evaluate(loaded, record) for record in records]
    errors = [{"path": f"/records/{i}{e['path']}", "code": e["code"], "message": e["message"]}
              for i, result in enumerate(results) for e in result.get("errors", ())]
    if errors:
        raise ServiceError(422, "invalid_records",
                           f"{sum(1 for r in results if 'errors' in r)} of {len(records)} records have errors; "
                           "nothing was stored", errors)
    return _store_submission(store, caller, loaded, body["period"], records, results, idempotency_key, request_hash)


def _replay(store: Store, caller: Caller, key: str, request_hash: str) -> tuple[int, dict, bool] | None:
    with store.session() as session:
        existing = session.scalars(select(Submission).where(
            Submission.agency == caller.agency, Submission.idempotency_key == key)).first()
    if existing is None:
        return None
    if existing.request_hash != request_hash:
        raise ServiceError(422, "idempotency_key_reused",
                           "this Idempotency-Key was used for a different request; use a new key")
    return 201, decode_json(existing.response.encode("utf-8")), True


def _store_submission(store, caller, loaded, period, records, results, idempotency_key, request_hash):
    submission_id = uuid.uuid4().hex
    created = now()
    evaluations, rows = [], []
    for position, (record, result) in enumerate(zip(records, results)):
        evaluation_id = uuid.uuid4().hex
        record_id = result.get("id")
        evaluations.append({"id": evaluation_id, "record_id": record_id, "outputs": result["outputs"]})
        rows.append(Evaluation(
            id=evaluation_id, submission_id=submission_id, position=position, agency=caller.agency,
            policy_id=loaded.policy.id, policy_hash=loaded.policy.hash, period=period,
            record_id=None if record_id is None else str(record_id),
            inputs=encode(record).decode("utf-8"), outputs=encode(result["outputs"]).decode("utf-8"),
            values=encode(result["values"]).decode("utf-8"), created_at=created))
    response = {"id": submission_id, "agency": caller.agency, "policy": loaded.ref, "period": period,
                "record_count": len(records), "created_at": iso(created), "evaluations": evaluations}
    response_text = encode(response).decode("utf-8")
    try:
        with store.session() as session, session.begin():
            _keep_policy_version(session, loaded)
            session.add(Submission(
                id=submission_id, agency=caller.agency, policy_id=loaded.policy.id, policy_hash=loaded.policy.hash,
                period=period, record_count=len(records), idempotency_key=idempotency_key,
                request_hash=request_hash, response=response_text, created_by=caller.key_id, created_at=created))
            session.flush()  # the idempotency constraint decides here, before the evaluations
            session.add_all(rows)
            _audit(session, caller, "submission.create", f"submission/{submission_id}",
                   f"policy={loaded.policy.id}@{loaded.policy.hash} period={period} records={len(records)}")
    except IntegrityError:
        if idempotency_key is None:
            raise
        replay = _replay(store, caller, idempotency_key, request_hash)  # a concurrent retry won the race
        if replay is None:
            raise
        return replay
    return 201, decode_json(response_text.encode("utf-8")), False


def _keep_policy_version(session, loaded: api.LoadedPolicy) -> None:
    """Store the exact policy an evaluation used, once; a stored version never changes."""
    if session.get(PolicyVersion, loaded.policy.hash) is not None:
        return
    document = encode(canonical(loaded.policy.data)).decode("utf-8")
    try:
        with session.begin_nested():
            session.add(PolicyVersion(hash=loaded.policy.hash, policy_id=loaded.policy.id,
                                      version=loaded.policy.version, document=document, stored_at=now()))
    except IntegrityError:
        pass  # another request stored the same version first: identical by its hash


# Reading --------------------------------------------------------------------------------------

def get_submission(store: Store, caller: Caller, submission_id: str) -> dict:
    if not _fits(submission_id, ID_LENGTH):
        raise ServiceError(404, "not_found", "no such submission")
    with store.session() as session:
        submission = session.get(Submission, submission_id)
    if submission is None or not _visible(caller, submission.agency):
        raise ServiceError(404, "not_found", f"no submission {submission_id}")
    return decode_json(submission.response.encode("utf-8"))


def _visible(caller: Caller, agency: str) -> bool:
    return caller.reads_everything or caller.agency == agency


def list_evaluations(store: Store, caller: Caller, policy: str | None = None, period: str | None = None,
                     record_id: str | None = None, limit: int = 100, after: str | None = None) -> dict:
    """A page of evaluations, oldest first; `next` continues after the last one."""
    if not 1 <= limit <= MAX_PAGE:
        raise ServiceError(422, "limit", f"limit must be 1 to {MAX_PAGE}",
                           [{"path": "limit", "code": "range", "message": f"limit must be 1 to {MAX_PAGE}"}])
    for value, longest in ((policy, POLICY_ID_LENGTH), (period, PERIOD_LENGTH), (record_id, RECORD_ID_LENGTH)):
        if value is not None and value != "" and not _fits(value, longest):
            return {"evaluations": [], "next": None}  # no stored value can look like this
    if after is not None and not _fits(after, ID_LENGTH):
        raise ServiceError(422, "after", "unknown `after` evaluation id",
                           [{"path": "after", "code": "not_found", "message": "unknown evaluation id"}])
    order = (Evaluation.created_at, Evaluation.submission_id, Evaluation.position)
    query = select(Evaluation).order_by(*order)
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
                raise ServiceError(422, "after", "unknown `after` evaluation id",
                                   [{"path": "after", "code": "not_found", "message": "unknown evaluation id"}])
            query = query.where(tuple_(*order) > tuple_(anchor.created_at, anchor.submission_id, anchor.position))
        rows = session.scalars(query.limit(limit + 1)).all()
    page = [_evaluation_json(row) for row in rows[:limit]]
    return {"evaluations": page, "next": page[-1]["id"] if len(rows) > limit else None}


def get_evaluation(store: Store, caller: Caller, evaluation_id: str) -> dict:
    if not _fits(evaluation_id, ID_LENGTH):
        raise ServiceError(404, "not_found", "no such evaluation")
    with store.session() as session:
        row = session.get(Evaluation, evaluation_id)
    if row is None or not _visible(caller, row.agency):
        raise ServiceError(404, "not_found", f"no evaluation {evaluation_id}")
    return _evaluation_json(row, full=True)


def _evaluation_json(row: Evaluation, full: bool = False) -> dict:
    result = {"id": row.id, "submission_id": row.submission_id, "agency": row.agency,
              "policy": {"id": row.policy_id, "hash": row.policy_hash}, "period": row.period,
              "record_id": row.record_id, "outputs": decode_json(row.outputs.encode("utf-8")),
              "created_at": iso(row.created_at)}
    if full:
        result["inputs"] = decode_json(row.inputs.encode("utf-8"))
        result["values"] = decode_json(row.values.encode("utf-8"))
    return result
