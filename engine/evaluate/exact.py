"""Checked policy -> compiled evaluator: every formula becomes a Python closure over exact values.

No policy text is ever run as Python. Each node compiles once to a function `(frame, env)`;
names resolve through engine.policy.names at compile time, so evaluation does no lookups by string
except into the record. Values are computed on demand and once per record (or per list item),
which is what makes `when` and short-circuits safe: a rule that is not needed is not computed.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

from engine.evaluate.runtime import MISSING, Item, RecordError, RecordErrors, _Absent, pointer
from engine.i18n import _
from engine.language import nodes as n
from engine.language.printer import cell_text, path_text, to_text
from engine.numbers import ZERO, RoundingMode, round_to
from engine.policy.checked import (
    CheckedPolicy,
    ComputedValue,
    IndicatorValue,
    MatrixValue,
    TableValue,
    ValueDef,
    WeightedValue,
)
from engine.policy.functions import AGGREGATES, FUNCTIONS, TRIMMED_MEAN_LEAST  # noqa: F401 (re-exported)
from engine.policy.model import Formula
from engine.policy.names import Context, resolve

Env = dict[str, Any]  # "@": the current item (or None), and the aggregates' variables
Fn = Callable[["Frame", Env], Any]
_UNSET = object()
_COMPARE = {
    n.CmpOp.EQ: operator.eq,
    n.CmpOp.NE: operator.ne,
    n.CmpOp.LT: operator.lt,
    n.CmpOp.LE: operator.le,
    n.CmpOp.GT: operator.gt,
    n.CmpOp.GE: operator.ge,
}


class Step:
    """One value being computed: what it read, which row, cell or weights decided it, and which
    way each `if` of its formula went (for the trace)."""

    __slots__ = ("reads", "detail", "branches")

    def __init__(self) -> None:
        self.reads: list[Any] = []
        self.detail: dict[Any, Any] | None = None
        self.branches: dict[n.Loc, bool] = {}  # where an `if` is in the formula -> its test held


class Frame:
    """The state of one record's evaluation."""

    __slots__ = ("evaluator", "inputs", "memo", "item_memo", "trace", "steps", "coverage")

    def __init__(self, evaluator: CompiledPolicy, inputs: dict[Any, Any], trace: bool, coverage: set[Any] | None):
        self.evaluator = evaluator
        self.inputs = inputs  # never changed: evaluating the same inputs twice gives the same result
        self.memo: dict[Any, Any] = {}  # (None, name) -> value
        self.item_memo: dict[Any, Any] = {}  # (item path, name) -> value
        self.trace: list[Any] | None = [] if trace else None
        self.steps: list[Step] | None = [] if trace else None
        self.coverage = coverage

    def value(self, key: tuple[Any, ...]) -> Any:
        found = self.memo.get(key, _UNSET)
        if found is _UNSET:
            found = self.memo[key] = self.compute(key, None)
        return found

    def item_value(self, item: Item, name: str) -> Any:
        key = (item.path, name)
        found = self.item_memo.get(key, _UNSET)
        if found is _UNSET:
            found = self.item_memo[key] = self.compute((item.scope, name), item)
        return found

    def compute(self, key: tuple[Any, ...], item: Item | None) -> Any:
        unit = self.evaluator.units[key]
        if self.steps is None:
            return unit.fn(self, {"@": item})
        step = Step()
        self.steps.append(step)
        try:
            result = unit.fn(self, {"@": item})
        finally:
            self.steps.pop()
        assert self.trace is not None  # both are kept when tracing
        self.trace.append(TraceEntry(unit.definition, item.path if item is not None else None, result, step))
        return result

    def note(self, name: str, value: Any) -> None:
        if self.steps:
            self.steps[-1].reads.append((name, value))

    def decide(self, detail: dict[Any, Any]) -> None:
        if self.steps:
            self.steps[-1].detail = detail


class TraceEntry:
    """How one value came about: its rule, what it read, which row or cell applied, and which
    branch of each `if` of its formula was taken (`branches`, by the `if`'s place in the formula:
    the last time it was evaluated, for an `if` inside an aggregate)."""

    __slots__ = ("definition", "item", "value", "reads", "detail", "branches")

    def __init__(self, definition: ValueDef, item: str | None, value: Any, step: Step) -> None:
        self.definition, self.item, self.value = definition, item, value
        self.reads, self.detail, self.branches = step.reads, step.detail, step.branches


class Unit:
    __slots__ = ("definition", "fn")

    def __init__(self, definition: ValueDef, fn: Fn) -> None:
        self.definition, self.fn = definition, fn


class OutputUnit:
    __slots__ = ("name", "fn", "when", "places", "mode")

    def __init__(self, name: str, fn: Fn, when: Fn | None, places: int, mode: RoundingMode) -> None:
        self.name, self.fn, self.when, self.places, self.mode = name, fn, when, places, mode


class CompiledPolicy:
    """A policy compiled once; `run` evaluates one record's converted inputs."""

    def __init__(self, policy: CheckedPolicy) -> None:
        self.policy = policy
        self.units: dict[tuple[str | None, str], Unit] = {}
        builder = _Builder(policy)
        for key, definition in policy.values.items():
            self.units[key] = Unit(definition, builder.value(definition))
        self.requirements = [(r, builder.formula(r.rule, Context(r.for_each))) for r in policy.requirements.values()]
        self.outputs = [
            OutputUnit(
                o.name,
                builder.formula(o.value, Context()),
                builder.formula(o.when, Context()) if o.when is not None else None,
                o.places,
                o.mode,
            )
            for o in policy.outputs.values()
        ]

    def run(
        self, inputs: dict[Any, Any], trace: bool = False, coverage: set[Any] | None = None
    ) -> tuple[dict[str, Any], Frame]:
        """Outputs of one record (already validated and converted). Raises RecordError, or
        RecordErrors listing every requirement the record fails (checked before any output)."""
        frame = Frame(self, inputs, trace, coverage)
        outputs = {}
        env = {"@": None}
        if self.requirements:
            self._require(frame)
        for unit in self.outputs:
            if unit.when is not None and not unit.when(frame, env):
                continue
            value = unit.fn(frame, env)
            if isinstance(value, Fraction):
                value = round_to(value, unit.places, unit.mode)
            outputs[unit.name] = value
        return outputs, frame

    def _require(self, frame: Frame) -> None:
        failed = []
        for requirement, rule in self.requirements:
            if requirement.for_each is None:
                if not rule(frame, {"@": None}):
                    failed.append(RecordError(requirement.path, "requirement", requirement.message))
                continue
            for item in frame.inputs.get(requirement.for_each) or ():
                if isinstance(item, Item) and not rule(frame, {"@": item}):
                    failed.append(RecordError(item.path + requirement.path, "requirement", requirement.message))
        if failed:
            raise RecordErrors(failed)


class _Builder:
    def __init__(self, policy: CheckedPolicy) -> None:
        self.policy = policy

    # named values ----------------------------------------------------------------------------
    def value(self, d: ValueDef) -> Fn:
        context = Context(d.scope)
        match d:
            case ComputedValue(formula=formula) | IndicatorValue(formula=formula):
                return self.formula(formula, context)
            case TableValue():
                return self.table(d, context)
            case MatrixValue():
                return self.matrix(d, context)
            case WeightedValue():
                return self.weighted(d, context)
        raise ValueError(f"unknown definition {d!r}")

    def formula(self, formula: Formula | None, context: Context) -> Fn:
        return self.expr(_node(formula), context)

    def table(self, d: TableValue, context: Context) -> Fn:
        known = self.policy.constants
        columns = [self.expr(_node(f), context) for f in d.table.on]
        column_paths = [self.pointer(_node(f), context) for f in d.table.on]
        rows = []
        for index, row in enumerate(d.table.rows):
            cells = [c for c in row.cells if c is not None]  # all of them: the checks refuse a cell they cannot read
            tests = [_cell_test(cell, known) for cell in cells]
            then = self.formula(row.then, context) if isinstance(row.then, Formula) else _constant(row.then)
            detail = {
                "row": index + 1,
                "when": [cell_text(c) for c in cells],
                "then": row.then.text if isinstance(row.then, Formula) else row.then,
            }
            rows.append((tests, then, detail))
        name, key = d.name, d.key
        texts = [f.text for f in d.table.on if f is not None]

        def evaluate(frame: Frame, env: Env) -> Any:
            values = [column(frame, env) for column in columns]
            for tests, then, detail in rows:
                for test, value in zip(tests, values):
                    if not test(value):
                        break
                else:
                    if frame.coverage is not None:
                        frame.coverage.add((key, detail["row"]))
                    frame.decide(detail)
                    return then(frame, env)
            shown = ", ".join(f"{t} = {_show(v)}" for t, v in zip(texts, values))
            raise RecordError(
                column_paths[0](frame, env),
                "no_rule",
                _("no row of '{name}' matches {values}", name=name, values=shown),
            )

        return evaluate

    def matrix(self, d: MatrixValue, context: Context) -> Fn:
        rows, columns = self.formula(d.matrix.rows, context), self.formula(d.matrix.columns, context)
        cells, name, key = dict(d.matrix.cells), d.name, d.key

        def evaluate(frame: Frame, env: Env) -> Any:
            cell = (rows(frame, env), columns(frame, env))
            found = cells.get(cell, _UNSET)
            if found is _UNSET:
                raise RecordError(
                    "",
                    "no_rule",
                    _("'{name}' has no cell for {row} x {column}", name=name, row=cell[0], column=cell[1]),
                )
            if frame.coverage is not None:
                frame.coverage.add((key, cell))
            frame.decide({"cell": list(cell)})
            return found

        return evaluate

    def weighted(self, d: WeightedValue, context: Context) -> Fn:
        w = d.weighted
        by = self.formula(w.by, context) if w.by is not None else None
        applies = {}
        for name in w.indicators:
            indicator = self.policy.values[(d.scope, name)]
            if (
                isinstance(indicator, IndicatorValue)
                and indicator.applies_when is not None
                and indicator.applies_when.node is not None
            ):
                applies[name] = self.expr(indicator.applies_when.node, context)
        weight_sets = {key: list(weights.items()) for key, weights in w.weights.items()}
        scope, total, renormalise, name = d.scope, w.total, w.not_applicable == "renormalise", d.name
        by_path = self.pointer(_node(w.by), context) if w.by is not None else _no_path

        def evaluate(frame: Frame, env: Env) -> Any:
            key: Any = by(frame, env) if by is not None else "default"
            weights = weight_sets.get(key) or weight_sets.get("default")
            if weights is None:
                raise RecordError(
                    by_path(frame, env),
                    "no_weights",
                    _("'{name}' has no weights for {key} and no default weights", name=name, key=_show(key)),
                )
            item = env["@"]
            weighted_sum, applied, used, skipped = ZERO, ZERO, [], []
            for indicator, weight in weights:
                test = applies.get(indicator)
                if test is not None and not test(frame, env):
                    if frame.steps:
                        skipped.append(indicator)
                    continue
                value = frame.item_value(item, indicator) if scope is not None else frame.value((None, indicator))
                weighted_sum += weight * value
                applied += weight
                if frame.steps:
                    used.append((indicator, value, weight))
            frame.decide({"weights": key, "applied": used, "not_applicable": skipped, "renormalised": renormalise})
            if renormalise:
                if applied == 0:
                    raise RecordError(
                        item.path if item is not None else "",
                        "no_indicator",
                        _("no indicator of '{name}' applies to this record", name=name),
                    )
                return weighted_sum / applied
            return weighted_sum / total

        return evaluate

    # expressions ---------------------------------------------------------------------------
    def expr(self, node: n.Expr, context: Context, peek: bool = False) -> Fn:
        match node:
            case n.Number(value=value) | n.Text(value=value) | n.Bool(value=value):
                return _constant(value)
            case n.Name(id=name):
                return self.name(name, context, peek)
            case n.Field(obj=obj, name=field_name):
                return self.field(node, obj, field_name, context, peek)
            case n.Negate(operand=x):
                f = self.expr(x, context)
                return lambda frame, env: -f(frame, env)
            case n.Not(operand=x):
                f = self.expr(x, context)
                return lambda frame, env: not f(frame, env)
            case n.Binary(op=op, left=a, right=b):
                return self.binary(node, op, self.expr(a, context), self.expr(b, context), context)
            case n.Compare(op=op, left=a, right=b):
                compare, fa, fb = _COMPARE[op], self.expr(a, context), self.expr(b, context)
                return lambda frame, env: compare(fa(frame, env), fb(frame, env))
            case n.Logical(op=op, left=a, right=b):
                fa, fb = self.expr(a, context), self.expr(b, context)
                if op is n.LogicOp.AND:
                    return lambda frame, env: fa(frame, env) and fb(frame, env)
                return lambda frame, env: fa(frame, env) or fb(frame, env)
            case n.Member(element=a, container=b, negated=negated):
                fa, fb = self.expr(a, context), self.expr(b, context)
                if negated:
                    return lambda frame, env: fa(frame, env) not in fb(frame, env)
                return lambda frame, env: fa(frame, env) in fb(frame, env)
            case n.Conditional(test=test, then=then, otherwise=otherwise, loc=loc):
                ft, fa, fb = self.expr(test, context), self.expr(then, context), self.expr(otherwise, context)

                def conditional(frame: Frame, env: Env) -> Any:
                    holds = ft(frame, env)
                    if frame.steps:
                        frame.steps[-1].branches[loc] = bool(holds)
                    return fa(frame, env) if holds else fb(frame, env)

                return conditional
            case n.Call():
                return self.call(node, context)
            case n.Aggregate():
                return self.aggregate(node, context)
            case n.ListExpr(items=items):
                fs = [self.expr(i, context) for i in items]
                return lambda frame, env: [f(frame, env) for f in fs]
        raise TypeError(f"cannot compile {type(node).__name__}")

    def name(self, name: str, context: Context, peek: bool) -> Fn:
        ref = resolve(self.policy, context, name)
        if ref is None:
            raise ValueError(f"unresolved name {name}")  # the checks prevent this
        if ref.kind == "local":
            return lambda frame, env: env[name]
        if ref.kind == "value":
            key = (None, name)

            def value(frame: Frame, env: Env) -> Any:
                found = frame.memo.get(key, _UNSET)
                if found is _UNSET:
                    found = frame.value(key)
                if frame.steps:
                    frame.note(name, found)
                return found

            return value
        if ref.kind == "item_value":

            def item_value(frame: Frame, env: Env) -> Any:
                found = frame.item_value(env["@"], name)
                if frame.steps:
                    frame.note(name, found)
                return found

            return item_value
        where = "/" + name
        if ref.kind == "input":

            def input_value(frame: Frame, env: Env) -> Any:
                found = frame.inputs.get(name, MISSING)
                if found.__class__ is _Absent and not peek:
                    raise _absent(where, name, found)
                if frame.steps:
                    frame.note(name, found)
                return found

            return input_value

        def field_value(frame: Frame, env: Env) -> Any:  # a field of the current item
            item = env["@"]
            found = item.fields.get(name, MISSING)
            if found.__class__ is _Absent and not peek:
                raise _absent(pointer(item.path, name), name, found)
            if frame.steps:
                frame.note(name, found)
            return found

        return field_value

    def field(self, node: n.Field, obj: n.Expr, field_name: str, context: Context, peek: bool) -> Fn:
        get_obj = self.expr(obj, context, peek)
        shown = path_text(node) or field_name
        item_values = {scope for scope, name in self.policy.values if scope is not None and name == field_name}

        def field(frame: Frame, env: Env) -> Any:
            record = get_obj(frame, env)
            if record.__class__ is _Absent:
                return record  # only reachable inside present()
            found = record.fields.get(field_name, _UNSET)
            if found is _UNSET:
                if record.scope in item_values:
                    found = frame.item_value(record, field_name)
                else:
                    found = MISSING
            if found.__class__ is _Absent and not peek:
                raise _absent(pointer(record.path, field_name), shown, found)
            if frame.steps:
                frame.note(shown, found)
            return found

        return field

    def pointer(self, node: n.Expr, context: Context) -> Fn:
        """A function giving the JSON pointer a path expression reads (for error messages)."""
        if isinstance(node, n.Name):
            ref = resolve(self.policy, context, node.id)
            if ref is not None and ref.kind == "input":
                where = "/" + node.id
                return lambda frame, env: where
            if ref is not None and ref.kind == "field":
                return lambda frame, env: pointer(env["@"].path, node.id)
            if ref is not None and ref.kind == "local":
                return lambda frame, env: getattr(env[node.id], "path", "")
        if isinstance(node, n.Field):
            parent = self.pointer(node.obj, context)
            return lambda frame, env: pointer(parent(frame, env), node.name)
        return lambda frame, env: env["@"].path if env.get("@") is not None else ""

    def binary(self, node: n.Binary, op: n.BinOp, fa: Fn, fb: Fn, context: Context) -> Fn:
        if op is n.BinOp.ADD:
            return lambda frame, env: fa(frame, env) + fb(frame, env)
        if op is n.BinOp.SUB:
            return lambda frame, env: fa(frame, env) - fb(frame, env)
        if op is n.BinOp.MUL:
            return lambda frame, env: fa(frame, env) * fb(frame, env)
        where, divisor = self.pointer(node.right, context), to_text(node.right)

        def divide(frame: Frame, env: Env) -> Any:
            a, b = fa(frame, env), fb(frame, env)
            if b == 0:
                raise RecordError(
                    where(frame, env),
                    "division_by_zero",
                    _("{divisor} is 0, and a value cannot be divided by 0", divisor=divisor),
                )
            return a / b

        return divide

    def call(self, node: n.Call, context: Context) -> Fn:
        spec, args = FUNCTIONS[node.function], node.args
        implementation = spec.implementation
        fs = [self.expr(a, context, peek=spec.peek) for a in args]
        if spec.on_zero is not None:
            where, on_zero = self.pointer(args[-1], context), spec.on_zero

            def guarded(frame: Frame, env: Env) -> Any:
                divisor = fs[-1](frame, env)  # read first, as it always was: the trace lists it first
                try:
                    return implementation(*[f(frame, env) for f in fs[:-1]], divisor)
                except ZeroDivisionError:
                    raise RecordError(where(frame, env), "division_by_zero", _(on_zero)) from None

            return guarded
        if len(fs) == 1:
            f0 = fs[0]
            return lambda frame, env: implementation(f0(frame, env))
        return lambda frame, env: implementation(*[f(frame, env) for f in fs])

    def aggregate(self, node: n.Aggregate, context: Context) -> Fn:
        source = self.expr(node.source, context)
        where = self.pointer(node.source, context)
        inner = context.bind(node.var, ("item_of", node.source))
        element = self.expr(node.element, inner)
        condition = self.expr(node.filter, inner) if node.filter is not None else None
        var, function, shown = node.var, node.function, to_text(node.source)
        spec = AGGREGATES[function]
        reduce, least = spec.implementation, spec.least

        def collect(frame: Frame, env: Env) -> list[Any]:
            scope = dict(env)
            values = []
            for item in source(frame, env):
                scope[var] = item
                if condition is None or condition(frame, scope):
                    values.append(element(frame, scope))
            return values

        if least == 0:
            return lambda frame, env: reduce(collect(frame, env))

        def needs_items(frame: Frame, env: Env) -> Any:
            values = collect(frame, env)
            if len(values) < least:
                if not values:
                    raise RecordError(
                        where(frame, env),
                        "empty",
                        _("{function}() of {list} has no items to work on", function=function, list=shown),
                    )
                raise RecordError(
                    where(frame, env),
                    "empty",
                    _(
                        "{function}() of {shown} needs at least {least} items, got {count}",
                        function=function,
                        shown=shown,
                        least=least,
                        count=len(values),
                    ),
                )
            return reduce(values)

        return needs_items


def _node(formula: Formula | None) -> n.Expr:
    """The syntax tree of a formula of a checked policy (the checks refuse one that did not parse)."""
    if formula is None or formula.node is None:
        raise ValueError("a formula without a syntax tree reached the evaluator")
    return formula.node


def _no_path(frame: Frame, env: Env) -> str:
    return ""


def _constant(value: Any) -> Fn:
    return lambda frame, env: value


def _absent(path: str, name: str, value: _Absent) -> RecordError:
    if value is MISSING:
        return RecordError(
            path, value.code, _("{name} is not given but is needed here; give it in the record", name=name)
        )
    return RecordError(
        path,
        value.code,
        _("{name} is null (not applicable) but is needed here; give a value instead of null", name=name),
    )


def _cell_test(cell: n.Cell, constants: Mapping[str, Fraction]) -> Callable[[Any], bool]:
    def bound(b: n.Bound) -> Fraction:
        return b.value if b.value is not None else constants[b.name or ""]

    match cell:
        case n.AnyCell():
            return lambda v: True
        case n.CompareCell(op=op, bound=b):
            compare, limit = _COMPARE[op], bound(b)
            return lambda v: compare(v, limit)
        case n.IntervalCell(low=lo, high=hi, low_closed=lc, high_closed=hc):
            low, high = bound(lo), bound(hi)
            lower = operator.le if lc else operator.lt
            upper = operator.le if hc else operator.lt
            return lambda v: lower(low, v) and upper(v, high)
        case n.LiteralsCell(values=values):
            allowed = tuple(values)
            return lambda v: any(v == a and type(v) is type(a) for a in allowed)
    raise TypeError(f"cannot compile cell {cell!r}")


def _show(value: Any) -> str:
    from engine.language.printer import value_text

    return value_text(value)
