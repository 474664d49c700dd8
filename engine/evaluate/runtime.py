"""What a compiled policy works on at evaluation time: record items, absent values, record errors,
and the whitelisted pure functions. No policy text reaches Python here; only exact values do.
"""
from __future__ import annotations

from fractions import Fraction

from engine.numbers import HUNDRED, ZERO, RoundingMode, round_to


class _Absent:
    """A value that is not there. Reading it in a formula is a record error, never zero."""

    __slots__ = ("code", "words")

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

    def as_json(self) -> dict:
        return {"path": self.path, "code": self.code, "message": self.message}


class RecordErrors(Exception):
    """Several record errors found together (the requirements a record fails)."""

    def __init__(self, errors: list[RecordError]):
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


class TargetRange(tuple):
    """A two-number target such as 7-8 bulan: (low, high)."""

    __slots__ = ()

    @property
    def low(self) -> Fraction:
        return self[0]

    @property
    def high(self) -> Fraction:
        return self[1]


class Item:
    """A record inside the submitted data (an element of a list, or a nested record).

    `path` is its JSON pointer; `scope` names the list input it is an element of, whose item
    values (`k.nilai`) the evaluation computes for it, once, and keeps in its own memo.
    """

    __slots__ = ("fields", "path", "scope")

    def __init__(self, fields: dict, path: str, scope: str | None = None):
        self.fields = fields
        self.path = path
        self.scope = scope


def pointer(parent: str, key) -> str:
    """JSON pointer of `key` under `parent` (RFC 6901 escaping)."""
    return f"{parent}/{str(key).replace('~', '~0').replace('/', '~1')}"


# The whitelisted functions -------------------------------------------------------------------

def capaian(realisasi: Fraction, target) -> Fraction:
    """Higher is better: realisasi / target x 100. A range target gives 100 inside the range and
    compares with the nearer bound outside it (PermenPANRB 8/2021)."""
    if isinstance(target, TargetRange):
        if target.low <= realisasi <= target.high:
            return HUNDRED
        target = target.high if realisasi > target.high else target.low
    return realisasi / target * HUNDRED


def capaian_terbalik(realisasi: Fraction, target) -> Fraction:
    """Lower is better (kondisi khusus): (2 x target - realisasi) / target x 100, at least 0."""
    if isinstance(target, TargetRange):
        if target.low <= realisasi <= target.high:
            return HUNDRED
        target = target.high if realisasi > target.high else target.low
    value = (2 * target - realisasi) / target * HUNDRED
    return value if value > ZERO else ZERO


def clamp(value: Fraction, low: Fraction, high: Fraction) -> Fraction:
    return low if value < low else high if value > high else value


def round_value(value: Fraction, places: Fraction, mode: str = "half_up") -> Fraction:
    return round_to(value, int(places), RoundingMode(mode))


def floor(value: Fraction) -> Fraction:
    return Fraction(value.numerator // value.denominator)


def ceil(value: Fraction) -> Fraction:
    return Fraction(-((-value.numerator) // value.denominator))


FUNCTION_IMPLEMENTATIONS = {
    "capaian": capaian,
    "capaian_terbalik": capaian_terbalik,
    "clamp": clamp,
    "round": round_value,
    "min": min,
    "max": max,
    "abs": abs,
    "floor": floor,
    "ceil": ceil,
    "len": lambda items: Fraction(len(items)),
}
