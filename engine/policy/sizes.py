"""Sizes of exact numbers, in decimal digits: the arithmetic the bounds pass and the function
registry's size rules share. A leaf: it knows numbers, nothing of policies."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from engine.numbers import AUDIT_PLACES


@dataclass(frozen=True)
class Size:
    """Upper bounds, in decimal digits: numerator, power-of-ten part and other part of the denominator."""

    num: int
    ten: int = 0
    other: int = 0
    mag: int = 0  # digits of the value's whole part: |value| < 10^mag
    places: int = -1  # decimal places of the value when it terminates (else it is shown rounded)

    def __post_init__(self) -> None:
        if not self.mag:
            object.__setattr__(self, "mag", self.num)
        if self.places < 0:
            object.__setattr__(self, "places", self.ten)

    @property
    def text(self) -> int:
        """Digits of the value written out: exact when it terminates, else to AUDIT_PLACES."""
        return self.mag + max(self.places, AUDIT_PLACES) + 1

    @property
    def den(self) -> int:
        return self.ten + self.other

    @property
    def digits(self) -> int:
        return max(self.num, self.den)


SMALL = Size(1)


def literal(value: Fraction) -> Size:
    den, twos, fives = value.denominator, 0, 0
    while den % 2 == 0:
        den, twos = den // 2, twos + 1
    while den % 5 == 0:
        den, fives = den // 5, fives + 1
    return Size(
        _digits(abs(value.numerator)),
        max(twos, fives),
        0 if den == 1 else _digits(den),
        _digits(abs(value.numerator) // value.denominator),
        max(twos, fives),
    )


def _digits(number: int) -> int:
    return max(1, number.bit_length() * 30103 // 100000 + 1)


def add(a: Size, b: Size) -> Size:
    ten, other = max(a.ten, b.ten), a.other + b.other
    return Size(max(a.num + b.den, b.num + a.den) + 1, ten, other, max(a.mag, b.mag) + 1, max(a.places, b.places))


def mul(a: Size, b: Size) -> Size:
    return Size(a.num + b.num, a.ten + b.ten, a.other + b.other, a.mag + b.mag, a.places + b.places)


def div(a: Size, b: Size) -> Size:
    return Size(a.num + b.den, a.ten, a.other + b.num, a.mag + b.den + 1, a.places + _places_of_inverse(b.num))


def hull(a: Size, b: Size) -> Size:
    return Size(max(a.num, b.num), max(a.ten, b.ten), max(a.other, b.other), max(a.mag, b.mag), max(a.places, b.places))


def _places_of_inverse(digits: int) -> int:
    """Places 1/d can have when it terminates, d below 10^digits: d = 2^k needs k <= 3.33 x digits."""
    return digits * 3322 // 1000 + 1


def rounded(a: Size, places: int) -> Size:
    """A value rounded to `places`: the denominator is at most 10^places again."""
    return Size(a.mag + places + 1, places, 0, a.mag + 1, places)


def sum_of(a: Size, items: int) -> Size:
    """A sum of `items` values each of size a."""
    extra = _digits(max(items, 1))
    return Size(a.num + (items - 1) * a.other + extra, a.ten, a.other * items, a.mag + extra, a.places)
