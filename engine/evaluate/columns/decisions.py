"""Decision tables, matrices and weighted sums over columns: a table row is a mask, its result a
select; a matrix is a lookup per record; weights are exact pair products (a mixin of evaluator.Run)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from engine.evaluate.columns import pairs as P
from engine.evaluate.columns.kinds import Level, Unsupported, Val, _literal_pairs
from engine.language import nodes as n
from engine.policy.model import Formula, IndicatorValue, MatrixValue, TableValue, WeightedValue


class Decisions:
    """Tables, matrices and weights; Run supplies expr, under, merge, use_value and expect."""

    def table(self, d: TableValue, lv: Level) -> Val:
        columns = [self.expr(f.node, lv) for f in d.table.on]
        guard = lv.guard
        size = guard.size
        left = np.ones(size, dtype=bool)
        masks, vals = [], []
        for row in d.table.rows:
            test = np.ones(size, dtype=bool)
            for cell, column in zip(row.cells, columns):
                test = test & self.cell_test(cell, column, guard)
            hit = left & test
            left = left & ~test
            then = self.under(
                lv,
                hit,
                lambda row=row: (
                    self.expr(row.then.node, lv) if isinstance(row.then, Formula) else self.literal(row.then)
                ),
            )
            masks.append(hit)
            vals.append(then)
        guard.fail(left)  # no row matches: the exact path reports it
        return self.merge(masks, vals, d.name)

    def literal(self, value) -> Val:
        if isinstance(value, bool):
            return Val("bool", values=np.bool_(value))
        if isinstance(value, str):
            return Val("text", values=np.array(value, dtype=object))
        if isinstance(value, Fraction):
            return Val("num", _literal_pairs(value))
        raise Unsupported(f"literal {value!r}")

    def bound(self, b: n.Bound) -> Fraction:
        if b.value is not None:
            return b.value
        from engine.policy.ranges import constants

        known = constants(self.policy)
        if b.name not in known:
            raise Unsupported(f"the bound {b.name}")
        return known[b.name]

    def against(self, column: Val, op: str, bound: Fraction, guard: P.Guard):
        return P.compare(column.pairs, _literal_pairs(bound), op, guard)

    def cell_test(self, cell, column: Val, guard: P.Guard):
        match cell:
            case n.AnyCell():
                return np.bool_(True)
            case n.CompareCell(op=op, bound=b):
                self.expect(column, "num")
                return self.against(column, op.value, self.bound(b), guard)
            case n.IntervalCell(low=lo, high=hi, low_closed=lc, high_closed=hc):
                self.expect(column, "num")
                return self.against(column, ">=" if lc else ">", self.bound(lo), guard) & self.against(
                    column, "<=" if hc else "<", self.bound(hi), guard
                )
            case n.LiteralsCell(values=values):
                test = np.bool_(False)
                for value in values:
                    if isinstance(value, bool):
                        if column.kind == "bool":
                            test = test | (column.values == value)
                    elif isinstance(value, str):
                        if column.kind == "text":
                            test = test | (column.values == value)
                    elif column.kind == "num":
                        test = test | self.against(column, "==", value, guard)
                return np.asarray(test, dtype=bool)
        raise Unsupported(f"cell {cell!r}")

    def matrix(self, d: MatrixValue, lv: Level) -> Val:
        rows, columns = self.expr(d.matrix.rows.node, lv), self.expr(d.matrix.columns.node, lv)
        cells = dict(d.matrix.cells)
        if (
            {type(v) for v in cells.values()} != {str}
            or "num" in (rows.kind, columns.kind)
            or "text" not in (rows.kind,)
            or columns.kind != "text"
        ):
            raise Unsupported(f"matrix '{d.name}' is not text by text to text")
        size = lv.guard.size
        r = np.broadcast_to(rows.values, (size,)).tolist()
        c = np.broadcast_to(columns.values, (size,)).tolist()
        found = [cells.get(pair) for pair in zip(r, c)]
        missing = np.fromiter((f is None for f in found), dtype=bool, count=size)
        lv.guard.fail(missing)
        out = np.empty(size, dtype=object)
        out[:] = [f if f is not None else "" for f in found]
        return Val("text", values=out)

    def weighted(self, d: WeightedValue, lv: Level) -> Val:
        w = d.weighted
        named = [(k, weights) for k, weights in w.weights.items() if k != "default"]
        default = w.weights.get("default")
        if w.by is None or not named:
            if default is None:
                raise Unsupported(f"'{d.name}' has no default weights")
            return self.weighted_sum(d, default, lv)
        key = self.expr(w.by.node, lv)
        size = lv.guard.size
        left = np.ones(size, dtype=bool)
        masks, vals = [], []
        for set_key, weights in named:
            if key.kind == "text" and isinstance(set_key, str) or key.kind == "bool" and isinstance(set_key, bool):
                hit = left & np.asarray(key.values == set_key, dtype=bool)
            else:
                raise Unsupported(f"weight sets of '{d.name}' chosen by a {key.kind}")
            left = left & ~hit
            masks.append(hit)
            vals.append(self.under(lv, hit, lambda weights=weights: self.weighted_sum(d, weights, lv)))
        if default is None:
            lv.guard.fail(left)
        else:
            masks.append(left)
            vals.append(self.under(lv, left, lambda: self.weighted_sum(d, default, lv)))
        return self.merge(masks, vals, d.name)

    def weighted_sum(self, d: WeightedValue, weights: dict, lv: Level) -> Val:
        w = d.weighted
        guard = lv.guard
        total = P.constant(0)
        applied = P.constant(0)
        for indicator, weight in weights.items():
            definition = self.policy.values[(d.scope, indicator)]
            assert isinstance(definition, IndicatorValue)
            guarded = definition.applies_when is not None and definition.applies_when.node is not None
            mask = np.bool_(True)
            if guarded:
                test = self.expr(definition.applies_when.node, lv)
                self.expect(test, "bool")
                mask = np.asarray(test.values, dtype=bool)
            value = self.under(lv, mask, lambda indicator=indicator: self.use_value((d.scope, indicator), lv))
            self.expect(value, "num")
            term = P.mul(_literal_pairs(weight), value.pairs, guard)
            if guarded:
                term = P.select(
                    mask,
                    P.full(term, guard.size),
                    P.Pairs(np.zeros(guard.size, np.int64), np.ones(guard.size, np.int64)),
                )
            total = P.add(total, term, guard)
            if w.not_applicable == "renormalise":
                share = _literal_pairs(weight)
                if guarded:
                    share = P.select(
                        mask,
                        P.full(share, guard.size),
                        P.Pairs(np.zeros(guard.size, np.int64), np.ones(guard.size, np.int64)),
                    )
                applied = P.add(applied, share, guard)
        if w.not_applicable == "renormalise":
            return Val("num", P.div(total, applied, guard))
        return Val("num", P.div(total, _literal_pairs(w.total), guard))

    # expressions -----------------------------------------------------------------------------------
