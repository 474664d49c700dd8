"""Exact numbers in columns: each value a pair of NumPy int64 arrays (numerator, denominator > 0).

Why: the per-record kernel (engine.evaluate.kernel) spends its time in the interpreter, not in
arithmetic. Here one NumPy operation serves a whole chunk of records, and it stays exact: + - x /
and comparisons are integer cross-multiplications, rounding is integer division. int64 can
overflow, so every product is first bounded: when the largest magnitudes of both operands prove
it safe (the usual case) nothing more is done, otherwise each row's product is estimated in
float64 and a row that could pass LIMIT is marked untrusted (it goes to the exact scalar path,
never approximated). Every stored magnitude stays below LIMIT, so a sum never overflows either.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.numbers import AUDIT_PLACES, RoundingMode

#: Every numerator and denominator kept in a column is below this in magnitude (int64 max is 2^63 - 1).
LIMIT = 1 << 62
#: Denominators above this are reduced by their gcd with the numerator (keeps products small).
REDUCE_ABOVE = 1 << 31
_FLIMIT = float(LIMIT)


@dataclass
class Pairs:
    """A number column: numerators n and positive denominators d (arrays of one length, or
    NumPy scalars for a constant)."""

    n: np.ndarray
    d: np.ndarray


def constant(numerator: int, denominator: int = 1) -> Pairs:
    return Pairs(np.int64(numerator), np.int64(denominator))


def fits(value: int) -> bool:
    return -LIMIT < value < LIMIT


def _maxabs(x) -> int:
    if np.ndim(x) == 0:
        return abs(int(x))
    return int(np.abs(x).max()) if x.size else 0


class Guard:
    """Collects the rows an operation cannot trust (overflow, division by zero, no table row):
    `fail(mask)` marks them, but only those in `active` (the rows whose path reaches here)."""

    def __init__(self, size: int):
        self.size = size
        self.failed = np.zeros(size, dtype=bool)
        self.active = np.ones(size, dtype=bool)

    def fail(self, mask) -> None:
        if np.ndim(mask) == 0:
            if mask:
                self.failed |= self.active
            return
        self.failed |= mask & self.active


def mul_int(a, b, guard: Guard):
    """a * b for int64 arrays or scalars; a row whose product could leave (-LIMIT, LIMIT) is
    failed and gets 0 (a harmless placeholder)."""
    if _maxabs(a) * _maxabs(b) < LIMIT:
        return a * b
    risk = np.abs(np.asarray(a, dtype=np.float64) * np.asarray(b, dtype=np.float64)) >= _FLIMIT / 2
    guard.fail(risk)
    if np.ndim(risk) == 0:
        return np.int64(0) if risk else a * b
    return np.where(risk, 0, a) * np.where(risk, 0, b)


def _checked(x, guard: Guard):
    """A sum of two values below LIMIT: within int64, and failed where it reaches LIMIT."""
    if _maxabs(x) < LIMIT:
        return x
    risk = np.abs(x) >= LIMIT
    guard.fail(risk)
    return np.where(risk, 0, x)


def _reduce(n, d):
    if np.ndim(d) == 0 or not d.size or int(d.max()) <= REDUCE_ABOVE:
        return Pairs(n, d)
    g = np.gcd(n, d)
    g = np.where(g == 0, 1, g)
    return Pairs(n // g, d // g)


def add(a: Pairs, b: Pairs, guard: Guard, sign: int = 1) -> Pairs:
    bn = b.n if sign > 0 else -b.n
    if (
        np.ndim(a.d) == 0
        and np.ndim(b.d) == 0
        and int(a.d) == int(b.d)
        or np.ndim(a.d) == np.ndim(b.d)
        and np.array_equal(a.d, b.d)
    ):
        return Pairs(_checked(a.n + bn, guard), a.d)
    left, right = mul_int(a.n, b.d, guard), mul_int(bn, a.d, guard)
    return _reduce(_checked(left + right, guard), mul_int(a.d, b.d, guard))


def mul(a: Pairs, b: Pairs, guard: Guard) -> Pairs:
    return _reduce(mul_int(a.n, b.n, guard), mul_int(a.d, b.d, guard))


def div(a: Pairs, b: Pairs, guard: Guard) -> Pairs:
    """a / b; a row dividing by zero is failed (the exact path reports it)."""
    zero = b.n == 0
    guard.fail(zero)
    bn = np.where(zero, 1, b.n) if np.ndim(zero) else (np.int64(1) if zero else b.n)
    n, d = mul_int(a.n, b.d, guard), mul_int(a.d, bn, guard)
    negative = d < 0
    return (
        _reduce(np.where(negative, -n, n), np.where(negative, -d, d))
        if np.ndim(negative) or negative
        else _reduce(n, d)
    )


def compare(a: Pairs, b: Pairs, op: str, guard: Guard):
    left, right = mul_int(a.n, b.d, guard), mul_int(b.n, a.d, guard)
    return {
        "==": np.equal,
        "!=": np.not_equal,
        "<": np.less,
        "<=": np.less_equal,
        ">": np.greater,
        ">=": np.greater_equal,
    }[op](left, right)


def select(mask, a: Pairs, b: Pairs) -> Pairs:
    """Where mask, a; else b."""
    return Pairs(np.where(mask, a.n, b.n), np.where(mask, a.d, b.d))


def floor(a: Pairs) -> Pairs:
    return Pairs(a.n // a.d, np.int64(1))


def ceil(a: Pairs) -> Pairs:
    return Pairs(-((-a.n) // a.d), np.int64(1))


def round_to(a: Pairs, places: int, mode: RoundingMode, guard: Guard) -> Pairs:
    """Exactly numbers.round_to (and kernel._round): q / 10^places."""
    scale = 10**places
    scaled = mul_int(a.n, np.int64(scale), guard)
    q, r = np.floor_divide(scaled, a.d), np.remainder(scaled, a.d)
    inexact = r != 0
    if mode is RoundingMode.FLOOR:
        up = np.zeros_like(inexact)
    elif mode is RoundingMode.CEILING:
        up = inexact
    elif mode is RoundingMode.DOWN:
        up = inexact & (a.n < 0)
    elif mode is RoundingMode.UP:
        up = inexact & (a.n > 0)
    else:
        twice = 2 * r
        tie = twice == a.d
        if mode is RoundingMode.HALF_UP:
            tie_up = a.n > 0
        elif mode is RoundingMode.HALF_DOWN:
            tie_up = a.n < 0
        else:
            tie_up = (q % 2) == 1
        up = inexact & ((twice > a.d) | tie & tie_up)
    return Pairs(q + up, np.int64(scale))


def full(p: Pairs, size: int) -> Pairs:
    return Pairs(
        np.broadcast_to(p.n, (size,)).astype(np.int64, copy=False),
        np.broadcast_to(p.d, (size,)).astype(np.int64, copy=False),
    )


# Formatting, as the scalar kernel writes numbers (kernel._json_number, kernel._audit) --------------

_MAX_SHOWN = 10**15
_AUDIT_SCALE = 10**AUDIT_PLACES


def json_numbers(q: np.ndarray, scale: int) -> list:
    """kernel._json_number(k, scale) for every k in q: ints when whole, floats whose shortest repr
    is the exact decimal (at most 15 digits, not below 0.0001), else Decimals written out."""
    from engine.evaluate.kernel.helpers import json_number as _json_number

    q = np.asarray(q, dtype=np.int64)
    out = np.empty(q.shape[0], dtype=object)
    whole = q % scale == 0
    shown = ~whole & (np.abs(q) < _MAX_SHOWN) & (np.abs(q) * 10000 >= scale)  # |q| < 1e15: no overflow
    out[whole] = (q[whole] // scale).tolist()
    out[shown] = (q[shown] / scale).tolist()  # correctly rounded: exact k, exact 10^p, one IEEE division
    for index in np.flatnonzero(~whole & ~shown).tolist():
        out[index] = _json_number(int(q[index]), scale)
    return out.tolist()


def audit_numbers(n: np.ndarray, d: np.ndarray) -> list:
    """kernel._audit for every pair: terminating decimals digit for digit, others half-even to
    AUDIT_PLACES. The common case in bulk; a pair too large for int64 steps, or one that
    terminates beyond AUDIT_PLACES, element by element through the kernel's own function."""
    from engine.evaluate.kernel.helpers import audit as _audit
    from engine.evaluate.kernel.helpers import json_number as _json_number

    n, d = np.asarray(n, dtype=np.int64), np.asarray(d, dtype=np.int64)
    out = np.empty(n.shape[0], dtype=object)
    whole = d == 1
    out[whole] = n[whole].tolist()
    q0 = np.floor_divide(n, d)
    r0 = n - q0 * d
    easy = ~whole & (d < 900_000_000) & (np.abs(q0) < 900_000_000)
    safe_r = np.where(easy, r0, 0) * _AUDIT_SCALE
    frac, rest = np.floor_divide(safe_r, np.where(easy, d, 1)), np.remainder(safe_r, np.where(easy, d, 1))
    q = np.where(easy, q0, 0) * _AUDIT_SCALE + frac
    inexact = easy & (rest != 0)
    if inexact.any():
        reduced = d // np.gcd(n, d)
        for prime in (2, 5):
            while True:
                divisible = inexact & (reduced % prime == 0)
                if not divisible.any():
                    break
                reduced = np.where(divisible, reduced // prime, reduced)
        terminating = inexact & (reduced == 1)
        easy &= ~terminating  # more places than AUDIT_PLACES: every digit, by the kernel
        q = q + (inexact & (2 * rest > d))  # never a tie: a value that does not terminate has no midpoint
    exact_int = easy & (q % _AUDIT_SCALE == 0)
    shown = easy & ~exact_int & (np.abs(q) < _MAX_SHOWN) & (np.abs(q) * 10000 >= _AUDIT_SCALE)
    out[exact_int] = (q[exact_int] // _AUDIT_SCALE).tolist()
    out[shown] = (q[shown] / _AUDIT_SCALE).tolist()
    for index in np.flatnonzero(easy & ~exact_int & ~shown).tolist():
        out[index] = _json_number(int(q[index]), _AUDIT_SCALE)
    for index in np.flatnonzero(~whole & ~easy).tolist():
        out[index] = _audit(int(n[index]), int(d[index]))
    return out.tolist()
