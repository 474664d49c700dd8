"""The columnar backend: a checked policy evaluated over a chunk of records at once, exactly.

Stages: records (JSON, or an Arrow batch via engine.evaluate.columnar_io) -> frame.Frame ->
evaluator.Run (pair columns of int64, masks for branches) -> results.build. Rows the columns
cannot trust (refused while reading, a problem on their path, a possible int64 overflow) take
the scalar path (the fast kernel, else the exact evaluator), which reports or computes them; a
policy with a construct the columns do not cover takes the scalar path whole (`reason`).

The policy is read from engine.policy.model.Policy as the scalar kernel reads it (the frozen
CheckedPolicy of the architecture issue is not on main yet); that adapter is evaluator.Run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.evaluate.columns.evaluator import Run, Unsupported
from engine.evaluate.columns.frame import Frame, NotColumnar, check_inputs, from_records
from engine.evaluate.columns.results import build
from engine.evaluate.records import RecordReader


@dataclass
class Outcome:
    """A chunk's results: one per record, None where the scalar path must decide."""

    results: list
    columns: int  # records the columns computed
    fallback: int  # records sent to the scalar path


class ColumnPolicy:
    """A loaded policy ready for columnar evaluation; `reason` says why not, when it is not."""

    def __init__(self, loaded):
        self.loaded = loaded
        self.ref = loaded.ref
        self.reason: str | None = None
        if type(loaded.reader) is not RecordReader:
            self.reason = "its records are read by a reader of its own"
            return
        try:
            check_inputs(loaded.policy)
            Run(loaded.policy, from_records(loaded.policy, [])).run()  # walks every construct once
        except (Unsupported, NotColumnar) as error:
            self.reason = str(error)

    @property
    def usable(self) -> bool:
        return self.reason is None

    def evaluate_frame(self, frame: Frame, with_values: bool = True) -> Outcome:
        results: list = [None] * frame.size
        if frame.size == 0:
            return Outcome(results, 0, 0)
        run = Run(self.loaded.policy, frame)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            run.run()
            rows = np.flatnonzero(run.trusted())
            for row, result in zip(rows.tolist(), build(run, rows, self.ref, with_values)):
                results[row] = result
        return Outcome(results, len(rows), frame.size - len(rows))

    def evaluate_records(self, records: list, with_values: bool = True) -> Outcome:
        """Records as engine.evaluate.kernel.decode_pairs reads them."""
        return self.evaluate_frame(from_records(self.loaded.policy, records), with_values)


_cache: dict[int, tuple[object, ColumnPolicy]] = {}


def columns(loaded) -> ColumnPolicy:
    """The columnar form of a loaded policy, made once per loaded policy."""
    found = _cache.get(id(loaded))
    if found is None or found[0] is not loaded:
        found = _cache[id(loaded)] = (loaded, ColumnPolicy(loaded))
    return found[1]
