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
    outputs = []
    for name, (val, when) in run.outputs.items():
        there = when[rows]
        if val.kind == "num":
            shown = P.json_numbers(np.broadcast_to(val.pairs.n, (run.size,))[rows], int(val.pairs.d))
        else:
            shown = np.broadcast_to(np.asarray(val.values), (run.size,))[rows].tolist()
        outputs.append((name, shown, there.tolist() if not there.all() else None))
    ids = run.frame.ids
    results = []
    if with_values:
        values = _values(run, rows)
    for position, row in enumerate(rows.tolist()):
        result_outputs = {name: shown[position] for name, shown, there in outputs if there is None or there[position]}
        result = {"id": ids[row], "policy": ref, "outputs": result_outputs}
        if with_values:
            result["values"] = values[position]
        results.append(result)
    return results


def _values(run: Run, rows: np.ndarray) -> list[dict]:
    linear = run.linear()
    keys = _ordered_keys(linear, ROW)
    first = _first_uses(linear, run, ROW, keys, rows)
    patterns, inverse = _patterns(first, keys)
    shown = {key: _shown(run, key, rows) for key in keys}
    names = {key: key[1] for key in keys}
    out = []
    for position, pattern in enumerate(inverse.tolist()):
        out.append({names[key]: shown[key][position] for key in patterns[pattern]})
    for list_name in sorted(run.frame.offsets):
        item_keys = _ordered_keys(linear, list_name)
        if not item_keys:
            continue
        offsets = run.frame.offsets[list_name]
        starts, ends = offsets[:-1][rows], offsets[1:][rows]
        items = (
            np.concatenate([np.arange(s, e) for s, e in zip(starts.tolist(), ends.tolist())])
            if len(rows)
            else np.zeros(0, dtype=np.int64)
        )
        items = items.astype(np.int64)
        first = _first_uses(linear, run, list_name, item_keys, items)
        patterns, inverse = _patterns(first, item_keys)
        shown = {key: _shown(run, key, items) for key in item_keys}
        inverse = inverse.tolist()
        at = 0
        for position, (s, e) in enumerate(zip(starts.tolist(), ends.tolist())):
            memos = []
            for k in range(at, at + e - s):
                memos.append({key[1]: shown[key][k] for key in patterns[inverse[k]]})
            at += e - s
            if any(memos):
                out[position][list_name] = memos
    return out
