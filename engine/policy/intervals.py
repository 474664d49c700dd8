"""Exact interval arithmetic for the range analysis ("can this score pass 100?").

An interval is [lo, hi] with optional open ends; None is an infinite end. The analysis is
sound but not tight: it may say a value can reach somewhere it cannot, never the reverse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any


@dataclass(frozen=True)
class Interval:
    lo: Fraction | None = None
    hi: Fraction | None = None
    lo_closed: bool = True
    hi_closed: bool = True

    @staticmethod
    def point(value: Fraction) -> Interval:
        return Interval(value, value)

    @property
    def empty(self) -> bool:
        if self.lo is None or self.hi is None:
            return False
        return self.lo > self.hi or (self.lo == self.hi and not (self.lo_closed and self.hi_closed))

    def contains(self, value: Fraction) -> bool:
        if self.lo is not None and (value < self.lo or (value == self.lo and not self.lo_closed)):
            return False
        if self.hi is not None and (value > self.hi or (value == self.hi and not self.hi_closed)):
            return False
        return True

    def within(self, other: Interval) -> bool:
        """True when every value of self lies in other."""
        if self.empty:
            return True
        if other.lo is not None:
            if (
                self.lo is None
                or self.lo < other.lo
                or (self.lo == other.lo and self.lo_closed and not other.lo_closed)
            ):
                return False
        if other.hi is not None:
            if (
                self.hi is None
                or self.hi > other.hi
                or (self.hi == other.hi and self.hi_closed and not other.hi_closed)
            ):
                return False
        return True

    def __str__(self) -> str:
        from engine.numbers import format_number

        lo = "-∞" if self.lo is None else format_number(self.lo, None)
        hi = "∞" if self.hi is None else format_number(self.hi, None)
        return f"{'[' if self.lo_closed and self.lo is not None else '('}{lo}, {hi}{']' if self.hi_closed and self.hi is not None else ')'}"


EVERYTHING = Interval()


def _lower(a: Interval, b: Interval) -> tuple[Fraction | None, bool]:
    """The larger of two lower ends (for intersection)."""
    if a.lo is None:
        return b.lo, b.lo_closed
    if b.lo is None or a.lo > b.lo:
        return a.lo, a.lo_closed
    if b.lo > a.lo:
        return b.lo, b.lo_closed
    return a.lo, a.lo_closed and b.lo_closed


def _upper(a: Interval, b: Interval) -> tuple[Fraction | None, bool]:
    if a.hi is None:
        return b.hi, b.hi_closed
    if b.hi is None or a.hi < b.hi:
        return a.hi, a.hi_closed
    if b.hi < a.hi:
        return b.hi, b.hi_closed
    return a.hi, a.hi_closed and b.hi_closed


def intersect(a: Interval, b: Interval) -> Interval:
    lo, lo_closed = _lower(a, b)
    hi, hi_closed = _upper(a, b)
    return Interval(lo, hi, lo_closed, hi_closed)


def hull(a: Interval, b: Interval) -> Interval:
    if a.empty:
        return b
    if b.empty:
        return a
    if a.lo is None or b.lo is None:
        lo, lo_closed = None, True
    elif a.lo != b.lo:
        lo, lo_closed = (a.lo, a.lo_closed) if a.lo < b.lo else (b.lo, b.lo_closed)
    else:
        lo, lo_closed = a.lo, a.lo_closed or b.lo_closed
    if a.hi is None or b.hi is None:
        hi, hi_closed = None, True
    elif a.hi != b.hi:
        hi, hi_closed = (a.hi, a.hi_closed) if a.hi > b.hi else (b.hi, b.hi_closed)
    else:
        hi, hi_closed = a.hi, a.hi_closed or b.hi_closed
    return Interval(lo, hi, lo_closed, hi_closed)


def neg(a: Interval) -> Interval:
    return Interval(None if a.hi is None else -a.hi, None if a.lo is None else -a.lo, a.hi_closed, a.lo_closed)


def add(a: Interval, b: Interval) -> Interval:
    lo = None if a.lo is None or b.lo is None else a.lo + b.lo
    hi = None if a.hi is None or b.hi is None else a.hi + b.hi
    return Interval(lo, hi, a.lo_closed and b.lo_closed, a.hi_closed and b.hi_closed)


def sub(a: Interval, b: Interval) -> Interval:
    return add(a, neg(b))


def _end(value: Fraction | None, low: bool) -> Fraction | float:
    return (-math.inf if low else math.inf) if value is None else value


def _times(x: Fraction | float, y: Fraction | float) -> Fraction | float:
    if x == 0 or y == 0:
        return Fraction(0)  # 0 x infinity: the finite side is exactly 0
    return x * y


def _from_extended(lo: Any, lo_closed: bool, hi: Any, hi_closed: bool) -> Interval:
    return Interval(
        None if lo == -math.inf else lo,
        None if hi == math.inf else hi,
        lo_closed or lo == -math.inf,
        hi_closed or hi == math.inf,
    )


def mul(a: Interval, b: Interval) -> Interval:
    if a.empty or b.empty:
        return Interval(Fraction(1), Fraction(0))
    candidates = [
        (_times(x, y), xc and yc)
        for x, xc in ((_end(a.lo, True), a.lo_closed), (_end(a.hi, False), a.hi_closed))
        for y, yc in ((_end(b.lo, True), b.lo_closed), (_end(b.hi, False), b.hi_closed))
    ]
    lo = min(v for v, _ in candidates)
    hi = max(v for v, _ in candidates)
    return _from_extended(lo, any(c for v, c in candidates if v == lo), hi, any(c for v, c in candidates if v == hi))


def div(a: Interval, b: Interval) -> Interval:
    """a / b; unbounded when b may be zero."""
    if b.hi is not None and (b.hi < 0 or (b.hi == 0 and not b.hi_closed)):
        return neg(div(a, neg(b)))
    if b.lo is None or b.lo < 0 or (b.lo == 0 and b.lo_closed):
        return EVERYTHING
    # b lies in (0, inf): 1/b lies in [1/hi, 1/lo]
    reciprocal_lo = Fraction(0) if b.hi is None else 1 / b.hi
    reciprocal = _from_extended(
        reciprocal_lo, b.hi is not None and b.hi_closed, math.inf if b.lo == 0 else 1 / b.lo, b.lo != 0 and b.lo_closed
    )
    return mul(a, reciprocal)


def clamp(a: Interval, low: Interval, high: Interval) -> Interval:
    lo_bound = Interval(low.lo, None, low.lo_closed, True)
    hi_bound = Interval(None, high.hi, True, high.hi_closed)
    result = intersect(hull(a, Interval(low.lo, low.lo)) if low.lo is not None else a, hi_bound)
    result = intersect(hull(result, Interval(high.hi, high.hi)) if high.hi is not None else result, lo_bound)
    return intersect(result, Interval(low.lo, high.hi, low.lo_closed, high.hi_closed))


def minimum(a: Interval, b: Interval) -> Interval:
    lo = None if a.lo is None or b.lo is None else min(a.lo, b.lo)
    hi = b.hi if a.hi is None else a.hi if b.hi is None else min(a.hi, b.hi)
    return Interval(lo, hi)


def maximum(a: Interval, b: Interval) -> Interval:
    lo = b.lo if a.lo is None else a.lo if b.lo is None else max(a.lo, b.lo)
    hi = None if a.hi is None or b.hi is None else max(a.hi, b.hi)
    return Interval(lo, hi)
