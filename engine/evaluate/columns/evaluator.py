"""The checked policy evaluated over a Frame, one NumPy operation per node for a whole chunk.

It walks the policy exactly as the scalar kernel's generator does (requirements, then outputs;
each expression depth first, left to right; a named value computed at its first use), but over
masks instead of branches: both sides of an `if` are computed, and each side's problems (a
division by zero, an int64 product that could overflow, no table row) count only on the rows
whose path reaches it (pairs.Guard). A row with such a problem, or refused while reading, goes
to the scalar path. Which values a row computed, and in which order, follows from the same
walk: every use of a value is an event with the mask of rows it happened on (`Events`), so the
audit `values` of each row list exactly what the kernel's memo would hold, in its order.

A construct it does not cover raises Unsupported while the evaluator is built (`plan`), and the
whole policy takes the scalar path.
"""

from __future__ import annotations

import numpy as np

from engine.evaluate.columns import pairs as P
from engine.evaluate.columns.decisions import Decisions
from engine.evaluate.columns.frame import Frame, Leaf
from engine.evaluate.columns.kinds import (  # noqa: F401 - ROW, Unsupported and the segments are used from here
    _NEVER,
    ROW,
    Entry,
    Level,
    Unsupported,
    Val,
    _literal_pairs,
    _ops,
    segment_lcm,
    segment_reduce,
    segment_sum,
)
from engine.language import nodes as n
from engine.numbers import RoundingMode
from engine.policy.model import (
    ComputedValue,
    IndicatorValue,
    MatrixValue,
    Policy,
    TableValue,
    ValueDef,
    WeightedValue,
)
from engine.policy.names import Context, resolve


class Run(Decisions):
    """One evaluation of a frame. `events` is the global order of first uses."""

    def __init__(self, policy: Policy, frame: Frame):
        self.policy, self.frame = policy, frame
        self.size = frame.size
        self.cache: dict[tuple, Entry] = {}
        #: what the walk used, in order: (key, level of key, mask, level of mask), or a loop over
        #: a list's items ("loop", list name, its events), whose events happen item by item
        self.events: list = []
        self.pending: set = set()
        self.owners = {
            name: np.repeat(np.arange(frame.size), np.diff(offsets)) for name, offsets in frame.offsets.items()
        }
        self.guards: dict = {ROW: P.Guard(frame.size)}
        self.guards[ROW].active = ~frame.refused
        for name, offsets in frame.offsets.items():
            self.guards[name] = P.Guard(int(offsets[-1]))
        self.outputs: dict[str, tuple[Val, np.ndarray]] = {}

    # levels ---------------------------------------------------------------------------------------
    def length(self, level: str | None) -> int:
        return self.size if level is ROW else int(self.frame.offsets[level][-1])

    def to_rows(self, mask: np.ndarray, level: str | None) -> np.ndarray:
        """An item mask as a row mask: rows with at least one item in it."""
        if level is ROW:
            return mask
        return segment_sum(mask.astype(np.int64), self.frame.offsets[level]) > 0

    def to_level(self, mask, from_level, to_level):
        if from_level == to_level:
            return mask
        rows = self.to_rows(mask, from_level)
        return rows if to_level is ROW else rows[self.owners[to_level]]

    def gather(self, val: Val, level: str) -> Val:
        """A row-level value seen from the items of `level`."""
        owner = self.owners[level]
        if val.kind == "num":
            p = val.pairs
            return Val(
                "num", P.Pairs(p.n if np.ndim(p.n) == 0 else p.n[owner], p.d if np.ndim(p.d) == 0 else p.d[owner])
            )
        if val.kind in ("text", "bool", "maybe"):
            return Val(val.kind, values=val.values if np.ndim(val.values) == 0 else val.values[owner], spec=val.spec)
        raise Unsupported(f"a {val.kind} inside an aggregate")

    # events ----------------------------------------------------------------------------------------
    def record(self, key: tuple, key_level, mask: np.ndarray, mask_level) -> None:
        self.events.append((key, key_level, mask, mask_level))

    def replay(self, events: list, active: np.ndarray, level) -> None:
        """Events of a value's computation, as they happen where it is used (`active` at `level`)."""
        for event in events:
            if event[0] == "loop":
                if level is not ROW:
                    raise Unsupported("an aggregate used inside an aggregate")
                saved = self.events
                self.events = []
                self.replay(event[2], active[self.owners[event[1]]], event[1])
                saved.append(("loop", event[1], self.events))
                self.events = saved
                continue
            key, key_level, mask, mask_level = event
            if level is not ROW and mask_level is ROW:  # inside a loop: it happens at an item
                self.events.append((key, key_level, mask[self.owners[level]] & active, level))
            else:
                self.events.append((key, key_level, mask & self.to_level(active, level, mask_level), mask_level))

    def loop(self, scope: str, thunk):
        """thunk() with its events grouped as one loop over the items of `scope`."""
        saved = self.events
        self.events = []
        try:
            return thunk()
        finally:
            saved.append(("loop", scope, self.events))
            self.events = saved

    def linear(self):
        """Every event with its place in time, at its key's level: (key, level, seen, when).
        Outside loops `when` is the event's number; inside a loop started at event t0 it is
        ordered by t0, then the item's place in its list, then the event's place in the loop."""
        out, t = [], 0
        for event in self.events:
            t += 1
            if event[0] != "loop":
                key, key_level, mask, mask_level = event
                out.append(
                    (
                        key,
                        key_level,
                        np.asarray(self.to_level(mask, mask_level, key_level), dtype=bool),
                        np.int64(t << 40),
                    )
                )
                continue
            scope, inner = event[1], event[2]
            offsets = self.frame.offsets[scope]
            rank = np.arange(int(offsets[-1]), dtype=np.int64) - offsets[:-1][self.owners[scope]]
            for step, (key, key_level, mask, _mask_level) in enumerate(inner, start=1):
                when = (np.int64(t) << 40) + (rank << 20) + step
                seen = np.broadcast_to(np.asarray(mask, dtype=bool), when.shape)
                if key_level is ROW:  # a record's value first reached at some item
                    first = segment_reduce(np.minimum, np.where(seen, when, _NEVER), offsets, _NEVER)
                    out.append((key, key_level, first != _NEVER, first))
                else:
                    out.append((key, key_level, seen, when))
        return out

    # named values ----------------------------------------------------------------------------------
    def use_value(self, key: tuple, lv: Level) -> Val:
        value_level = key[0]
        entry = self.cache.get(key)
        if entry is None:
            entry = self.compute(key)
        guard = lv.guard
        if value_level == lv.name:
            guard.fail(entry.failed)
            val = entry.val
        else:  # a row value used inside an aggregate over items
            guard.fail(entry.failed[self.owners[lv.name]])
            val = self.gather(entry.val, lv.name)
        self.replay(entry.events, guard.active, lv.name)
        self.record(key, value_level, guard.active, lv.name)
        return val

    def compute(self, key: tuple) -> Entry:
        if key in self.pending:
            raise Unsupported("values that depend on themselves")
        self.pending.add(key)
        level = key[0]
        guard = self.guards[level]
        saved = guard.failed, guard.active, self.events
        guard.failed = np.zeros(guard.size, dtype=bool)
        guard.active = np.ones(guard.size, dtype=bool)
        self.events = []
        d = self.policy.values[key]
        lv = Level(level, guard, names=Context(d.scope), scope=d.scope)
        val = self.value_body(d, lv)
        if val.kind not in ("num", "text", "bool"):
            raise Unsupported(f"value '{d.name}' is a {val.kind}")
        if val.kind == "num":
            val = Val("num", P.full(val.pairs, guard.size))
        else:
            val = Val(val.kind, values=np.broadcast_to(val.values, (guard.size,)))
        entry = self.cache[key] = Entry(val, guard.failed, self.events)
        guard.failed, guard.active, self.events = saved
        self.pending.discard(key)
        return entry

    def value_body(self, d: ValueDef, lv: Level) -> Val:
        match d:
            case ComputedValue(formula=formula) | IndicatorValue(formula=formula):
                return self.expr(formula.node, lv)
            case TableValue():
                return self.table(d, lv)
            case MatrixValue():
                return self.matrix(d, lv)
            case WeightedValue():
                return self.weighted(d, lv)
        raise Unsupported(f"value {d.name}: {type(d).__name__}")

    # branches --------------------------------------------------------------------------------------
    def under(self, lv: Level, mask, thunk):
        """thunk() with the rows narrowed to mask (the others' problems do not count)."""
        guard = lv.guard
        saved = guard.active
        guard.active = saved & mask
        try:
            return thunk()
        finally:
            guard.active = saved

    def merge(self, masks: list, vals: list[Val], name: str) -> Val:
        kinds = {v.kind for v in vals}
        if len(kinds) != 1:
            raise Unsupported(f"'{name}' mixes {' and '.join(sorted(kinds))}")
        kind = kinds.pop()
        if kind == "num":
            n_ = np.select(masks, [np.broadcast_to(v.pairs.n, masks[0].shape) for v in vals], 0)
            d_ = np.select(masks, [np.broadcast_to(v.pairs.d, masks[0].shape) for v in vals], 1)
            return Val("num", P.Pairs(n_.astype(np.int64), d_.astype(np.int64)))
        if kind in ("text", "bool"):
            default = "" if kind == "text" else False
            return Val(
                kind,
                values=np.select(
                    masks,
                    [
                        np.broadcast_to(np.asarray(v.values, dtype=object if kind == "text" else bool), masks[0].shape)
                        for v in vals
                    ],
                    default,
                ),
            )
        raise Unsupported(f"branches of kind {kind}")

    def expect(self, val: Val, kind: str) -> None:
        if val.kind != kind:
            raise Unsupported(f"expected {kind}, got {val.kind}")

    def expr(self, node, lv: Level, peek: bool = False) -> Val:
        guard = lv.guard
        match node:
            case n.Number(value=value):
                return Val("num", _literal_pairs(value))
            case n.Text(value=value):
                return Val("text", values=np.array(value, dtype=object))
            case n.Bool(value=value):
                return Val("bool", values=np.bool_(value))
            case n.Name(id=name):
                return self.name(name, lv, peek)
            case n.Field(obj=obj, name=field_name):
                return self.field(obj, field_name, lv, peek)
            case n.Negate(operand=x):
                val = self.expr(x, lv)
                self.expect(val, "num")
                return Val("num", P.Pairs(-val.pairs.n, val.pairs.d))
            case n.Not(operand=x):
                val = self.expr(x, lv)
                self.expect(val, "bool")
                return Val("bool", values=~np.asarray(val.values, dtype=bool))
            case n.Binary(op=op, left=a, right=b):
                left, right = self.expr(a, lv), self.expr(b, lv)
                self.expect(left, "num")
                self.expect(right, "num")
                if op is n.BinOp.ADD:
                    return Val("num", P.add(left.pairs, right.pairs, guard))
                if op is n.BinOp.SUB:
                    return Val("num", P.add(left.pairs, right.pairs, guard, sign=-1))
                if op is n.BinOp.MUL:
                    return Val("num", P.mul(left.pairs, right.pairs, guard))
                return Val("num", P.div(left.pairs, right.pairs, guard))
            case n.Compare(op=op, left=a, right=b):
                left, right = self.expr(a, lv), self.expr(b, lv)
                if left.kind == right.kind == "num":
                    return Val("bool", values=P.compare(left.pairs, right.pairs, op.value, guard))
                if left.kind == right.kind and left.kind in ("text", "bool"):
                    if left.kind == "text" and op.value not in ("==", "!="):
                        raise Unsupported("ordering text")
                    return Val("bool", values=np.asarray(_ops(op.value)(left.values, right.values), dtype=bool))
                raise Unsupported(f"comparing {left.kind} with {right.kind}")
            case n.Logical(op=op, left=a, right=b):
                left = self.expr(a, lv)
                self.expect(left, "bool")
                first = np.asarray(left.values, dtype=bool)
                reach = first if op is n.LogicOp.AND else ~first
                right = self.under(lv, reach, lambda: self.expr(b, lv))
                self.expect(right, "bool")
                second = np.asarray(right.values, dtype=bool)
                return Val("bool", values=(first & second) if op is n.LogicOp.AND else (first | second))
            case n.Conditional(test=test, then=then, otherwise=otherwise):
                condition = self.expr(test, lv)
                self.expect(condition, "bool")
                mask = np.broadcast_to(np.asarray(condition.values, dtype=bool), (guard.size,))
                first = self.under(lv, mask, lambda: self.expr(then, lv))
                second = self.under(lv, ~mask, lambda: self.expr(otherwise, lv))
                return self.merge([mask, ~mask], [first, second], "if")
            case n.Member(element=element, container=container, negated=negated):
                val = self.expr(element, lv)
                if val.kind not in ("text", "bool") or not isinstance(container, n.ListExpr):
                    raise Unsupported("'in' over numbers")
                options = [self.expr(i, lv) for i in container.items]
                if any(o.kind not in ("text", "bool") for o in options):
                    raise Unsupported("lists of numbers")
                test = np.zeros(guard.size, dtype=bool)
                for option in options:
                    if option.kind != val.kind:
                        continue  # a number never equals text in the kernel either
                    test = test | np.asarray(val.values == option.values, dtype=bool)
                return Val("bool", values=~test if negated else test)
            case n.Call():
                return self.call(node, lv)
            case n.Aggregate():
                return self.aggregate(node, lv)
        raise Unsupported(f"{type(node).__name__} expressions")

    def name(self, name: str, lv: Level, peek: bool) -> Val:
        ref = resolve(self.policy, lv.names, name)
        if ref is None:
            raise Unsupported(f"unresolved name {name}")
        if ref.kind == "local":
            scope = lv.locals[name]
            return Val("item", spec=self.policy.inputs[scope].items, path=(scope, "@"))
        if ref.kind == "value":
            return self.use_value((None, name), lv)
        if ref.kind == "item_value":
            return self.use_value((lv.scope, name), lv)
        if ref.kind == "input":
            return self.read((name,), ref.spec, lv, peek)
        return self.read((lv.scope, "@", name), ref.spec, lv, peek)

    def field(self, obj, field_name: str, lv: Level, peek: bool) -> Val:
        holder = self.expr(obj, lv, peek=peek)
        if holder.kind == "maybe":
            spec = holder.spec
            if spec is None or spec.type != "record" or field_name not in spec.fields:
                raise Unsupported("present() of this field")
            inner = self.read(holder.path + (field_name,), spec.fields[field_name], lv, True)
            return Val(
                "maybe", values=np.asarray(holder.values, dtype=bool) & inner.values, spec=inner.spec, path=inner.path
            )
        if holder.kind not in ("rec", "item"):
            raise Unsupported(f"a field of a {holder.kind}")
        if field_name in holder.spec.fields:
            return self.read(holder.path + (field_name,), holder.spec.fields[field_name], lv, peek)
        if holder.kind == "item" and (holder.path[0], field_name) in self.policy.values:
            if lv.name != holder.path[0]:
                raise Unsupported("an item value outside its aggregate")
            return self.use_value((holder.path[0], field_name), lv)
        raise Unsupported(f"field {field_name}")

    def read(self, path: tuple, spec, lv: Level, peek: bool) -> Val:
        leaf: Leaf | None = self.frame.leaves.get(path)
        if leaf is None:
            raise Unsupported(f"the input {'.'.join(p for p in path if p != '@')}")
        leaf_level = ROW if len(path) < 2 or path[1] != "@" else path[0]
        gathered = leaf_level != lv.name
        if gathered and leaf_level is not ROW:
            raise Unsupported("an item field outside its aggregate")
        there = leaf.there[self.owners[lv.name]] if gathered else leaf.there
        if peek:
            return Val("maybe", values=there, spec=spec, path=path)
        if not (spec.required and spec.null != "not_applicable"):
            lv.guard.fail(~there)  # absent or null: the exact path says what it means
        if leaf.kind == "num":
            val = Val("num", leaf.pairs)
        elif leaf.kind in ("text", "bool"):
            val = Val(leaf.kind, values=leaf.values)
        elif leaf.kind == "rec":
            return Val("rec", spec=spec, path=path)
        else:
            return Val("list", spec=spec, path=path)
        return self.gather(val, lv.name) if gathered else val

    def call(self, node: n.Call, lv: Level) -> Val:
        name, args = node.function, node.args
        guard = lv.guard
        if name == "present":
            val = self.expr(args[0], lv, peek=True)
            if val.kind != "maybe":
                return Val("bool", values=np.bool_(True))
            return Val("bool", values=np.asarray(val.values, dtype=bool))
        if name in ("capaian", "capaian_terbalik"):
            realisasi = self.expr(args[0], lv)
            target = self.expr(args[1], lv)
            self.expect(realisasi, "num")
            if target.kind != "num":
                raise Unsupported("capaian of a target range")
            if name == "capaian":
                ratio = P.div(realisasi.pairs, target.pairs, guard)
            else:
                twice = P.mul(P.constant(2), target.pairs, guard)
                ratio = P.div(P.add(twice, realisasi.pairs, guard, sign=-1), target.pairs, guard)
            percent = P.mul(ratio, P.constant(100), guard)
            if name == "capaian_terbalik":
                negative = percent.n < 0
                percent = P.Pairs(np.where(negative, 0, percent.n), np.where(negative, 1, percent.d))
            return Val("num", percent)
        values = [self.expr(a, lv) for a in args]
        if name == "len":
            if values[0].kind != "list" or lv.name is not ROW:
                raise Unsupported("len() of anything but a list")
            offsets = self.frame.offsets[values[0].path[0]]
            return Val("num", P.Pairs(np.diff(offsets), np.int64(1)))
        if name == "round":
            self.expect(values[0], "num")
            mode = RoundingMode(args[2].value) if len(args) == 3 else RoundingMode.HALF_UP
            return Val("num", P.round_to(values[0].pairs, int(args[1].value), mode, guard))
        for val in values:
            self.expect(val, "num")
        if name in ("min", "max"):
            best = values[0].pairs
            for other in values[1:]:
                better = P.compare(other.pairs, best, "<" if name == "min" else ">", guard)
                best = P.select(better, other.pairs, best)
            return Val("num", best)
        if name == "clamp":
            x, low, high = (v.pairs for v in values)
            below = P.compare(x, low, "<", guard)
            above = P.compare(x, high, ">", guard)
            return Val("num", P.select(below, low, P.select(above, high, x)))
        if name == "abs":
            return Val("num", P.Pairs(np.abs(values[0].pairs.n), values[0].pairs.d))
        if name == "floor":
            return Val("num", P.floor(values[0].pairs))
        if name == "ceil":
            return Val("num", P.ceil(values[0].pairs))
        raise Unsupported(f"function {name}")

    def aggregate(self, node: n.Aggregate, lv: Level) -> Val:
        if lv.name is not ROW or not isinstance(node.source, n.Name):
            raise Unsupported("aggregates inside aggregates")
        source = self.expr(node.source, lv)
        if source.kind != "list":
            raise Unsupported("aggregates over anything but a list input")
        scope = source.path[0]
        offsets, owner = self.frame.offsets[scope], self.owners[scope]
        item_guard = self.guards[scope]
        saved = item_guard.active
        item_guard.active = lv.guard.active[owner]
        inner = Level(
            scope,
            item_guard,
            {**lv.locals, node.var: scope},
            lv.names.bind(node.var, ("item_of", node.source)),
            scope=lv.scope,
        )
        try:
            function = node.function
            counted, element = self.loop(scope, lambda: self.loop_body(node, inner))
            count = segment_sum(counted.astype(np.int64), offsets)
            if function is n.AggFunc.COUNT:
                return Val("num", P.Pairs(count, np.int64(1)))
        finally:
            failed_items = item_guard.failed
            item_guard.active = saved
        if failed_items.any():
            lv.guard.fail(segment_sum(failed_items.astype(np.int64), offsets) > 0)
            item_guard.failed = np.zeros(item_guard.size, dtype=bool)
        if function in (n.AggFunc.ANY, n.AggFunc.ALL):
            self.expect(element, "bool")
            truth = np.broadcast_to(np.asarray(element.values, dtype=bool), (item_guard.size,))
            hits = segment_sum((truth & counted).astype(np.int64), offsets)
            return Val("bool", values=hits > 0 if function is n.AggFunc.ANY else hits == count)
        self.expect(element, "num")
        if function is n.AggFunc.TRIMMED_MEAN:
            raise Unsupported("trimmed_mean")
        if function is not n.AggFunc.SUM:
            lv.guard.fail(count == 0)  # empty: the exact path reports it
        items = P.full(element.pairs, item_guard.size)
        den = np.where(counted, items.d, 1)
        num = np.where(counted, items.n, 0)
        common = segment_lcm(den, offsets)
        row_guard = lv.guard
        # a common multiple that overflowed int64 is caught here: it must be positive, below
        # LIMIT and divisible by every denominator of its record
        good = (common > 0) & (common < P.LIMIT)
        safe_common = np.where(good, common, 1)
        good &= segment_sum((safe_common[owner] % den != 0).astype(np.int64), offsets) == 0
        row_guard.fail(~good)
        safe_common = np.where(good, safe_common, 1)
        factor = safe_common[owner] // den
        item_check = P.Guard(item_guard.size)
        scaled = P.mul_int(num, factor, item_check)
        row_guard.fail(segment_sum(item_check.failed.astype(np.int64), offsets) > 0)
        if function in (n.AggFunc.MIN, n.AggFunc.MAX):
            if function is n.AggFunc.MIN:
                best = segment_reduce(np.minimum, np.where(counted, scaled, P.LIMIT), offsets, P.LIMIT)
            else:
                best = segment_reduce(np.maximum, np.where(counted, scaled, -P.LIMIT), offsets, -P.LIMIT)
            best = np.where(count > 0, best, 0)
            return Val("num", P.Pairs(best, safe_common))
        magnitude = segment_reduce(np.add, np.abs(scaled).astype(np.float64), offsets, 0.0)
        row_guard.fail(magnitude >= P.LIMIT / 2)
        total = segment_sum(np.where(counted, scaled, 0), offsets)
        total = np.where(magnitude >= P.LIMIT / 2, 0, total)
        sum_pairs = P.Pairs(total, safe_common)
        if function is n.AggFunc.SUM:
            return Val("num", sum_pairs)
        return Val("num", P.div(sum_pairs, P.Pairs(np.where(count == 0, 1, count), np.int64(1)), row_guard))

    def loop_body(self, node: n.Aggregate, inner: Level):
        keep = np.ones(inner.guard.size, dtype=bool)
        if node.filter is not None:
            condition = self.expr(node.filter, inner)
            self.expect(condition, "bool")
            keep = np.broadcast_to(np.asarray(condition.values, dtype=bool), (inner.guard.size,))
        if node.function is n.AggFunc.COUNT:
            return keep, None
        return keep, self.under(inner, keep, lambda: self.expr(node.element, inner))

    # the record: requirements and outputs ------------------------------------------------------------
    def run(self) -> None:
        row = Level(ROW, self.guards[ROW])
        for requirement in self.policy.requirements.values():
            if requirement.for_each is None:
                test = self.expr(requirement.rule.node, row)
                self.expect(test, "bool")
                row.guard.fail(~np.asarray(test.values, dtype=bool))
                continue
            scope = requirement.for_each
            if scope not in self.frame.offsets:
                raise Unsupported(f"requirement over {scope}")
            item_guard = self.guards[scope]
            saved = item_guard.active
            item_guard.active = row.guard.active[self.owners[scope]]
            inner = Level(scope, item_guard, names=Context(scope), scope=scope)
            test = self.loop(
                scope, lambda requirement=requirement, inner=inner: self.expr(requirement.rule.node, inner)
            )
            self.expect(test, "bool")
            item_guard.fail(~np.asarray(test.values, dtype=bool))
            item_guard.active = saved
            failed = item_guard.failed
            item_guard.failed = np.zeros(item_guard.size, dtype=bool)
            row.guard.fail(segment_sum(failed.astype(np.int64), self.frame.offsets[scope]) > 0)
        for output in self.policy.outputs.values():
            when = np.ones(self.size, dtype=bool)
            if output.when is not None:
                test = self.expr(output.when.node, row)
                self.expect(test, "bool")
                when = np.broadcast_to(np.asarray(test.values, dtype=bool), (self.size,))
            val = self.under(row, when, lambda output=output: self.output_value(output, row))
            if val.kind not in ("num", "text", "bool"):
                raise Unsupported(f"output '{output.name}' is a {val.kind}")
            self.outputs[output.name] = (val, when)

    def output_value(self, output, row: Level) -> Val:
        val = self.expr(output.value.node, row)
        if val.kind == "num":
            return Val("num", P.round_to(P.full(val.pairs, self.size), output.places, output.mode, row.guard))
        return val

    def trusted(self) -> np.ndarray:
        """Rows whose every result the columns computed (the others take the scalar path)."""
        return ~self.frame.refused & ~self.guards[ROW].failed
