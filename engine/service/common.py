"""What every resource of the service shares: the caller and its role, refusals (ServiceError,
carrying typed field errors), the request limits, the audit trail and who may see a stored row.

Roles: an agency key reads and writes its own agency's data only; a reviewer reads everything
and writes nothing; an admin manages keys and policies and reads everything. Another agency's
object is reported as absent (404), not as forbidden, so ids reveal nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC

from engine.errors import FieldError, field_errors
from engine.i18n import _
from engine.service.store import ID_LENGTH, AuditEntry, now

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
    """A refusal with an HTTP status, a stable code and, where useful, located errors (FieldErrors,
    or the {path, code, message} dicts the evaluators give for a record); without them, one error
    at the whole request that says `message`."""

    def __init__(self, status: int, code: str, message: str, errors: Iterable[FieldError | Mapping] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.field_errors = field_errors(errors or ()) or (FieldError(code, message),)

    @property
    def errors(self) -> list[dict]:
        """The located errors as the API writes them."""
        return [error.to_json() for error in self.field_errors]


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

    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def require(caller: Caller, *roles: str) -> None:
    if caller.role not in roles:
        raise ServiceError(
            403,
            "forbidden",
            _("a {role} key cannot do this (needs: {roles})", role=caller.role, roles=", ".join(roles)),
        )


def _audit(session, actor: Caller, action: str, target: str, detail: str) -> None:
    session.add(
        AuditEntry(
            at=now(),
            actor=actor.key_id,
            role=actor.role,
            agency=actor.agency,
            action=action,
            object=target,
            detail=detail,
        )
    )


def capped_errors(errors: list[FieldError], limit: int = MAX_RESPONSE_ERRORS) -> list[FieldError]:
    """At most `limit` located errors, and one more that counts the rest: a response stays small."""
    if len(errors) <= limit:
        return errors
    return errors[:limit] + [
        FieldError("too_many_errors", _("and {count} more errors not listed", count=len(errors) - limit))
    ]


def _record_index(path: str) -> int:
    """The N of a /records/N/... path."""
    return int(path.split("/")[2])


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
