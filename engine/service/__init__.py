"""The service: what the HTTP API and the CLI do with stored data. Routes and commands parse,
call one of these functions and serialise; every rule about who may do what lives here.

Roles: an agency key reads and writes its own agency's data only; a reviewer reads everything
and writes nothing; an admin manages keys and policies and reads everything. Another agency's
object is reported as absent (404), not as forbidden, so ids reveal nothing.
"""
from __future__ import annotations

import hashlib
import os
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine import api
from engine.policy import document as policyfile, versions
from engine.service import sandbox
from engine.diagnostics import PolicyError
from engine.i18n import N_, _
from engine.evaluate.io import decode_json, encode
from engine.policy.document import available, canonical
from engine.service.store import (
    AGENCY_LENGTH, ID_LENGTH, IDEMPOTENCY_KEY_LENGTH, PERIOD_LENGTH, POLICY_ID_LENGTH, STORED_ORDER, RECORD_ID_LENGTH, ApiKey, AuditEntry, Evaluation, PolicyVersion, Store, Submission, next_sequence, now,
)

ROLES = ("agency", "reviewer", "admin")
#: Most records in one request (evaluate or submission); a province sends several requests.
MAX_RECORDS_PER_REQUEST = 5000
#: Most evaluations returned by one listing page.
MAX_PAGE = 500
#: Most records in one request with `explain: true` (each explanation is a page of text).
MAX_EXPLAINED_RECORDS = 100
#: Wall-clock seconds the evaluation of one request may take; the static bounds (engine.policy.bounds)
#: keep a record's cost small, this keeps a request's.
EVALUATION_SECONDS = 60
#: Most located errors one response lists; the rest are counted in a last entry.
MAX_RESPONSE_ERRORS = 1000


def _fits(value, limit: int) -> bool:
    """Text a column can hold on every database (PostgreSQL refuses NUL, and over-long text)."""
    return isinstance(value, str) and 0 < len(value) <= limit and "\x00" not in value


class ServiceError(Exception):
    """A refusal with an HTTP status, a stable code and, where useful, located errors."""

    def __init__(self, status: int, code: str, message: str, errors: list[dict] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.errors = errors or [{"path": "", "code": code, "message": message}]


#: Seconds a client is asked to wait (Retry-After) when the database cannot answer just now.
RETRY_AFTER_SECONDS = 5


def unavailable(error: BaseException) -> bool:
    """Faults of the machinery, not of the request: a dropped database connection, a database
    or disk that is full, a database busy past its timeout. The transaction was rolled back, so
    nothing was stored; the same request may simply be sent again."""
    import errno

    from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
    if isinstance(error, (OperationalError, InterfaceError, DisconnectionError)):
        return True
    return isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EIO, errno.EDQUOT)


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
        raise ServiceError(422, "role", _("role must be one of {roles}", roles=", ".join(ROLES)))
    if role == "agency" and not agency:
        raise ServiceError(422, "agency", _("an agency key needs --agency ID"))
    if role != "agency" and agency:
        raise ServiceError(422, "agency", _("only agency keys belong to an agency"))
    if agency is not None and not _fits(agency, AGENCY_LENGTH):
        raise ServiceError(422, "agency", _("an agency id is 1 to {limit} characters", limit=AGENCY_LENGTH))
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
            raise ServiceError(404, "not_found", _("no key {id}", id=key_id))
        if key.revoked_at is None:
            key.revoked_at = now()
            _audit(session, actor, "key.revoke", f"key/{key_id}", "")


def has_keys(store: Store) -> bool:
    with store.session() as session:
        return session.scalars(select(ApiKey.id).limit(1)).first() is not None


def authenticate(store: Store, authorization: str | None) -> Caller:
    """The caller behind an `Authorization: Bearer KEY` header, or 401."""
    if not authorization or not authorization.startswith("Bearer "):
        raise ServiceError(401, "unauthenticated", _("send an API key: Authorization: Bearer KEY"))
    digest = _digest(authorization[len("Bearer "):].strip())
    with store.session() as session:
        key = session.scalars(select(ApiKey).where(ApiKey.key_hash == digest)).first()
    if key is None or key.revoked_at is not None:
        raise ServiceError(401, "unauthenticated", _("the API key is not valid (unknown or revoked)"))
    return Caller(key.id, key.role, key.agency)


def require(caller: Caller, *roles: str) -> None:
    if caller.role not in roles:
        raise ServiceError(403, "forbidden", _("a {role} key cannot do this (needs: {roles})", role=caller.role,
                                                 roles=", ".join(roles)))


def _audit(session, actor: Caller, action: str, target: str, detail: str) -> None:
    session.add(AuditEntry(at=now(), actor=actor.key_id, role=actor.role, agency=actor.agency,
                           action=action, object=target, detail=detail))


# Policies ----------------------------------------------------------------------------------

def list_policies() -> list[dict]:
    result = []
    for policy_id in sorted(p for p in available() if versions.SEPARATOR not in p):
        try:
            loaded = api.load(policy_id)
        except PolicyError:
            continue  # a broken file is reported by `kinerja check`, not served
        result.append(_policy_summary(loaded))
    return result


def published_policy_ids(store: Store) -> set[str]:
    """Ids that have at least one version published through the service (built in or new)."""
    with store.session() as session:
        return set(session.scalars(select(PolicyVersion.policy_id).where(PolicyVersion.published)))


def policies_in_force(store: Store) -> list[dict]:
    """Every policy a submission can name, built in or published under a new id, each summarised by
    the version in force today; by id."""
    listed = {p["id"]: p for p in list_policies()}
    for policy_id in published_policy_ids(store) - set(listed):
        try:
            listed[policy_id] = _policy_summary(load_policy(policy_id, path="", store=store))
        except ServiceError:
            continue  # none of its versions is in force today
    return [listed[policy_id] for policy_id in sorted(listed)]


def _policy_summary(loaded: api.LoadedPolicy) -> dict:
    p = loaded.policy
    return {"id": p.id, "version": p.version, "hash": p.hash, "title": p.title,
            "berlaku_mulai": p.berlaku_mulai, "berlaku_sampai": p.berlaku_sampai,
            "extends": p.chain[1] if len(p.chain) > 1 else None}


def load_policy(policy_id: str, path: str = "/policy", store: Store | None = None) -> api.LoadedPolicy:
    """A policy by id (never a path: the service does not read arbitrary files): `ID` (the
    version in force today, else the newest), `ID@VERSION` or `ID@sha256:HASH`, built in or
    (given the store) published."""
    return _chooser(policy_id, path, store).default


def _chooser(target: str, path: str, store: Store | None, period: str | None = None,
             period_path: str = "/period") -> versions.Chooser:
    """The versions of a policy to evaluate with, the one for `period` by default (engine.policy.versions).

    A period that is not a year, month or day (free text such as 2024-Q1) chooses nothing; it is
    refused only for an id with several versions, where it would have to choose."""
    unknown = [{"path": path, "code": "unknown_policy", "message": _("no policy with id '{id}'", id=target)}]
    if not _fits(target, POLICY_ID_LENGTH + 80) or "/" in target or "\\" in target:
        raise ServiceError(404 if path == "" else 422, "unknown_policy", _("no such policy"), unknown)
    extra = [published_dir(store)] if store is not None else None
    chosen = period if versions.parse_period(period) else None
    try:
        chooser = versions.Chooser(target, chosen, extra, files=False)
    except PolicyError as error:
        first = error.diagnostics[0]
        if first.code in ("policy.unknown", "version.unknown", "version.ambiguous"):
            message = f"{first.message}; {first.hint}" if first.hint else first.message
            raise ServiceError(404 if path == "" else 422, "unknown_policy", message,
                               [dict(unknown[0], message=message)]) from None
        if first.code.startswith("version."):
            message = f"{first.message}; {first.hint}" if first.hint else first.message
            raise ServiceError(422, "no_version_in_force", message,
                               [{"path": period_path, "code": first.code, "message": message}]) from None
        raise ServiceError(500, "policy_broken", _("policy {id} does not pass its checks", id=target),
                           [{"path": "", "code": d.code, "message": d.render()} for d in error.diagnostics]) from None
    if period is not None and chosen is None and chooser.several:
        message = _("{id} has several versions: {problem}; or name a version ({id}@VERSION)", id=target,
                    problem=versions.period_error(period))
        raise ServiceError(422, "invalid_period", message, [{"path": period_path, "code": "pattern", "message": message}])
    return chooser


def get_policy(policy_id: str) -> dict:
    loaded = load_policy(policy_id, path="")
    p = loaded.policy
    summary = _policy_summary(loaded)
    summary.update({"description": p.description, "legal_basis": p.legal_basis,
                    "inputs": loaded.reader.schema, "outputs": list(p.outputs)})
    return summary


def policy_schema(policy_id: str) -> dict:
    return load_policy(policy_id, path="").reader.schema


def policy_file_schema() -> dict:
    """The JSON Schema of a policy file as written (engine.policy.policyschema), for editors; no key needed."""
    from engine.policy.policyschema import policy_file_schema as schema
    return schema()


def check_policy_text(text: str) -> dict:
    """Diagnostics for a policy sent as YAML text (it may extend the built-in policies), checked
    in a child process within a time and memory budget (engine.service.sandbox)."""
    try:
        return sandbox.run_limited(check_policy_text_here, text)
    except sandbox.Busy:
        raise ServiceError(503, "busy", _("other policy checks are running; send the request again shortly")) from None
    except sandbox.OverBudget as over:
        message = _("checking this policy took more than {seconds} seconds; make it smaller",
                    seconds=sandbox.CHECK_SECONDS) if over.what == "time" else \
            _("checking this policy needed more than {megabytes} MB of memory; make it smaller",
              megabytes=sandbox.CHECK_MEMORY_BYTES // (1024 * 1024))
        raise ServiceError(422, "policy.over_budget", message,
                           [{"path": "/policy", "code": "over_budget", "message": message}]) from None


def check_policy_text_here(text: str) -> dict:
    """check_policy_text in this process: what the sandboxed child runs."""
    import tempfile
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "policy.yaml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))  # a lone surrogate is a located error
        _policy, diagnostics = api.check(path, extends_ids_only=True)
    found = [dict(d.as_json(), file="policy.yaml" if d.position.file == str(path) else Path(d.position.file).name)
             for d in diagnostics]
    return {"valid": not any(d["severity"] == "error" for d in found), "diagnostics": found}


def failing_cases(policy, name: str = "policy.yaml") -> list[dict]:
    """The policy's own test cases that fail, as problems (`test.failed`, at /policy), each with
    its line and what differed. Publishing refuses a policy whose own cases fail (API and web),
    so a published rule never contradicts the examples its author wrote down."""
    from engine.review.cases import run_tests
    report = run_tests(api.compiled(policy))
    return [{"path": "/policy", "code": "test.failed",
             "message": _("{file}:{line}: case '{case}' fails: {failures}", file=name, line=case.line,
                          case=case.name, failures="; ".join(case.failures))}
            for case in report.failed]


# Published versions ----------------------------------------------------------------------------

#: Longest `version:` label a published policy may carry (the column's length).
VERSION_LENGTH = 64
_published_dirs: dict[str, Path] = {}


def published_dir(store: Store) -> Path:
    """The store's published versions as policy files, so that choosing a version, the version
    checks and `extends` treat them as they treat the built-in ones (engine.policy.versions).

    Each version is `ID@HASH.yaml`, its text as published; the first published version of an id
    with no built-in file is `ID.yaml`, which `extends: ID` names. The files are written once per
    process (a published version never changes) into a directory of its own.
    """
    import tempfile
    directory = _published_dirs.get(store.url)
    if directory is None:
        directory = _published_dirs.setdefault(store.url, Path(tempfile.mkdtemp(prefix="kinerja-published-")))
    with store.session() as session:
        rows = session.execute(select(PolicyVersion.hash, PolicyVersion.policy_id).where(PolicyVersion.published)
                               .order_by(PolicyVersion.published_at, PolicyVersion.hash)).all()
        built_in, first = set(available()), set()
        for digest, policy_id in rows:
            base = policy_id not in built_in and policy_id not in first
            first.add(policy_id)
            path = directory / (f"{policy_id}.yaml" if base else f"{policy_id}@{digest.removeprefix('sha256:')[:16]}.yaml")
            if not path.exists():
                text = session.scalar(select(PolicyVersion.text).where(PolicyVersion.hash == digest))
                partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
                partial.write_bytes((text or "").encode("utf-8", "surrogatepass"))
                partial.replace(path)  # whole or not at all, also with several threads
    return directory


def _shown(text: str, directories: list[Path]) -> str:
    """Messages without the server's directories."""
    for directory in directories:
        text = text.replace(f"{directory}{os.sep}", "")
    return text


def _version_json(info: versions.VersionInfo, row: PolicyVersion | None) -> dict:
    published = row is not None and row.published
    return {"id": info.id, **info.as_json(), "source": "published" if published else "bundled",
            "published_at": iso(row.published_at) if published and row.published_at else None}


def publish_policy(store: Store, caller: Caller, body) -> tuple[int, dict]:
    """Publish a policy version (admins) sent as `{"policy": YAML text}`: checked like any policy,
    and against the other versions of its id (no overlap, no gap, no second content under one
    version label); stored for good. Publishing the same text again answers 200, the same version."""
    import tempfile
    require(caller, "admin")
    text = body.get("policy") if isinstance(body, dict) else None
    problems = [{"path": f"/{k}", "code": "unknown_field", "message": _("'{key}' is not a field of this request", key=k)}
                for k in sorted(set(body) - {"policy"})] if isinstance(body, dict) else []
    if not isinstance(text, str):
        problems.insert(0, {"path": "/policy", "code": "type" if isinstance(body, dict) and "policy" in body
                            else "required", "message": _("the policy's YAML text is required")})
    if problems:
        raise ServiceError(422, "invalid_body", _("the body needs `policy`: the policy's YAML text"), problems)
    directory = published_dir(store)
    policy, diagnostics = api.check_text(text, "policy.yaml", [directory])
    hidden = [directory, policyfile.bundled_dir()]
    errors = [{"path": "/policy", "code": d.code, "message": _shown(d.render(), hidden)}
              for d in diagnostics if d.severity.value == "error"]
    if policy is not None and not errors and len(policy.version) > VERSION_LENGTH:
        errors.append({"path": "/policy", "code": "version", "message": _("version is at most {limit} characters",
                                                                                      limit=VERSION_LENGTH)})
    if policy is None or errors:
        raise ServiceError(422, "invalid_policy", _("the policy does not pass its checks; nothing was published"),
                           errors or [{"path": "/policy", "code": "invalid", "message": _("the policy cannot be read")}])
    failed = failing_cases(policy)
    if failed:
        raise ServiceError(422, "failing_tests", _("{count} of the policy's own test cases fail; nothing was published",
                                                   count=len(failed)), failed)
    known = versions.versions_of(policy.id, [directory])
    same = next((i for i in known if i.hash == policy.hash), None)
    if same is not None:
        with store.session() as session:
            return 200, _version_json(same, session.get(PolicyVersion, same.hash))
    clash = next((i for i in known if i.version == policy.version), None)
    if clash is not None:
        message = _("{id} version {version} is already {hash} with other content; a published version never "
                    "changes: give this one a new version", id=policy.id, version=policy.version, hash=clash.hash)
        raise ServiceError(409, "version_exists", message, [{"path": "/policy", "code": "version_exists", "message": message}])
    with tempfile.TemporaryDirectory() as candidate_dir:
        candidate = Path(candidate_dir) / f"{policy.id}@new.yaml"
        candidate.write_bytes(text.encode("utf-8", "surrogatepass"))
        problems = versions.check_versions([directory, Path(candidate_dir)], {policy.id})
        hidden.append(Path(candidate_dir))
        errors = [{"path": "/policy", "code": d.code,
                   "message": _shown(d.render(), hidden).replace(candidate.name, "policy.yaml")}
                  for d in problems if d.severity.value == "error"]
    if errors:
        raise ServiceError(422, "invalid_versions", _("the validity of {id} version {version} does not fit its other "
                                                      "versions; nothing was published", id=policy.id,
                                                      version=policy.version), errors)
    moment = now()
    with store.session() as session, session.begin():
        row = session.get(PolicyVersion, policy.hash)
        if row is None:
            row = PolicyVersion(hash=policy.hash, policy_id=policy.id, version=policy.version,
                                document=encode(canonical(policy.data)).decode("utf-8"), stored_at=moment)
            session.add(row)
        row.published, row.text, row.published_at, row.published_by = True, text, moment, caller.key_id
        row.berlaku_mulai, row.berlaku_sampai = policy.berlaku_mulai, policy.berlaku_sampai
        _audit(session, caller, "policy.publish", f"policy/{policy.id}",
               f"version={policy.version} hash={policy.hash} berlaku={policy.berlaku_mulai or ''}..{policy.berlaku_sampai or ''}")
    published_dir(store)  # its file, for the next request
    info = next(i for i in versions.versions_of(policy.id, [directory]) if i.hash == policy.hash)
    return 201, _version_json(info, row)


def list_versions(store: Store, policy_id: str) -> dict:
    """Every version of an id, built in and published, earliest validity first."""
    directory = published_dir(store) if _fits(policy_id, POLICY_ID_LENGTH) else None
    infos = versions.versions_of(policy_id, [directory]) if directory and versions.SEPARATOR not in policy_id else []
    if not infos:
        raise ServiceError(404, "not_found", _("no policy with id '{id}'", id=policy_id))
    with store.session() as session:
        rows = {row.hash: row for row in session.scalars(select(PolicyVersion).where(PolicyVersion.policy_id == policy_id))}
    return {"id": policy_id, "versions": [_version_json(info, rows.get(info.hash)) for info in infos]}


def get_version(store: Store, policy_id: str, digest: str) -> dict:
    """One version by its content hash: its metadata, merged document and (if published) its text."""
    wanted = digest if digest.startswith(versions.HASH_PREFIX) else versions.HASH_PREFIX + digest
    infos = list_versions(store, policy_id)["versions"]
    found = next((v for v in infos if v["hash"] == wanted), None)
    if found is None:
        raise ServiceError(404, "not_found", _("{id} has no version {hash}", id=policy_id, hash=digest))
    with store.session() as session:
        row = session.get(PolicyVersion, wanted)
    if row is not None and row.published:
        return {**found, "document": decode_json(row.document.encode("utf-8")), "text": row.text}
    loaded = load_policy(f"{policy_id}@{wanted}", path="", store=store)
    return {**found, "document": decode_json(encode(canonical(loaded.policy.data))), "text": None}


def _record_index(path: str) -> int:
    """The N of a /records/N/... path."""
    return int(path.split("/")[2])


# Evaluation ----------------------------------------------------------------------------------

def _records(body, limit: int = MAX_RECORDS_PER_REQUEST) -> list:
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list):
        raise ServiceError(422, "invalid_body", _("the body needs `records`: a list of records"),
                           [{"path": "/records", "code": "required", "message": _("a list of records is required")}])
    if len(records) > limit:
        raise ServiceError(413, "too_many_records", _("at most {limit} records per request, got {count}", limit=limit,
                                                      count=len(records)),
                           [{"path": "/records", "code": "max_items",
                             "message": _("at most {limit} records per request; send several requests", limit=limit)}])
    return records


def evaluate(policy_id: str, body, store: Store | None = None, raw: bytes | None = None) -> dict:
    """Stateless evaluation: nothing is stored. Each result is as `kinerja eval` writes it, with the
    version in force for the record's `periode`, else the body's `period`, else today."""
    chooser = _chooser(policy_id, "", store)
    records = _records(body)
    problems = [{"path": f"/{k}", "code": "unknown_field", "message": _("'{key}' is not a field of this request", key=k)}
                for k in sorted(set(body) - {"records", "explain", "period"})]
    if not isinstance(body.get("explain", False), bool):
        problems.append({"path": "/explain", "code": "type", "message": _("explain is true or false")})
    if "period" in body and versions.parse_period(body["period"]) is None:
        problems.append({"path": "/period", "code": "pattern", "message": versions.period_error(body["period"])})
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
        message = _("at most {limit} records per request with explain: true, got {count}; send several requests",
                    limit=MAX_EXPLAINED_RECORDS, count=len(records))
        raise ServiceError(413, "too_many_records", message,
                           [{"path": "/records", "code": "max_items", "message": message}])
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
        message = _("evaluating these records took more than {seconds} seconds; send fewer records per request",
                    seconds=EVALUATION_SECONDS)
        raise ServiceError(422, "over_budget", message,
                           [{"path": "/records", "code": "over_budget", "message": message}]) from None


def capped_errors(errors: list[dict], limit: int = MAX_RESPONSE_ERRORS) -> list[dict]:
    """At most `limit` located errors, and one more that counts the rest: a response stays small."""
    if len(errors) <= limit:
        return errors
    return errors[:limit] + [{"path": "", "code": "too_many_errors",
                              "message": _("and {count} more errors not listed", count=len(errors) - limit)}]


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
            raise ServiceError(422, "idempotency_key", _("Idempotency-Key must be 1 to {limit} characters",
                                                                limit=IDEMPOTENCY_KEY_LENGTH))
        replay = _replay(store, caller, idempotency_key, request_hash)
        if replay is not None:
            return replay
    problems = []
    if not isinstance(body, dict):
        raise ServiceError(422, "invalid_body", _("the body must be a JSON object with policy, period and records"))
    for field, limit in (("policy", POLICY_ID_LENGTH), ("period", PERIOD_LENGTH)):
        if field not in body:
            problems.append({"path": f"/{field}", "code": "required", "message": _("{field} is required (text)", field=field)})
        elif not _fits(body[field], limit):
            problems.append({"path": f"/{field}", "code": "type", "message": _("{field} is text of 1 to {limit} characters",
                                                                                   field=field, limit=limit)})
    unknown = sorted(set(body) - {"policy", "period", "records"})
    problems += [{"path": f"/{k}", "code": "unknown_field", "message": _("'{key}' is not a field of a submission", key=k)}
                 for k in unknown]
    if problems:
        raise ServiceError(422, "invalid_body", _("the submission is incomplete"), problems)
    records = _records(body)
    chooser = _chooser(body["policy"], "/policy", store, body["period"])
    loaded = chooser.default  # the version in force for the submission's period
    results = _within_budget(lambda record: loaded, records, api.record_pairs(raw, len(records)))
    errors = [{"path": f"/records/{i}{e['path']}", "code": e["code"], "message": e["message"]}
              for i, result in enumerate(results) for e in result.get("errors", ())]
    errors += [{"path": f"/records/{i}/periode", "code": "period_mismatch",
                "message": _("this record's periode {periode} is not under the version of {id} in force for the "
                             "submission's period {period}; submit it separately", periode=record['periode'],
                             id=loaded.policy.id, period=body['period'])}
               for i, record in enumerate(records) if chooser.for_record(record) is not loaded]
    errors.sort(key=lambda e: _record_index(e["path"]))
    if errors:
        raise ServiceError(422, "invalid_records",
                           _("{count} of {total} records have errors; nothing was stored",
                             count=len({_record_index(e['path']) for e in errors}), total=len(records)),
                           capped_errors(errors))
    return _store_submission(store, caller, loaded, body["period"], records, results, idempotency_key, request_hash)


def _replay(store: Store, caller: Caller, key: str, request_hash: str) -> tuple[int, dict, bool] | None:
    with store.session() as session:
        existing = session.scalars(select(Submission).where(
            Submission.agency == caller.agency, Submission.idempotency_key == key)).first()
    if existing is None:
        return None
    if existing.request_hash != request_hash:
        raise ServiceError(422, "idempotency_key_reused",
                           _("this Idempotency-Key was used for a different request; use a new key"))
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
            first = next_sequence(session, len(rows))
            for offset, row in enumerate(rows):
                row.seq = first + offset
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
    store.after_write()
    return 201, decode_json(response_text.encode("utf-8")), False


def _keep_policy_version(session, loaded: api.LoadedPolicy) -> None:
    """Store the exact policy an evaluation used, once; a stored version never changes."""
    if session.get(PolicyVersion, loaded.policy.hash) is not None:
        return
    document = encode(canonical(loaded.policy.data)).decode("utf-8")
    try:
        with session.begin_nested():
            session.add(PolicyVersion(hash=loaded.policy.hash, policy_id=loaded.policy.id,
                                      version=loaded.policy.version, document=document, stored_at=now(),
                                      berlaku_mulai=loaded.policy.berlaku_mulai,
                                      berlaku_sampai=loaded.policy.berlaku_sampai))
    except IntegrityError:
        pass  # another request stored the same version first: identical by its hash


# Reading --------------------------------------------------------------------------------------

def get_submission(store: Store, caller: Caller, submission_id: str) -> dict:
    with store.session() as session:
        submission = _visible_row(session, caller, Submission, submission_id, N_("submission"))
    return decode_json(submission.response.encode("utf-8"))


def _visible(caller: Caller, agency: str) -> bool:
    return caller.reads_everything or caller.agency == agency


def _visible_row(session, caller: Caller, model, row_id: str, what: str):
    """The stored row with this id if the caller may see it; 404 otherwise, also for another
    agency's row (an agency does not learn that it exists)."""
    if not _fits(row_id, ID_LENGTH):
        raise ServiceError(404, "not_found", _("no such {what}", what=_(what)))
    row = session.get(model, row_id)
    if row is None or not _visible(caller, row.agency):
        raise ServiceError(404, "not_found", _("no {what} {id}", what=_(what), id=row_id))
    return row


def list_evaluations(store: Store, caller: Caller, policy: str | None = None, period: str | None = None,
                     record_id: str | None = None, limit: int = 100, after: str | None = None) -> dict:
    """A page of evaluations, oldest first; `next` continues after the last one."""
    if not 1 <= limit <= MAX_PAGE:
        raise ServiceError(422, "limit", _("limit must be 1 to {limit}", limit=MAX_PAGE),
                           [{"path": "limit", "code": "range", "message": _("limit must be 1 to {limit}", limit=MAX_PAGE)}])
    for value, longest in ((policy, POLICY_ID_LENGTH), (period, PERIOD_LENGTH), (record_id, RECORD_ID_LENGTH)):
        if value is not None and value != "" and not _fits(value, longest):
            return {"evaluations": [], "next": None}  # no stored value can look like this
    if after is not None and not _fits(after, ID_LENGTH):
        raise ServiceError(422, "after", _("unknown `after` evaluation id"),
                           [{"path": "after", "code": "not_found", "message": _("unknown evaluation id")}])
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
                raise ServiceError(422, "after", _("unknown `after` evaluation id"),
                                   [{"path": "after", "code": "not_found", "message": _("unknown evaluation id")}])
            query = query.where(Evaluation.seq > anchor.seq)
        rows = session.scalars(query.limit(limit + 1)).all()
    page = [_evaluation_json(row) for row in rows[:limit]]
    return {"evaluations": page, "next": page[-1]["id"] if len(rows) > limit else None}


def get_evaluation(store: Store, caller: Caller, evaluation_id: str) -> dict:
    with store.session() as session:
        row = _visible_row(session, caller, Evaluation, evaluation_id, N_("evaluation"))
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


# Replay and impact ------------------------------------------------------------------------------

#: Most stored evaluations one impact request evaluates (each twice); narrow them by policy and period.
MAX_IMPACT_EVALUATIONS = 100_000


def replay_evaluation(store: Store, caller: Caller, evaluation_id: str) -> dict:
    """Evaluate a stored evaluation again under the policy version it used; audited, as an auditor's act."""
    from engine.service import replay
    with store.session() as session:
        row = _visible_row(session, caller, Evaluation, evaluation_id, N_("evaluation"))
        report = replay.replay(row, replay.StoredPolicies(session))
    with store.session() as session, session.begin():
        _audit(session, caller, "evaluation.replay", f"evaluation/{evaluation_id}",
               f"policy={report.policy_hash} same={str(report.same).lower()} differences={len(report.differences)}")
    return report.as_json()


def replay_evaluations(store: Store, ids=(), submission: str | None = None, policy: str | None = None,
                       period: str | None = None, actor: Caller = LOCAL) -> list:
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
    selected = " ".join(f"{name}={value}" for name, value in
                        (("submission", submission), ("policy", policy), ("period", period)) if value)
    with store.session() as session, session.begin():
        _audit(session, actor, "evaluation.replay", f"evaluation/{ids[0]}" if len(ids) == 1 else "evaluations",
               f"{selected or ('ids=' + str(len(ids)) if ids else 'all')} replayed={len(reports)} "
               f"differ={sum(1 for r in reports if not r.same)}")
    return reports


def comparable_policy(store: Store, ref, path: str) -> api.LoadedPolicy:
    """A policy to compare: an id as evaluations name it (built in or published, `ID@VERSION`), or
    any version the service stored for an evaluation, by its bare hash `sha256:...`."""
    from engine.service.replay import load_stored
    if isinstance(ref, str) and ref.startswith("sha256:"):
        loaded = load_stored(store, ref) if _fits(ref, 80) else None
        if loaded is None:
            raise ServiceError(422, "unknown_policy_version", _("no stored policy version {hash}", hash=ref),
                               [{"path": path, "code": "unknown_policy_version",
                                 "message": _("no policy version is stored with hash {hash}", hash=ref)}])
        return loaded
    if not isinstance(ref, str) or not ref:
        raise ServiceError(422, "invalid_body", _("{field} is a policy id or a stored version's hash", field=path[1:]),
                           [{"path": path, "code": "type", "message": _("a policy id or a stored version's hash (text)")}])
    return load_policy(ref, path, store)


def stored_impact(store: Store, old: api.LoadedPolicy, new: api.LoadedPolicy, policy: str | None = None,
                  period: str | None = None, limit: int | None = None):
    """engine.review.diff.impact over the stored inputs of the evaluations selected, read a batch at a time."""
    from sqlalchemy import func

    from engine.review.diff import impact
    conditions = [column == value for column, value in ((Evaluation.policy_id, policy), (Evaluation.period, period))
                  if value is not None]
    with store.session() as session:
        count = session.scalar(select(func.count()).select_from(Evaluation).where(*conditions))
        if limit is not None and count > limit:
            message = _("{count} stored evaluations match; at most {limit} per request", count=f"{count:,}",
                        limit=f"{limit:,}")
            raise ServiceError(422, "too_many_evaluations", message,
                               [{"path": "", "code": "too_many_evaluations",
                                 "message": _("{problem}: narrow them with policy and period", problem=message)}])
        query = (select(Evaluation.inputs).where(*conditions)
                 .order_by(*STORED_ORDER))
        rows = session.scalars(query.execution_options(yield_per=500))
        return impact(old, new, (_stored_record(text) for text in rows))


def _stored_record(text: str):
    try:
        return decode_json(text.encode("utf-8"))
    except ValueError:
        return None  # unreadable: reported as a record with errors, not a crash


def impact_of_change(store: Store, caller: Caller, body) -> dict:
    """Whom changing from one policy to another would move, over stored submissions (reviewers, admins)."""
    from engine.review.diff import impact, impact_json
    require(caller, "reviewer", "admin")
    if not isinstance(body, dict):
        raise ServiceError(422, "invalid_body", _("the body must be a JSON object with old and new"))
    problems = [{"path": f"/{k}", "code": "required", "message": _("{field} is required: a policy id or a stored hash", field=k)}
                for k in ("old", "new") if k not in body]
    for field, limit in (("policy", POLICY_ID_LENGTH), ("period", PERIOD_LENGTH)):
        if field in body and body[field] is not None and not isinstance(body[field], str):
            problems.append({"path": f"/{field}", "code": "type", "message": _("{field} is text", field=field)})
    problems += [{"path": f"/{k}", "code": "unknown_field", "message": _("'{key}' is not a field of this request", key=k)}
                 for k in sorted(set(body) - {"old", "new", "policy", "period"})]
    if problems:
        raise ServiceError(422, "invalid_body", _("the request is incomplete or has fields it should not have"), problems)
    old, new = comparable_policy(store, body["old"], "/old"), comparable_policy(store, body["new"], "/new")
    policy, period = body.get("policy") or None, body.get("period") or None
    if any(v is not None and not _fits(v, n) for v, n in ((policy, POLICY_ID_LENGTH), (period, PERIOD_LENGTH))):
        result = impact(old, new, [])  # no stored value can look like this
    else:
        result = stored_impact(store, old, new, policy, period, MAX_IMPACT_EVALUATIONS)
    labels = list(old.policy.outputs[result.label_output].labels) if result.label_output else []
    return {"old": old.ref, "new": new.ref, "policy": policy, "period": period, **impact_json(result, labels)}
