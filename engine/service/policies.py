"""Policies as the service offers them: the built-in and published ones listed and read by id
(never by path), checked from text in a sandbox, published as new versions, and their versions."""

from __future__ import annotations

import os
import uuid
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from engine import api
from engine.diagnostics import PolicyError
from engine.errors import FieldError
from engine.evaluate.io import decode_json, encode
from engine.i18n import _
from engine.policy import document as policyfile
from engine.policy import versions
from engine.policy.document import available, canonical
from engine.service import sandbox
from engine.service.common import Caller, ServiceError, _audit, _fits, iso, require
from engine.service.store import POLICY_ID_LENGTH, PolicyVersion, Store, now


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
    return {
        "id": p.id,
        "version": p.version,
        "hash": p.hash,
        "title": p.title,
        "berlaku_mulai": p.berlaku_mulai,
        "berlaku_sampai": p.berlaku_sampai,
        "extends": p.chain[1] if len(p.chain) > 1 else None,
    }


def load_policy(policy_id: str, path: str = "/policy", store: Store | None = None) -> api.LoadedPolicy:
    """A policy by id (never a path: the service does not read arbitrary files): `ID` (the
    version in force today, else the newest), `ID@VERSION` or `ID@sha256:HASH`, built in or
    (given the store) published."""
    return _chooser(policy_id, path, store).default


def _chooser(
    target: str, path: str, store: Store | None, period: str | None = None, period_path: str = "/period"
) -> api.Chooser:
    """The versions of a policy to evaluate with, the one for `period` by default (engine.policy.versions).

    A period that is not a year, month or day (free text such as 2024-Q1) chooses nothing; it is
    refused only for an id with several versions, where it would have to choose."""
    unknown = [FieldError("unknown_policy", _("no policy with id '{id}'", id=target), path)]
    if not _fits(target, POLICY_ID_LENGTH + 80) or "/" in target or "\\" in target:
        raise ServiceError(404 if path == "" else 422, "unknown_policy", _("no such policy"), unknown)
    extra = [published_dir(store)] if store is not None else None
    chosen = period if versions.parse_period(period) else None
    try:
        chooser = api.Chooser(target, chosen, extra, files=False)
    except PolicyError as error:
        first = error.diagnostics[0]
        if first.code in ("policy.unknown", "version.unknown", "version.ambiguous"):
            message = f"{first.message}; {first.hint}" if first.hint else first.message
            raise ServiceError(
                404 if path == "" else 422, "unknown_policy", message, [replace(unknown[0], message=message)]
            ) from None
        if first.code.startswith("version."):
            message = f"{first.message}; {first.hint}" if first.hint else first.message
            raise ServiceError(
                422, "no_version_in_force", message, [FieldError(first.code, message, period_path)]
            ) from None
        raise ServiceError(
            500,
            "policy_broken",
            _("policy {id} does not pass its checks", id=target),
            [FieldError(d.code, d.render()) for d in error.diagnostics],
        ) from None
    if period is not None and chosen is None and chooser.several:
        message = _(
            "{id} has several versions: {problem}; or name a version ({id}@VERSION)",
            id=target,
            problem=versions.period_error(period),
        )
        raise ServiceError(422, "invalid_period", message, [FieldError("pattern", message, period_path)])
    return chooser


def get_policy(policy_id: str) -> dict:
    loaded = load_policy(policy_id, path="")
    p = loaded.policy
    summary = _policy_summary(loaded)
    summary.update(
        {
            "description": p.description,
            "legal_basis": p.legal_basis,
            "inputs": loaded.reader.schema,
            "outputs": list(p.outputs),
        }
    )
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
        message = (
            _("checking this policy took more than {seconds} seconds; make it smaller", seconds=sandbox.CHECK_SECONDS)
            if over.what == "time"
            else _(
                "checking this policy needed more than {megabytes} MB of memory; make it smaller",
                megabytes=sandbox.CHECK_MEMORY_BYTES // (1024 * 1024),
            )
        )
        raise ServiceError(
            422, "policy.over_budget", message, [FieldError("over_budget", message, "/policy")]
        ) from None


def check_policy_text_here(text: str) -> dict:
    """check_policy_text in this process: what the sandboxed child runs."""
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "policy.yaml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))  # a lone surrogate is a located error
        _policy, diagnostics = api.check(path, extends_ids_only=True)
    found = [
        dict(d.as_json(), file="policy.yaml" if d.position.file == str(path) else Path(d.position.file).name)
        for d in diagnostics
    ]
    return {"valid": not any(d["severity"] == "error" for d in found), "diagnostics": found}


def failing_cases(policy, name: str = "policy.yaml") -> list[dict]:
    """The policy's own test cases that fail, as problems (`test.failed`, at /policy), each with
    its line and what differed. Publishing refuses a policy whose own cases fail (API and web),
    so a published rule never contradicts the examples its author wrote down."""
    from engine.review.cases import run_tests

    report = run_tests(api.compiled(policy))
    return [
        FieldError(
            "test.failed",
            _(
                "{file}:{line}: case '{case}' fails: {failures}",
                file=name,
                line=case.line,
                case=case.name,
                failures="; ".join(case.failures),
            ),
            "/policy",
        ).to_json()
        for case in report.failed
    ]


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
        rows = session.execute(
            select(PolicyVersion.hash, PolicyVersion.policy_id)
            .where(PolicyVersion.published)
            .order_by(PolicyVersion.published_at, PolicyVersion.hash)
        ).all()
        built_in, first = set(available()), set()
        for digest, policy_id in rows:
            base = policy_id not in built_in and policy_id not in first
            first.add(policy_id)
            path = directory / (
                f"{policy_id}.yaml" if base else f"{policy_id}@{digest.removeprefix('sha256:')[:16]}.yaml"
            )
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
    return {
        "id": info.id,
        **info.as_json(),
        "source": "published" if published else "bundled",
        "published_at": iso(row.published_at) if published and row is not None and row.published_at else None,
    }


def publish_policy(store: Store, caller: Caller, body) -> tuple[int, dict]:
    """Publish a policy version (admins) sent as `{"policy": YAML text}`: checked like any policy,
    and against the other versions of its id (no overlap, no gap, no second content under one
    version label); stored for good. Publishing the same text again answers 200, the same version."""
    import tempfile

    require(caller, "admin")
    text = body.get("policy") if isinstance(body, dict) else None
    problems = (
        [
            FieldError("unknown_field", _("'{key}' is not a field of this request", key=k), f"/{k}")
            for k in sorted(set(body) - {"policy"})
        ]
        if isinstance(body, dict)
        else []
    )
    if not isinstance(text, str):
        problems.insert(
            0,
            FieldError(
                "type" if isinstance(body, dict) and "policy" in body else "required",
                _("the policy's YAML text is required"),
                "/policy",
            ),
        )
    if problems:
        raise ServiceError(422, "invalid_body", _("the body needs `policy`: the policy's YAML text"), problems)
    assert isinstance(text, str)  # else `problems` said so above
    directory = published_dir(store)
    policy, diagnostics = api.check_text(text, "policy.yaml", [directory])
    hidden = [directory, policyfile.bundled_dir()]
    errors = [
        FieldError(d.code, _shown(d.render(), hidden), "/policy") for d in diagnostics if d.severity.value == "error"
    ]
    if policy is not None and not errors and len(policy.version) > VERSION_LENGTH:
        errors.append(
            FieldError("version", _("version is at most {limit} characters", limit=VERSION_LENGTH), "/policy")
        )
    if policy is None or errors:
        raise ServiceError(
            422,
            "invalid_policy",
            _("the policy does not pass its checks; nothing was published"),
            errors or [FieldError("invalid", _("the policy cannot be read"), "/policy")],
        )
    failed = failing_cases(policy)
    if failed:
        raise ServiceError(
            422,
            "failing_tests",
            _("{count} of the policy's own test cases fail; nothing was published", count=len(failed)),
            failed,
        )
    known = versions.versions_of(policy.id, [directory])
    same = next((i for i in known if i.hash == policy.hash), None)
    if same is not None:
        with store.session() as session:
            return 200, _version_json(same, session.get(PolicyVersion, same.hash))
    clash = next((i for i in known if i.version == policy.version), None)
    if clash is not None:
        message = _(
            "{id} version {version} is already {hash} with other content; a published version never "
            "changes: give this one a new version",
            id=policy.id,
            version=policy.version,
            hash=clash.hash,
        )
        raise ServiceError(409, "version_exists", message, [FieldError("version_exists", message, "/policy")])
    with tempfile.TemporaryDirectory() as candidate_dir:
        candidate = Path(candidate_dir) / f"{policy.id}@new.yaml"
        candidate.write_bytes(text.encode("utf-8", "surrogatepass"))
        overlaps = versions.check_versions([directory, Path(candidate_dir)], {policy.id})
        hidden.append(Path(candidate_dir))
        errors = [
            FieldError(d.code, _shown(d.render(), hidden).replace(candidate.name, "policy.yaml"), "/policy")
            for d in overlaps
            if d.severity.value == "error"
        ]
    if errors:
        raise ServiceError(
            422,
            "invalid_versions",
            _(
                "the validity of {id} version {version} does not fit its other versions; nothing was published",
                id=policy.id,
                version=policy.version,
            ),
            errors,
        )
    moment = now()
    with store.session() as session, session.begin():
        row = session.get(PolicyVersion, policy.hash)
        if row is None:
            row = PolicyVersion(
                hash=policy.hash,
                policy_id=policy.id,
                version=policy.version,
                document=encode(canonical(policy.data)).decode("utf-8"),
                stored_at=moment,
            )
            session.add(row)
        row.published, row.text, row.published_at, row.published_by = True, text, moment, caller.key_id
        row.berlaku_mulai, row.berlaku_sampai = policy.berlaku_mulai, policy.berlaku_sampai
        _audit(
            session,
            caller,
            "policy.publish",
            f"policy/{policy.id}",
            f"version={policy.version} hash={policy.hash} berlaku={policy.berlaku_mulai or ''}..{policy.berlaku_sampai or ''}",
        )
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
        rows = {
            row.hash: row for row in session.scalars(select(PolicyVersion).where(PolicyVersion.policy_id == policy_id))
        }
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
