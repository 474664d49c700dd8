"""Results of a columnar run as the scalar kernel writes them: outputs and audit values per record.

Why here: the numbers are formatted in bulk (pairs.json_numbers, pairs.audit_numbers); only the
final dict of each record is built one by one. Which values a record lists, and in which order,
comes from the run's events: a value is in a record's `values` when the walk used it on that
record's path, placed by its first use, as the kernel's memo fills (kernel._values).
"""

from __future__ import annotations

import numpy as np

from engine.evaluate.columns import pairs as P
from engine.evaluate.columns.evaluator import ROW, Run
from engine.evaluate.columns.frame import ranges

_NEVER = np.iinfo(np.int64).max


def _first_uses(linear: list, run: Run, level, keys: list, index: np.ndarray) -> np.ndarray:
    """(elements of `index`) x keys: when each key was first used, or _NEVER."""
    column = {key: j for j, key in enumerate(keys)}
    first = np.full((len(index), len(keys)), _NEVER, dtype=np.int64)
    size = run.length(level)
    for key, key_level, seen, when in linear:
        if key_level != level:
            continue
        seen = np.broadcast_to(seen, (size,))[index]
        when = np.broadcast_to(when, (size,))[index]
        j = column[key]
        first[:, j] = np.minimum(first[:, j], np.where(seen, when, _NEVER))
    return first


def _patterns(first: np.ndarray, keys: list) -> tuple[list[list], np.ndarray]:
    """The distinct orders of present keys, and each element's pattern number."""
    if not keys or not len(first):
        return [[]], np.zeros(len(first), dtype=np.int64)
    order = np.argsort(first, axis=1, kind="stable")
    present = np.take_along_axis(first, order, axis=1) != _NEVER
    shape = np.where(present, order, -1)
    width = len(keys) + 1
    if width ** len(keys) < 2**62:  # each row's pattern as one integer: sorting those is cheap
        code = (shape + 1) @ (width ** np.arange(len(keys), dtype=np.int64))
        _codes, first_at, inverse = np.unique(code, return_index=True, return_inverse=True)
        unique = shape[first_at]
    else:  # np.unique over rows sorts them as records: correct, slower
        unique, inverse = np.unique(shape, axis=0, return_inverse=True)
    return [[keys[j] for j in row if j >= 0] for row in unique.tolist()], inverse.reshape(-1)


def _shown(run: Run, key, index: np.ndarray) -> list:
    val = run.cache[key].val
    if val.kind == "num":
        return P.audit_numbers(val.pairs.n[index], val.pairs.d[index])
    return np.asarray(val.values)[index].tolist()


def _ordered_keys(linear: list, level) -> list:
    keys: dict = {}
    for key, key_level, _seen, _when in linear:
        if key_level == level:
            keys.setdefault(key, None)
    return list(keys)


def build(run: Run, rows: np.ndarray, ref: dict, with_values: bool = True) -> list[dict]:
    """The result dict of each row in `rows` (trusted rows of the run), as kernel.try_fast gives it."""
    names, shown, there = [], [], []
    for name, (val, when) in run.outputs.items():
        if val.kind == "num":
            column = P.json_numbers(np.broadcast_to(val.pairs.n, (run.size,))[rows], int(val.pairs.d))
        else:
            column = np.broadcast_to(np.asarray(val.values), (run.size,))[rows].tolist()
        names.append(name)
        shown.append(column)
        there.append(when[rows])
    present = np.stack(there, axis=1) if there else np.ones((len(rows), 0), dtype=bool)
    if present.all():  # the usual case: every output on every row
        outputs = [dict(zip(names, row)) for row in zip(*shown)] if names else [{} for _ in range(len(rows))]
    else:
        outputs = _dicts(names, [_objects(c) for c in shown], *_patterns_of(present))
    ids = run.frame.ids
    if not with_values:
        return [{"id": ids[row], "policy": ref, "outputs": o} for row, o in zip(rows.tolist(), outputs)]
    return [
        {"id": ids[row], "policy": ref, "outputs": o, "values": v}
        for row, o, v in zip(rows.tolist(), outputs, _values(run, rows))
    ]


def _patterns_of(present: np.ndarray) -> tuple[list[list[int]], np.ndarray]:
    """The distinct sets of present columns (in column order), and each row's set number."""
    first = np.where(present, np.arange(present.shape[1], dtype=np.int64), _NEVER)
    return _patterns(first, list(range(present.shape[1])))


def _dicts(names: list, columns: list, patterns: list[list], inverse: np.ndarray) -> list[dict]:
    """One dict per row: the keys of its pattern, in the pattern's order, with the row's values.

    `columns[j]` is an object array of column j's values; rows of one pattern are built together
    (dict(zip(...)) per row, no lookups per key)."""
    out: list = [None] * len(inverse)
    for number, pattern in enumerate(patterns):
        where = np.flatnonzero(inverse == number)
        keys = [names[j] for j in pattern]
        if not keys:
            for position in where.tolist():
                out[position] = {}
            continue
        picked = [columns[j][where].tolist() for j in pattern]
        for position, row in zip(where.tolist(), zip(*picked)):
            out[position] = dict(zip(keys, row))
    return out


def _values(run: Run, rows: np.ndarray) -> list[dict]:
    linear = run.linear()
    keys = _ordered_keys(linear, ROW)
    first = _first_uses(linear, run, ROW, keys, rows)
    patterns, inverse = _patterns(first, keys)
    index = {key: j for j, key in enumerate(keys)}
    columns = [_shown_array(run, key, rows) for key in keys]
    out = _dicts([key[1] for key in keys], columns, [[index[k] for k in p] for p in patterns], inverse)
    for list_name in sorted(run.frame.offsets):
        item_keys = _ordered_keys(linear, list_name)
        if not item_keys:
            continue
        offsets = run.frame.offsets[list_name]
        starts, ends = offsets[:-1][rows], offsets[1:][rows]
        items = ranges(starts, ends)
        first = _first_uses(linear, run, list_name, item_keys, items)
        patterns, inverse = _patterns(first, item_keys)
        index = {key: j for j, key in enumerate(item_keys)}
        columns = [_shown_array(run, key, items) for key in item_keys]
        memos = _dicts([key[1] for key in item_keys], columns, [[index[k] for k in p] for p in patterns], inverse)
        at = 0
        for position, length in enumerate((ends - starts).tolist()):
            own = memos[at : at + length]
            at += length
            if any(own):
                out[position][list_name] = own
    return out


def _shown_array(run: Run, key, index: np.ndarray) -> np.ndarray:
    return _objects(_shown(run, key, index))


def _objects(values: list) -> np.ndarray:
    """A list as a 1-D object array, whatever its items are (np.array would nest lists)."""
    return np.fromiter(values, dtype=object, count=len(values))
