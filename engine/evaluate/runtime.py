"""What a compiled policy works on at evaluation time: record items, absent values, record errors,
and the whitelisted pure functions. No policy text reaches Python here; only exact values do.
"""

from __future__ import annotations

from typing import Any

from engine.policy.functions import FUNCTIONS, TargetRange, capaian, capaian_terbalik, ceil, clamp, floor, round_value  # noqa: F401


class _Absent:
    """A value that is not there. Reading it in a formula is a record error, never zero."""

    __slots__ = ("code", "words")
    is_absent = True  # what present() asks (engine.policy.functions.present)

    def __init__(self, code: str, words: str):
        self.code, self.words = code, words

    def __repr__(self) -> str:
        return self.code


#: An optional input that the record does not have (and that has no default).
MISSING = _Absent("missing", "is not given")
#: An input given as null where the policy declares null to mean 'not applicable'.
NOT_APPLICABLE = _Absent("not_applicable", "is null (not applicable)")


class RecordError(Exception):
    """A record that cannot be evaluated; `path` is a JSON pointer into the record."""

    def __init__(self, path: str, code: str, message: str):
        super().__init__(message)
        self.path, self.code, self.message = path, code, message

    def as_json(self) -> dict[str, str]:
        return {"path": self.path, "code": self.code, "message": self.message}


class RecordErrors(Exception):
    """Several record errors found together (the requirements a record fails)."""

    def __init__(self, errors: list[RecordError]):
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


class Item:
    """A record inside the submitted data (an element of a list, or a nested record).

    `path` is its JSON pointer; `scope` names the list input it is an element of, whose item
    values (`k.nilai`) the evaluation computes for it, once, and keeps in its own memo.
    """

    __slots__ = ("fields", "path", "scope")

    def __init__(self, fields: dict[str, Any], path: str, scope: str | None = None):
        self.fields = fields
        self.path = path
        self.scope = scope


def pointer(parent: str, key: object) -> str:
    """JSON pointer of `key` under `parent` (RFC 6901 escaping)."""
    return f"{parent}/{str(key).replace('~', '~0').replace('/', '~1')}"


# The whitelisted functions live in the registry (engine.policy.functions); this name stays for
# readers that looked them up here.
FUNCTION_IMPLEMENTATIONS = {name: f.implementation for name, f in FUNCTIONS.items() if not f.peek}
