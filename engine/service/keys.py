"""API keys: made (the secret shown once, only its hash stored), listed, revoked, and the caller
behind a request's key."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from engine.i18n import _
from engine.service.common import LOCAL, ROLES, Caller, ServiceError, _audit, _fits, iso
from engine.service.store import AGENCY_LENGTH, ApiKey, Store, now


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
        return [
            {
                "id": k.id,
                "role": k.role,
                "agency": k.agency,
                "created_at": iso(k.created_at),
                "revoked_at": iso(k.revoked_at) if k.revoked_at else None,
            }
            for k in keys
        ]


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
    digest = _digest(authorization[len("Bearer ") :].strip())
    with store.session() as session:
        key = session.scalars(select(ApiKey).where(ApiKey.key_hash == digest)).first()
    if key is None or key.revoked_at is not None:
        raise ServiceError(401, "unauthenticated", _("the API key is not valid (unknown or revoked)"))
    return Caller(key.id, key.role, key.agency)
