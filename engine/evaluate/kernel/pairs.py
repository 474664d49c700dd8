"""Records as the kernel reads them: JSON whose non-integer numbers are exact (numerator,
denominator) pairs, never Decimals or floats, so the kernel starts from integers."""

from __future__ import annotations

from math import gcd
from typing import Any

import msgspec


class Absent:
    """The marker of an absent field in generated code (one instance, `ABSENT`, named `_M` there)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "_M"


ABSENT = Absent()


class Long:
    """A number too long for the kernel (more than 16 characters, or an exponent): the kernel
    refuses it, and engine.evaluate.io's exact reading applies the limits of engine.numbers to it."""

    __slots__ = ()


LONG = Long()

Pair = tuple[int, int]


class _Pairs(dict[str, "Pair | Long"]):
    """Decimal text -> (numerator, denominator), reduced: the JSON decoder's float hook. A bounded
    cache, since the numbers of a file repeat (targets, scores, two-place realisasi)."""

    def __missing__(self, text: str) -> Pair | Long:
        if len(self) >= 1 << 16:
            self.clear()
        point = text.find(".")
        pair: Pair | Long
        if len(text) > 16 or point < 0 or "e" in text or "E" in text:
            pair = LONG
        else:
            scale = 10 ** (len(text) - point - 1)
            numerator = int(text[:point] + text[point + 1 :])
            g = gcd(numerator, scale)
            pair = (numerator // g, scale // g)
        self[text] = pair
        return pair


_pair_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(float_hook=_Pairs().__getitem__)


def decode_pairs(raw: bytes) -> Any:
    """JSON for the kernel: its non-integer numbers as exact (numerator, denominator) pairs,
    never Decimals or floats (a long one as LONG). None when the JSON does not decode: then
    engine.evaluate.io.decode_json says where and why."""
    try:
        return _pair_decoder.decode(raw)
    except (msgspec.DecodeError, RecursionError, ValueError):
        return None
