"""What the generated kernel calls at run time, and the namespace it runs in.

Few helpers: a call costs more than inline code, so only rounding, the audit copy of values and
the reading of a range target are calls. The namespace has no builtins beyond a few pure ones.
"""

from __future__ import annotations

from decimal import Decimal
from math import gcd
from typing import Any

from engine.evaluate.kernel.pairs import ABSENT, Pair
from engine.evaluate.records import _is_period
from engine.numbers import AUDIT_PLACES, RoundingMode

#: Numbers whose shortest float repr is their exact decimal: at most 15 significant digits.
_MAX_SHOWN = 10**15
_AUDIT_SCALE: int = 10**AUDIT_PLACES

#: A number as a result shows it: an int when whole, else a float whose repr is its exact decimal,
#: else a Decimal.
Shown = int | float | Decimal


class Fallback(Exception):
    """This record needs the exact evaluator (it has a problem to report, or is unusual)."""


def round_pair(num: int, den: int, places: int, mode: RoundingMode) -> Pair:
    """Exactly numbers.round_to, on a pair (the mode may be its name, as the registry writes it)."""
    if mode.__class__ is str:
        mode = RoundingMode(mode)
    scale = 10**places
    q, r = divmod(num * scale, den)  # floor; 0 <= r < den
    if r:
        if mode is RoundingMode.FLOOR:
            pass
        elif mode is RoundingMode.CEILING:
            q += 1
        elif mode is RoundingMode.DOWN:
            q += num < 0
        elif mode is RoundingMode.UP:
            q += num > 0
        else:
            twice = 2 * r
            if (
                twice > den
                or twice == den
                and (
                    mode is RoundingMode.HALF_UP
                    and num > 0
                    or mode is RoundingMode.HALF_DOWN
                    and num < 0
                    or mode is RoundingMode.HALF_EVEN
                    and q % 2
                )
            ):
                q += 1
    return q, scale


def ratio(x: Any) -> Pair:
    """An int, a pair or a Decimal of the record as (numerator, denominator)."""
    if x.__class__ is tuple:
        return x
    return (x, 1) if x.__class__ is int else x.as_integer_ratio()


def json_number(k: int, scale: int) -> Shown:
    """k / scale as the result shows it: an int when whole, else a float whose shortest repr is
    exactly that decimal (at most 15 digits, not below 0.0001), else a Decimal written out."""
    if k % scale == 0:
        return k // scale
    if abs(k) < _MAX_SHOWN and abs(k) * 10000 >= scale:
        return k / scale  # correctly rounded, and repr() gives the decimal back
    places = len(str(scale)) - 1
    digits = str(abs(k)).rjust(places + 1, "0")
    return Decimal(("-" if k < 0 else "") + (digits[:-places] + "." + digits[-places:]).rstrip("0"))


def out(num: int, den: int, places: int, mode: RoundingMode) -> Shown:
    """An output, rounded as the policy says."""
    return json_number(*round_pair(num, den, places, mode))


def shown(num: int, den: int) -> Shown:
    """The audit copy of a value, as numbers.to_decimal writes it: digit for digit when it has a
    finite decimal form, else rounded half-even to AUDIT_PLACES."""
    if den == 1:
        return num
    g = gcd(num, den)
    if g != 1:
        num //= g
        den //= g
        if den == 1:
            return num
    rest, twos, fives = den, 0, 0
    while not rest & 1:
        rest >>= 1
        twos += 1
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    if rest != 1:
        return json_number(*round_pair(num, den, AUDIT_PLACES, RoundingMode.HALF_EVEN))
    scale = 10 ** max(twos, fives)
    return json_number(num * scale // den, scale)


def audit(num: int, den: int) -> Shown:
    """`shown`, with the common cases first: whole, at most AUDIT_PLACES places, not terminating."""
    if den == 1:
        return num
    q, r = divmod(num * _AUDIT_SCALE, den)
    if r:
        if num * pow(10, den.bit_length(), den) % den == 0:
            return shown(num, den)  # terminates, with more places than AUDIT_PLACES: every digit
        if 2 * r > den:  # never a tie: a value that does not terminate has no midpoint
            q += 1
    if q % _AUDIT_SCALE == 0:
        return q // _AUDIT_SCALE
    if -_MAX_SHOWN < q < _MAX_SHOWN and abs(q) * 10000 >= _AUDIT_SCALE:
        return q / _AUDIT_SCALE
    return json_number(q, _AUDIT_SCALE)


class _Audited(dict[Pair, Shown]):
    """(numerator, denominator) -> audit of it: a bounded cache, since values repeat (100, 76)."""

    def __missing__(self, pair: Pair) -> Shown:
        if len(self) >= 1 << 16:
            self.clear()
        found = self[pair] = audit(*pair)
        return found


_audited = _Audited().__getitem__


def values_of(memo: dict[str, Any], item_memos: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Every value computed, in the exact evaluator's order (api.collect_values)."""
    values: dict[str, Any] = {}
    for name, found in memo.items():
        values[name] = (found[0] if found[1] == 1 else _audited(found)) if found.__class__ is tuple else found
    for list_name in sorted(item_memos):
        memos = item_memos[list_name]
        if any(memos):
            values[list_name] = [
                {k: (f[0] if f[1] == 1 else _audited(f)) if f.__class__ is tuple else f for k, f in m.items()}
                for m in memos
            ]
    return values


_BUILTINS = {
    "abs": abs,
    "len": len,
    "str": str,
    "int": int,
    "tuple": tuple,
    "any": any,
    "all": all,
    "zip": zip,
    "dict": dict,
    "list": list,
    "enumerate": enumerate,
}


def namespace(constants: dict[str, object]) -> dict[str, object]:
    """The globals of the generated module: the helpers under the names the generator writes."""
    return {
        "Fallback": Fallback,
        "_M": ABSENT,
        "Decimal": Decimal,
        "gcd": gcd,
        "_gcd": gcd,
        "_round": round_pair,
        "_ratio": ratio,
        "_is_period": _is_period,
        "_out": out,
        "__builtins__": _BUILTINS,
        **constants,
    }
