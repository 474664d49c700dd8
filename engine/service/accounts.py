"""People who sign in to the web: accounts, passwords (argon2) and the session signing key.

The same roles as API keys (engine.service.ROLES); a signed-in user acts through the service as a
`Caller` whose id is "u:" + username, so every write is audited naming them. Usernames are
short lowercase words (they appear in the audit log); passwords are never stored, only argon2id
hashes (argon2-cffi's defaults, re-hashed at sign-in when those defaults grow).
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine.i18n import _
from engine.service.common import LOCAL, ROLES, Caller, ServiceError, _audit, _fits, iso
from engine.service.store import AGENCY_LENGTH, USERNAME_LENGTH, Setting, Store, User, now

#: A username: lowercase letters, digits, dot, dash, underscore; it starts with a letter or digit.
USERNAME_PATTERN = re.compile(rf"[a-z0-9][a-z0-9._-]{{1,{USERNAME_LENGTH - 1}}}")
#: Shortest password accepted; longer ones are better, and nothing else is imposed (NIST 800-63B).
MIN_PASSWORD_LENGTH = 10
#: Longest password hashed (argon2 takes any length; this bounds the work one request can ask).
MAX_PASSWORD_LENGTH = 1024
#: The settings row holding the web's session signing key when the configuration gives none.
SECRET_KEY_SETTING = "web.secret_key"
#: An actor in the audit log that is a person, not a key: "u:" + username.
USER_ACTOR_PREFIX = "u:"

_hasher = PasswordHasher()
#: Verified against when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


@dataclass(frozen=True)
class Account:
    """A user as the web sees them: never the hash."""

    id: str
    username: str
    role: str
    agency: str | None
    created_at: str
    disabled_at: str | None

    @property
    def caller(self) -> Caller:
        """Who the service sees acting: audited as "u:" + username."""
        return Caller(USER_ACTOR_PREFIX + self.username, self.role, self.agency)

    @property
    def active(self) -> bool:
        return self.disabled_at is None


def _account(row: User) -> Account:
    return Account(
        row.id,
        row.username,
        row.role,
        row.agency,
        iso(row.created_at),
        iso(row.disabled_at) if row.disabled_at else None,
    )


def check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(422, "password", _("a password has at least {n} characters", n=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ServiceError(422, "password", _("a password has at most {n} characters", n=MAX_PASSWORD_LENGTH))


def create_user(
    store: Store, username: str, password: str, role: str, agency: str | None = None, actor: Caller = LOCAL
) -> Account:
    """A new account; refused (422) with a reason in the reader's language, or 409 when the name is taken."""
    if not isinstance(username, str) or not USERNAME_PATTERN.fullmatch(username):
        raise ServiceError(
            422,
            "username",
            _(
                "a username is 2 to {n} lowercase letters, digits, '.', '-' or '_', starting with a letter or digit",
                n=USERNAME_LENGTH,
            ),
        )
    if role not in ROLES:
        raise ServiceError(422, "role", _("the role must be one of {roles}", roles=", ".join(ROLES)))
    agency = agency or None
    if role == "agency" and not agency:
        raise ServiceError(422, "agency", _("an agency user needs an agency (--agency ID)"))
    if role != "agency" and agency:
        raise ServiceError(422, "agency", _("only agency users belong to an agency"))
    if agency is not None and not _fits(agency, AGENCY_LENGTH):
        raise ServiceError(422, "agency", _("an agency id is 1 to {n} characters", n=AGENCY_LENGTH))
    check_password(password)
    row = User(
        id=uuid.uuid4().hex,
        username=username,
        password_hash=_hasher.hash(password),
        role=role,
        agency=agency,
        created_at=now(),
        disabled_at=None,
    )
    try:
        with store.session() as session, session.begin():
            if session.scalars(select(User.id).where(User.username == username)).first() is not None:
                raise ServiceError(409, "username_taken", _("the username {name} is taken", name=username))
            session.add(row)
            session.flush()
            _audit(session, actor, "user.create", f"user/{username}", f"role={role} agency={agency or ''}")
    except IntegrityError:
        raise ServiceError(409, "username_taken", _("the username {name} is taken", name=username)) from None
    return _account(row)


def list_users(store: Store) -> list[Account]:
    with store.session() as session:
        return [_account(row) for row in session.scalars(select(User).order_by(User.username))]


def get_user(store: Store, user_id: str) -> Account | None:
    """The account with this id, if it exists and is not disabled (a session names it by id)."""
    if not _fits(user_id, 32):
        return None
    with store.session() as session:
        row = session.get(User, user_id)
    return _account(row) if row is not None and row.disabled_at is None else None


def disable_user(store: Store, username: str, actor: Caller = LOCAL) -> Account:
    """Stop a user from signing in (their open sessions end at their next request); audited."""
    with store.session() as session, session.begin():
        row = session.scalars(select(User).where(User.username == username)).first() if _fits(username, 64) else None
        if row is None:
            raise ServiceError(404, "not_found", _("no user {name}", name=username))
        if actor.key_id == USER_ACTOR_PREFIX + username:
            raise ServiceError(422, "self", _("you cannot disable your own account"))
        if row.disabled_at is None:
            row.disabled_at = now()
            _audit(session, actor, "user.disable", f"user/{username}", "")
        return _account(row)


def sign_in(store: Store, username: str, password: str) -> Account | None:
    """The account for these credentials, or None (unknown name, wrong password, disabled).

    An unknown name is verified against a dummy hash, so timing tells nothing about which names exist."""
    if not isinstance(username, str) or not isinstance(password, str) or len(password) > MAX_PASSWORD_LENGTH:
        return None
    with store.session() as session:
        row = (
            session.scalars(select(User).where(User.username == username.strip().lower())).first()
            if _fits(username, 64)
            else None
        )
    try:
        _hasher.verify(row.password_hash if row is not None else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled_at is not None:
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        with store.session() as session, session.begin():
            session.get(User, row.id).password_hash = _hasher.hash(password)  # type: ignore[union-attr]  # just read
    return _account(row)


def secret_key(store: Store) -> str:
    """The web's session signing key kept in the database: generated by the first server to need it,
    then shared by every process on the same database. The configuration (SECRET_KEY or
    KINERJA_SECRET_KEY) overrides it; engine.service.web decides which."""
    with store.session() as session:
        row = session.get(Setting, SECRET_KEY_SETTING)
        if row is not None:
            return row.value
    try:
        with store.session() as session, session.begin():
            session.add(Setting(name=SECRET_KEY_SETTING, value=secrets.token_urlsafe(48)))
    except IntegrityError:
        pass  # another process generated it first
    with store.session() as session:
        return session.get(Setting, SECRET_KEY_SETTING).value  # type: ignore[union-attr]  # written above
