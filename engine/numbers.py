"""The value domain: exact numbers, read from text, rounded only on request.

Every number the engine touches is a `fractions.Fraction`. Binary floats flip records across
band edges and 28-digit decimals round some midpoints the wrong way (PRODUCT.md, "Exact"), so
numbers are read from their decimal text, computed as fractions and turned back into decimal
text only at the edge, with the rounding a policy states.
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import Enum
from fractions import Fraction

from engine.i18n import _

#: Largest magnitude a submitted or written number may have. Rupiah totals of a whole
#: province stay far below it; anything larger is a typo or an attack (1e999).
MAX_MAGNITUDE = Fraction(10) ** 15
#: Most significant digits a number's text may carry.
MAX_DIGITS = 30
#: Most decimal places a number may have (1e-5001 is not a score, and would cost minutes).
MAX_PLACES = 30
#: Decimal places shown for a non-terminating intermediate value (outputs are always rounded
#: as their policy says; this is only for the audit copy of intermediates).
AUDIT_PLACES = 10

_NUMBER_TEXT = re.compile(r"-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?")

ZERO = Fraction(0)
HUNDRED = Fraction(100)


class NumberError(ValueError):
    """A number that cannot be accepted: not finite, too large or too long."""


class NotANumber(NumberError):
    """Text that is not a decimal numeral at all (a YAML scalar such as 0x1F stays text)."""


class RoundingMode(str, Enum):
    """How to round a value to a number of decimal places (a policy names one)."""

    HALF_UP = "half_up"  # 2.345 -> 2.35, -2.345 -> -2.35 (away from zero at the midpoint)
    HALF_EVEN = "half_even"  # banker's rounding
    HALF_DOWN = "half_down"  # towards zero at the midpoint
    UP = "up"  # away from zero
    DOWN = "down"  # towards zero (truncate)
    CEILING = "ceiling"
    FLOOR = "floor"


def parse_number(text: str) -> Fraction:
    """Read a decimal numeral exactly ('0.29' is 29/100, not the float nearest to it)."""
    match = _NUMBER_TEXT.fullmatch(text.strip())
    if not match:
        raise NotANumber(_("{text} is not a number; write digits with '.' as the decimal mark", text=repr(text)))
    whole, fraction_digits, exponent = match.groups()
    if len((whole + (fraction_digits or "")).lstrip("0")) > MAX_DIGITS:
        raise NumberError(_("{text} has more than {limit} significant digits", text=text, limit=MAX_DIGITS))
    if exponent is not None and abs(int(exponent)) > 2 * MAX_DIGITS:
        raise NumberError(
            _("{text} is out of range (at most 10^15 in size, {places} decimal places)", text=text, places=MAX_PLACES)
        )
    value = Fraction(text.strip())
    _check_places(value, text)
    check_magnitude(value, text)
    return value


def from_decimal(value: Decimal) -> Fraction:
    """Turn a Decimal parsed from JSON text into an exact fraction, refusing NaN and huge values."""
    if not value.is_finite():
        raise NumberError(_("{value} is not a finite number", value=value))
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # a finite Decimal's exponent (not 'n', 'N', 'F')
    if len(digits) > MAX_DIGITS:
        raise NumberError(_("{text} has more than {limit} significant digits", text=value, limit=MAX_DIGITS))
    if value.adjusted() > 15:
        raise NumberError(_("{text} is out of range (at most 10^15 in size)", text=value))
    if exponent < -MAX_PLACES and any(digits):
        raise NumberError(_("{text} has more than {places} decimal places", text=value, places=MAX_PLACES))
    result = Fraction(value)
    check_magnitude(result, str(value))
    return result


_MAX_INT = 10**15


def read_number(value) -> Fraction:
    """The one number rule for every input format (JSON Lines, JSON, HTTP, CSV, XLSX): a JSON
    integer, a Decimal read from JSON or a cell's text, each held to the same limits
    (MAX_MAGNITUDE, MAX_DIGITS, MAX_PLACES). Raises NumberError saying which limit."""
    if isinstance(value, (bool, float)):
        raise NumberError(f"{value!r} is not an exact number; write it as decimal text")
    if isinstance(value, int):
        return from_int(value)
    if isinstance(value, Decimal):
        return from_decimal(value)
    if isinstance(value, str):
        return parse_number(value)
    raise NumberError(f"{value!r} is not a number")


def from_int(value: int) -> Fraction:
    if -_MAX_INT <= value <= _MAX_INT:
        return Fraction(value)
    raise NumberError(
        _(
            "{text} is out of range (at most 10^15 in size)",
            text=value if abs(value) < 10**40 else _("a very long integer"),
        )
    )


def _check_places(value: Fraction, text: str) -> None:
    if value.denominator > 10**MAX_PLACES:
        raise NumberError(_("{text} has more than {places} decimal places", text=text, places=MAX_PLACES))


def check_magnitude(value: Fraction, text: str) -> None:
    if abs(value) > MAX_MAGNITUDE:
        raise NumberError(_("{text} is out of range (at most 10^15 in size)", text=text))


def round_to(value: Fraction, places: int, mode: RoundingMode) -> Fraction:
    """Round exactly to `places` decimal places; the midpoint test is exact, never approximate."""
    scale = Fraction(10) ** places
    scaled = value * scale
    floor = scaled.numerator // scaled.denominator
    remainder = scaled - floor  # in [0, 1)
    if remainder == 0:
        return value
    negative = value < 0
    if mode is RoundingMode.FLOOR:
        result = floor
    elif mode is RoundingMode.CEILING:
        result = floor + 1
    elif mode is RoundingMode.DOWN:
        result = floor + 1 if negative else floor
    elif mode is RoundingMode.UP:
        result = floor if negative else floor + 1
    else:
        half = Fraction(1, 2)
        if remainder > half:
            result = floor + 1
        elif remainder < half:
            result = floor
        elif mode is RoundingMode.HALF_EVEN:
            result = floor if floor % 2 == 0 else floor + 1
        elif mode is RoundingMode.HALF_UP:
            result = floor if negative else floor + 1
        else:  # HALF_DOWN: towards zero
            result = floor + 1 if negative else floor
    return Fraction(result) / scale


def is_terminating(value: Fraction) -> bool:
    """True when the value has a finite decimal expansion (its denominator is 2^a 5^b)."""
    d = value.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def to_decimal(value: Fraction, places: int | None = None) -> Decimal:
    """Exact decimal for a terminating fraction; otherwise rounded half-even to AUDIT_PLACES.

    With `places`, the value must already be rounded to that many places (outputs are).
    """
    if not is_terminating(value):
        value = round_to(value, AUDIT_PLACES if places is None else places, RoundingMode.HALF_EVEN)
    sign = "-" if value < 0 else ""
    num, den = abs(value.numerator), value.denominator
    digits = 0
    while den != 1:
        # den is 2^a 5^b: multiply up to a power of ten
        if den % 10 == 0:
            den //= 10
        elif den % 2 == 0:
            num *= 5
            den //= 2
        else:
            num *= 2
            den //= 5
        digits += 1
    text = str(num)
    if digits:
        text = text.rjust(digits + 1, "0")
        text = f"{text[:-digits]}.{text[-digits:]}"
    if places is not None and places > digits:
        text = text + ("." if digits == 0 else "") + "0" * (places - digits)
    return Decimal(sign + text)


def format_number(value: Fraction, places: int | None = None, decimal_mark: str = ".") -> str:
    """Human text of a number: '88.67', or '88,67' with the Indonesian decimal mark."""
    text = str(to_decimal(value, places))
    if "." in text and places is None:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", decimal_mark) if decimal_mark != "." else text


def exact_text(value: Fraction) -> str:
    """The exact value for an audit trail: decimal when it terminates, else 'p/q'."""
    if is_terminating(value):
        return format_number(value)
    return f"{value.numerator}/{value.denominator}"
