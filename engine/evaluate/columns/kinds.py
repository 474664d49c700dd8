"""The columnar evaluator's own types: values over rows or items, named-value entries, levels, and
the segment reductions that turn items into records (shared by evaluator and decisions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from engine.evaluate.columns import pairs as P
from engine.policy.names import Context

_NEVER = np.iinfo(np.int64).max


class Unsupported(Exception):
    """The columnar evaluator does not handle a construct of this policy (the reason)."""


ROW = None  # the level of a record; a list input's name is the level of its items


@dataclass
class Val:
    kind: str  # num | text | bool | maybe | rec | list
    pairs: P.Pairs | None = None
    values: object = None  # text: object array; bool: bool array; maybe: presence array
    spec: object = None
    path: tuple | None = None


@dataclass
class Entry:
    """A named value computed once over every row (or item) of its level: its result, the rows
    where computing it fails, and what its computation used (events relative to it)."""

    val: Val
    failed: np.ndarray
    events: list


@dataclass
class Level:
    """Where an expression is evaluated: over rows, or over the items of one list input."""

    name: str | None
    guard: P.Guard
    locals: dict = field(default_factory=dict)  # aggregate variable -> list name
    names: Context = field(default_factory=Context)
    scope: str | None = None  # the list whose item values are in reach unqualified


def _literal_pairs(value: Fraction) -> P.Pairs:
    if not (P.fits(value.numerator) and P.fits(value.denominator)):
        raise Unsupported(f"the number {value} is too large for int64 columns")
    return P.constant(value.numerator, value.denominator)


def _ops(op: str):
    return {
        "==": np.equal,
        "!=": np.not_equal,
        "<": np.less,
        "<=": np.less_equal,
        ">": np.greater,
        ">=": np.greater_equal,
    }[op]


def segment_sum(x: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    return segment_reduce(np.add, x, offsets, 0)


def segment_reduce(ufunc, x: np.ndarray, offsets: np.ndarray, empty):
    """ufunc.reduceat over each record's items [offsets[i], offsets[i+1]); `empty` for none.
    Only the non-empty segments are given to reduceat: its starts then rise strictly, and each
    segment runs to the next one's start (reduceat gives x[start] for an empty one)."""
    x = np.asarray(x)
    out = np.full(len(offsets) - 1, empty, dtype=x.dtype)
    nonempty = offsets[1:] > offsets[:-1]
    if nonempty.any():
        out[nonempty] = ufunc.reduceat(x, offsets[:-1][nonempty])
    return out


def segment_lcm(d: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    return segment_reduce(np.lcm, d, offsets, 1)
