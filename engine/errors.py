"""Errors as values: a located field error and the problem a request answers with (RFC 9457).

Why: the service refuses a request with a status, a sentence and every located problem at
once (STYLE.md: errors have stable codes and places and are collected). Building those as typed
values, not dicts by hand, keeps their shape in one place; `to_json` gives the exact dicts the
HTTP API has always answered with. A leaf: it imports nothing of the engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    """One problem at one place: `path` is a JSON pointer into the request ("" for the whole of
    it); `code` is stable, `message` is in the reader's language; `hint` says what to do."""

    code: str
    message: str
    path: str = ""
    hint: str | None = None

    def to_json(self) -> dict:
        found = {"path": self.path, "code": self.code, "message": self.message}
        if self.hint is not None:
            found["hint"] = self.hint
        return found

    @classmethod
    def of(cls, value: FieldError | Mapping) -> FieldError:
        """A FieldError from itself or from a {path, code, message[, hint]} dict (a record's error
        as the evaluators give it)."""
        if isinstance(value, FieldError):
            return value
        return cls(value["code"], value["message"], value.get("path", ""), value.get("hint"))


@dataclass(frozen=True)
class Problem:
    """What an HTTP answer says when it refuses: a status, its title, the sentence that sums it
    up, and every located error (at least one)."""

    status: int
    title: str
    detail: str
    errors: tuple[FieldError, ...] = field(default_factory=tuple)
    type: str = "about:blank"

    def to_json(self) -> dict:
        return {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "errors": [error.to_json() for error in self.errors],
        }


def field_errors(errors: Iterable[FieldError | Mapping]) -> tuple[FieldError, ...]:
    """FieldErrors from FieldErrors or dicts, in order."""
    return tuple(FieldError.of(error) for error in errors)
