"""A chunk of records as columns: what the columnar evaluator reads.

Why a type of its own: JSON records (decoded by kernel.decode_pairs) and Arrow record batches
(engine.evaluate.columnar_io) arrive in different shapes; both become one Frame, so the evaluator
knows nothing of files. A record the kernel would not accept as it stands (a wrong type, a
missing or unknown field, a bound not met, a number too long) is marked in `refused` while
reading, exactly as kernel._Gen.validate_value decides, and goes to the scalar path, which
explains it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from engine.evaluate.columns.pairs import Pairs
from engine.evaluate.records import MAX_ID_LENGTH, MAX_LIST_ITEMS, MAX_TEXT_LENGTH, RECORD_META, _is_period
from engine.policy.model import InputSpec, Policy

#: Integers the kernel accepts (engine.numbers' limit on a record's numbers).
MAX_INPUT = 10**15


class NotColumnar(Exception):
    """The policy's inputs have a shape the columnar reader does not handle (the reason)."""


@dataclass
class Leaf:
    """One input field over the rows (or items) of a frame: `there` where it has a value (not
    absent, not null); numbers as pairs, text and booleans as arrays."""

    kind: str  # num | text | bool | rec | list
    there: np.ndarray
    pairs: Pairs | None = None
    values: np.ndarray | None = None


@dataclass
class Frame:
    size: int
    refused: np.ndarray
    ids: list
    leaves: dict[tuple, Leaf] = field(default_factory=dict)
    #: list input -> offsets (size + 1) into its items; item leaves are under (name, "@", ...)
    offsets: dict[str, np.ndarray] = field(default_factory=dict)


def check_inputs(policy: Policy) -> None:
    """Raise NotColumnar when an input has a shape the frame does not represent."""
    for spec in policy.inputs.values():
        _check_spec(spec, top=True)


def _check_spec(spec: InputSpec, top: bool = False, in_list: bool = False) -> None:
    if spec.has_default and (
        isinstance(spec.default, list)
        or isinstance(spec.default, Fraction)
        and not (spec.type == "integer" and spec.default.denominator == 1)
    ):
        raise NotColumnar(f"the default of '{spec.name}'")  # as the kernel: a number would need a pair
    if spec.type == "record":
        for child in spec.fields.values():
            _check_spec(child, in_list=in_list)
    elif spec.type == "list":
        if not top or spec.items is None or spec.items.type != "record" or spec.items.null == "not_applicable":
            raise NotColumnar(f"the list '{spec.name}'")
        for child in spec.items.fields.values():
            if child.type == "list":
                raise NotColumnar("lists in lists")
            _check_spec(child, in_list=True)
    elif spec.type not in ("number", "integer", "text", "boolean"):
        raise NotColumnar(f"inputs of type {spec.type}")


class _Absent:
    __slots__ = ()


ABSENT = _Absent()
_BAD = (0, 0)
_ABSENT_PAIR = (0, -1)
_NULL_PAIR = (0, -2)


def _pair_of(v):
    cls = v.__class__
    if cls is tuple:
        return v
    if cls is int:
        return (v, 1) if -MAX_INPUT <= v <= MAX_INPUT else _BAD
    if v is ABSENT:
        return _ABSENT_PAIR
    if v is None:
        return _NULL_PAIR
    return _BAD


def number_bounds(spec: InputSpec, p: Pairs, ok: np.ndarray) -> np.ndarray:
    """ok, less the rows whose number breaks the spec's bounds or enum (the kernel's tests)."""
    with np.errstate(over="ignore"):
        for bound, op in (
            (spec.minimum, np.greater_equal),
            (spec.maximum, np.less_equal),
            (spec.exclusive_minimum, np.greater),
            (spec.exclusive_maximum, np.less),
        ):
            if bound is not None:
                ok = ok & op(p.n * bound.denominator, bound.numerator * p.d)
        if spec.type == "integer":
            lows = [b for b in (spec.minimum, spec.exclusive_minimum) if b is not None and b.denominator == 1]
            highs = [b for b in (spec.maximum, spec.exclusive_maximum) if b is not None and b.denominator == 1]
            ok = (
                ok
                & (p.n >= max([int(b) for b in lows] + [-MAX_INPUT]))
                & (p.n <= min([int(b) for b in highs] + [MAX_INPUT]))
            )
        if spec.enum is not None:
            allowed = [v for v in spec.enum if isinstance(v, Fraction)]
            member = np.zeros_like(ok)
            for v in allowed:
                member |= p.n * v.denominator == v.numerator * p.d
            ok = ok & member
    return ok


def from_records(policy: Policy, records: list) -> Frame:
    """A Frame of records as kernel.decode_pairs reads them (numbers as (n, d) tuples or ints)."""
    size = len(records)
    is_dict = np.fromiter((r.__class__ is dict for r in records), dtype=bool, count=size)
    rows = [r if r.__class__ is dict else {} for r in records]
    known = frozenset([*policy.inputs, *RECORD_META])
    refused = ~is_dict | ~np.fromiter((known.issuperset(r) for r in rows), dtype=bool, count=size)
    if "periode" not in policy.inputs:
        refused |= np.fromiter(("periode" in r and not _is_period(r["periode"]) for r in rows), dtype=bool, count=size)
    ids = [r.get("id") for r in rows]
    refused |= ~np.fromiter(
        (x is None and "id" not in r or _good_id(x) for x, r in zip(ids, rows)), dtype=bool, count=size
    )
    frame = Frame(size, refused, ids)
    owner = np.arange(size)
    for spec in policy.inputs.values():
        _read(frame, spec, [r.get(spec.name, ABSENT) for r in rows], (spec.name,), owner, np.ones(size, dtype=bool))
    return frame


def _good_id(x) -> bool:
    return (x.__class__ is str and 0 < len(x) <= MAX_ID_LENGTH and "\x00" not in x) or (
        x.__class__ is int and len(str(x)) <= MAX_ID_LENGTH
    )


def _presence(frame: Frame, spec: InputSpec, values: list, owner: np.ndarray, checked: np.ndarray) -> np.ndarray:
    """Refuse rows whose field is absent or null where the spec forbids it; True where it has a value."""
    codes = np.fromiter((1 if v is ABSENT else 2 if v is None else 0 for v in values), dtype=np.int8, count=len(values))
    absent, null = codes == 1, codes == 2
    wrong = np.zeros(len(values), dtype=bool)
    if spec.required:
        wrong |= absent
    if spec.null != "not_applicable":
        wrong |= null
    _refuse(frame, wrong & checked, owner)
    return ~absent & ~null & checked


def _refuse(frame: Frame, wrong: np.ndarray, owner: np.ndarray) -> None:
    if wrong.any():
        frame.refused[owner[wrong]] = True


def _read(frame: Frame, spec: InputSpec, values: list, path: tuple, owner: np.ndarray, checked: np.ndarray) -> None:
    """Read one field over the elements (rows or items) whose holder is there (`checked`). An
    absent field with a default reads as the default, unchecked (as the kernel reads it)."""
    if spec.has_default:
        default = int(spec.default) if isinstance(spec.default, Fraction) else spec.default
        values = [default if v is ABSENT else v for v in values]
    there = _presence(frame, spec, values, owner, checked)
    kind = spec.type
    if kind in ("number", "integer"):
        pairs = [v if v.__class__ is tuple else (v, 1) if v.__class__ is int else _pair_of(v) for v in values]
        try:
            raw = np.array(pairs, dtype=np.int64).reshape(len(values), 2)
        except OverflowError:  # an int beyond int64: checked one by one
            raw = np.array([_pair_of(v) for v in values], dtype=np.int64).reshape(len(values), 2)
        if kind == "integer":
            is_int = np.fromiter((v.__class__ is int for v in values), dtype=bool, count=len(values))
            raw[~is_int & there] = _BAD
        p = Pairs(np.ascontiguousarray(raw[:, 0]), np.ascontiguousarray(raw[:, 1]))
        ok = (p.d > 0) & ((p.d != 1) | (np.abs(p.n) <= MAX_INPUT))  # an int within the kernel's limit
        ok = number_bounds(spec, p, ok)
        _refuse(frame, there & ~ok, owner)
        p.d = np.where(there & ok, p.d, 1)
        p.n = np.where(there & ok, p.n, 0)
        frame.leaves[path] = Leaf("num", there, pairs=p)
    elif kind == "text":
        allowed = frozenset(v for v in spec.enum if isinstance(v, str)) if spec.enum is not None else None
        ok = np.fromiter(
            (v.__class__ is str and len(v) <= MAX_TEXT_LENGTH and (allowed is None or v in allowed) for v in values),
            dtype=bool,
            count=len(values),
        )
        _refuse(frame, there & ~ok, owner)
        arr = np.empty(len(values), dtype=object)
        arr[:] = values
        arr[~(there & ok)] = ""
        frame.leaves[path] = Leaf("text", there, values=arr)
    elif kind == "boolean":
        ok = np.fromiter((v is True or v is False for v in values), dtype=bool, count=len(values))
        _refuse(frame, there & ~ok, owner)
        frame.leaves[path] = Leaf(
            "bool", there, values=np.fromiter((v is True for v in values), dtype=bool, count=len(values))
        )
    elif kind == "record":
        ok = np.fromiter((v.__class__ is dict for v in values), dtype=bool, count=len(values))
        names = frozenset(spec.fields)
        ok &= np.fromiter((v.__class__ is dict and names.issuperset(v) for v in values), dtype=bool, count=len(values))
        _refuse(frame, there & ~ok, owner)
        frame.leaves[path] = Leaf("rec", there & ok)
        inner = [v if v.__class__ is dict else {} for v in values]
        for child in spec.fields.values():
            _read(frame, child, [d.get(child.name, ABSENT) for d in inner], path + (child.name,), owner, there & ok)
    elif kind == "list":
        high = spec.max_items if spec.max_items is not None else MAX_LIST_ITEMS
        low = spec.min_items or 0
        lists = [v if v.__class__ is list else [] for v in values]
        lengths = np.fromiter((len(v) for v in lists), dtype=np.int64, count=len(values))
        ok = np.fromiter((v.__class__ is list for v in values), dtype=bool, count=len(values))
        ok &= (lengths >= low) & (lengths <= high)
        _refuse(frame, there & ~ok, owner)
        lengths = np.where(there & ok, lengths, 0)
        offsets = np.zeros(len(values) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        frame.offsets[spec.name] = offsets
        frame.leaves[path] = Leaf("list", there & ok)
        items = [item for v, keep in zip(lists, (there & ok).tolist()) if keep for item in v]
        item_owner = np.repeat(owner, lengths)
        item_spec = spec.items
        ok_items = np.fromiter((i.__class__ is dict for i in items), dtype=bool, count=len(items))
        names = frozenset(item_spec.fields)
        ok_items &= np.fromiter(
            (i.__class__ is dict and names.issuperset(i) for i in items), dtype=bool, count=len(items)
        )
        _refuse(frame, ~ok_items, item_owner)
        inner = [i if i.__class__ is dict else {} for i in items]
        for child in item_spec.fields.values():
            _read(
                frame,
                child,
                [d.get(child.name, ABSENT) for d in inner],
                (spec.name, "@", child.name),
                item_owner,
                ok_items,
            )


def ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """starts[0]..ends[0]-1, starts[1]..ends[1]-1, ... as one array, without a loop per record."""
    lengths = (ends - starts).astype(np.int64)
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    before = np.cumsum(lengths) - lengths  # where each record's items begin in the result
    return (np.repeat(starts.astype(np.int64) - before, lengths) + np.arange(total, dtype=np.int64)).astype(np.int64)
