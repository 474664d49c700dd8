"""Cost and magnitude bounds: what a record can cost a policy, known before anything runs.

After CEL's promise (an expression's cost is bounded before it is evaluated): for every named
value this pass bounds the digits of its exact numerator and denominator, and the steps one
record can cause (an aggregate multiplies its element's cost by the list's `max_items`; a value
read twice is computed once, so a reference costs one step). A policy beyond the named limits is
refused at the value's line, with the chain of values that makes it grow, so that no record can
stall an evaluation or make a number too large to write (Python refuses to turn an integer of
more than 4,300 digits into text; MAX_VALUE_DIGITS keeps every value well under that).

Digits are decimal and sound, not tight. A denominator is counted in two parts: a power of ten
(what decimal inputs and literals bring; a sum keeps the larger, as their common multiple is the
larger) and the rest (what division by a submitted number brings; a sum multiplies them).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from engine.diagnostics import Diagnostics, Position
from engine.i18n import _
from engine.language import nodes as n
from engine.numbers import MAX_DIGITS, MAX_MAGNITUDE, MAX_PLACES
from engine.policy.functions import AGGREGATES, FUNCTIONS
from engine.policy.model import (
    ComputedValue,
    Formula,
    IndicatorValue,
    InputSpec,
    MatrixValue,
    PolicyView,
    TableValue,
    ValueDef,
    WeightedValue,
)
from engine.policy.names import Context, resolve
from engine.policy.ranges import RangeAnalysis
from engine.policy.sizes import (  # noqa: F401 (re-exported: the size arithmetic lived here)
    SMALL,
    Size,
    _digits,
    _places_of_inverse,
    add,
    div,
    hull,
    literal,
    mul,
    rounded,
    sum_of,
)

#: Most items a list input may hold unless the policy says fewer (the record reader enforces it).
MAX_LIST_ITEMS = 1000
#: Most decimal digits of any value written out (its whole part and its places when it
#: terminates, else AUDIT_PLACES): below Python's 4,300-digit limit on turning an integer into
#: text, so no conversion can raise.
MAX_MAGNITUDE_DIGITS = 4000
#: Most decimal digits the exact numerator or denominator of any value may need: what one exact
#: operation can cost (a sum of 200 items with unlike denominators needs tens of thousands).
MAX_VALUE_DIGITS = 60_000
#: Most evaluation steps (formula nodes, table cells, aggregate items) one record may cause.
MAX_RECORD_STEPS = 2_000_000
#: Most values a growth chain names in a diagnostic.
MAX_CHAIN_SHOWN = 6

_INPUT_WHOLE = len(str(int(MAX_MAGNITUDE)))  # digits of the largest submitted number's whole part


def input_size(spec: InputSpec | None) -> Size:
    """A submitted number: at most 10^15 in size, MAX_DIGITS significant digits, MAX_PLACES places
    (engine.numbers reads every format's numbers by these rules)."""
    if spec is not None and spec.type == "integer":
        return Size(_INPUT_WHOLE)
    return Size(max(MAX_DIGITS, _INPUT_WHOLE), MAX_PLACES, 0, _INPUT_WHOLE)


@dataclass
class Found:
    """The bound of one value: its size, its cost per record, and the value that made it grow."""

    size: Size | None  # None: not a number
    steps: int
    grew_from: tuple[Any, ...] | None = None


class BoundAnalysis:
    """Sizes and costs of a policy's values, computed once each (a value is shared, not copied)."""

    def __init__(self, policy: PolicyView, ranges: RangeAnalysis | None = None) -> None:
        self.policy = policy
        self.ranges = ranges  # an engine.policy.ranges.RangeAnalysis: its intervals tighten magnitudes
        self.found: dict[tuple[str | None, str], Found] = {}
        self._busy: set[tuple[str | None, str]] = set()
        self._largest: tuple[Any, ...] | None = None

    # Values ---------------------------------------------------------------------------------

    def value(self, key: tuple[Any, ...]) -> Found:
        if key in self.found:
            return self.found[key]
        definition = self.policy.values.get(key)
        if definition is None or key in self._busy:
            return Found(None, 1)
        self._busy.add(key)
        try:
            found = self._value(definition)
        finally:
            self._busy.discard(key)
        if found.size is not None and self.ranges is not None:
            interval = self.ranges.value(key)
            if interval is not None and interval.lo is not None and interval.hi is not None:
                largest = max(abs(interval.lo), abs(interval.hi))
                mag = _digits(largest.numerator // largest.denominator)
                if mag < found.size.mag:
                    found = Found(
                        Size(found.size.num, found.size.ten, found.size.other, mag, found.size.places),
                        found.steps,
                        found.grew_from,
                    )
        if definition.scope is not None:
            found = Found(found.size, found.steps * self._max_items(definition.scope), found.grew_from)
        self.found[key] = found
        return found

    def _value(self, d: ValueDef) -> Found:
        self._largest = None
        context = Context(d.scope)
        size: Size | None
        match d:
            case ComputedValue(formula=formula):
                size, steps = self.formula(formula, context)
            case IndicatorValue(formula=formula, applies_when=applies):
                size, steps = self.formula(formula, context)
                if applies is not None:
                    steps += self.formula(applies, context)[1]
            case WeightedValue(weighted=w):
                size, steps = None, 1
                for name in w.indicators:
                    own = self.value((d.scope, name)).size or SMALL
                    self._note((d.scope, name))
                    weights = [x for ws in w.weights.values() for x in ws.values()] or [Fraction(1)]
                    weight = max((literal(x) for x in weights), key=lambda s: s.digits)
                    term = mul(own, weight)
                    size = term if size is None else add(size, term)
                    steps += 2
                if size is not None:
                    size = div(size, literal(w.total) if w.total else SMALL)
                if w.by is not None:
                    steps += self.formula(w.by, context)[1]
            case TableValue(table=table):
                size, steps = None, 0
                for f in table.on:
                    steps += self.formula(f, context)[1]
                for row in table.rows:
                    steps += len(row.cells)
                    part: Size | None
                    if isinstance(row.then, Formula):
                        part, cost = self.formula(row.then, context)
                        steps += cost
                    elif isinstance(row.then, Fraction) and not isinstance(row.then, bool):
                        part = literal(row.then)
                    else:
                        part = None
                    if part is not None:
                        size = part if size is None else hull(size, part)
            case MatrixValue(matrix=matrix):
                steps = sum(self.formula(f, context)[1] for f in (matrix.rows, matrix.columns) if f is not None)
                steps += len(matrix.cells)
                numbers = [
                    literal(v) for v in matrix.cells.values() if isinstance(v, Fraction) and not isinstance(v, bool)
                ]
                size = None
                for one in numbers:
                    size = one if size is None else hull(size, one)
        return Found(size, steps, self._largest)

    def _note(self, key: tuple[Any, ...]) -> None:
        """Remember the referenced value with the largest size: the next link of a growth chain."""
        found = self.found.get(key)
        if found is None or found.size is None:
            return
        best = self.found.get(self._largest) if self._largest is not None else None
        if best is None or best.size is None or _weight(found.size) > _weight(best.size):
            self._largest = key

    def _max_items(self, list_name: str) -> int:
        spec = self.policy.inputs.get(list_name)
        if spec is not None and spec.max_items is not None:
            return spec.max_items
        return MAX_LIST_ITEMS

    # Formulas -------------------------------------------------------------------------------

    def formula(self, formula: Formula | None, context: Context) -> tuple[Size | None, int]:
        if formula is None or formula.node is None:
            return None, 1
        return self.expr(formula.node, context)

    def expr(self, node: n.Expr, context: Context) -> tuple[Size | None, int]:
        """(size of the result or None when it is not a number, steps to compute it)."""
        match node:
            case n.Number(value=value):
                return literal(value), 1
            case n.Text() | n.Bool():
                return None, 1
            case n.Name(id=name):
                return self._name(name, context), 1
            case n.Field(obj=obj, name=field_name):
                _, steps = self.expr(obj, context)
                return self._field(obj, field_name, context), steps + 1
            case n.Negate(operand=x):
                size, steps = self.expr(x, context)
                return size, steps + 1
            case n.Binary(op=op, left=a, right=b):
                (left, s1), (right, s2) = self.expr(a, context), self.expr(b, context)
                left, right = left or SMALL, right or SMALL
                combine = {n.BinOp.ADD: add, n.BinOp.SUB: add, n.BinOp.MUL: mul, n.BinOp.DIV: div}[op]
                return combine(left, right), s1 + s2 + 1
            case n.Conditional(test=test, then=then, otherwise=otherwise):
                (_, s0), (taken, s1), (other, s2) = (self.expr(x, context) for x in (test, then, otherwise))
                size = taken if other is None else other if taken is None else hull(taken, other)
                return size, s0 + s1 + s2 + 1
            case n.Call(function=function, args=args):
                return self._call(function, args, context)
            case n.Aggregate(function=function, element=element, var=var, source=source, filter=condition):
                items = self._items(source, context)
                _, source_steps = self.expr(source, context)
                inner = context.bind(var, ("item_of", source))
                part, element_steps = self.expr(element, inner)
                if condition is not None:
                    element_steps += self.expr(condition, inner)[1]
                steps = source_steps + items * (element_steps + 1) + 1
                aggregate = AGGREGATES.get(function)
                return (aggregate.size(part, items) if aggregate is not None else None), steps
        steps = 1
        for child in n.children(node):
            steps += self.expr(child, context)[1]
        return None, steps

    def _name(self, name: str, context: Context) -> Size | None:
        element = context.local(name)
        if element is not None:
            spec = self._element_spec(element, context)
            return input_size(spec) if spec is None or spec.type in ("number", "integer") else None
        ref = resolve(self.policy, context, name)
        if ref is None:
            return SMALL
        if ref.kind in ("input", "field") and ref.spec is not None:
            return input_size(ref.spec) if ref.spec.type in ("number", "integer", "number_or_range") else None
        key = (ref.scope if ref.kind == "item_value" else None, name)
        found = self.value(key)
        self._note(key)
        return found.size

    def _field(self, obj: n.Expr, field_name: str, context: Context) -> Size | None:
        spec = self._spec_of(obj, context)
        if spec is not None and field_name in spec.fields:
            field_spec = spec.fields[field_name]
            return input_size(field_spec) if field_spec.type in ("number", "integer", "number_or_range") else None
        list_name = self._list_of(obj, context)
        if list_name is not None and (list_name, field_name) in self.policy.values:
            key = (list_name, field_name)
            found = self.value(key)
            self._note(key)
            return found.size
        return input_size(None)

    def _items(self, source: n.Expr, context: Context) -> int:
        if isinstance(source, n.Name):
            ref = resolve(self.policy, context, source.id)
            if ref is not None and ref.kind in ("input", "field") and ref.spec is not None and ref.spec.type == "list":
                return ref.spec.max_items if ref.spec.max_items is not None else MAX_LIST_ITEMS
        if isinstance(source, n.ListExpr):
            return max(1, len(source.items))
        if isinstance(source, n.Field):
            spec = self._spec_of(source, context)
            if spec is not None and spec.type == "list" and spec.max_items is not None:
                return spec.max_items
        return MAX_LIST_ITEMS

    def _element_spec(self, element: Any, context: Context) -> InputSpec | None:
        if isinstance(element, tuple):
            source = element[1]
            spec = self._spec_of(source, context) if isinstance(source, (n.Name, n.Field)) else None
            if spec is not None and spec.type == "list":
                return spec.items
        return None

    def _list_of(self, obj: n.Expr, context: Context) -> str | None:
        if isinstance(obj, n.Name):
            element = context.local(obj.id)
            if isinstance(element, tuple) and isinstance(element[1], n.Name):
                ref = resolve(self.policy, Context(context.scope), element[1].id)
                if ref is not None and ref.kind == "input" and ref.spec is not None and ref.spec.type == "list":
                    return element[1].id
        return None

    def _spec_of(self, obj: n.Expr, context: Context) -> InputSpec | None:
        if isinstance(obj, n.Name):
            element = context.local(obj.id)
            if element is not None:
                return self._element_spec(element, context)
            ref = resolve(self.policy, context, obj.id)
            if ref is not None and ref.kind in ("input", "field"):
                return ref.spec
            return None
        if isinstance(obj, n.Field):
            parent = self._spec_of(obj.obj, context)
            return parent.fields.get(obj.name) if parent is not None else None
        return None

    def _call(self, function: str, args: tuple[n.Expr, ...], context: Context) -> tuple[Size | None, int]:
        parts, steps = [], 1
        for arg in args:
            size, cost = self.expr(arg, context)
            parts.append(size)
            steps += cost
        spec = FUNCTIONS.get(function)
        if spec is None:
            return None, steps
        return spec.size([p or SMALL for p in parts], args, MAX_LIST_ITEMS), steps


def _weight(size: Size) -> int:
    return max(size.text, size.digits)


def check_bounds(policy: PolicyView, out: Diagnostics, ranges: RangeAnalysis | None = None) -> BoundAnalysis:
    """Refuse values whose size can pass MAX_MAGNITUDE_DIGITS or MAX_VALUE_DIGITS, and a policy
    whose steps per record can pass MAX_RECORD_STEPS; each at its line. Only the first value of a
    growth chain to pass a limit is reported: the ones that read it would only echo it."""
    analysis = BoundAnalysis(policy, ranges)
    over: set[tuple[str | None, str]] = set()
    total = 0
    for key, definition in sorted(policy.values.items(), key=lambda item: item[1].position):
        found = analysis.value(key)
        total += found.steps
        if found.size is None or (found.size.text <= MAX_MAGNITUDE_DIGITS and found.size.digits <= MAX_VALUE_DIGITS):
            continue
        over.add(key)
        if found.grew_from in over:
            continue
        if found.size.text > MAX_MAGNITUDE_DIGITS:
            message = _(
                "'{name}' can reach 10^{digits}: {chain}",
                name=definition.name,
                digits=f"{found.size.text:,}",
                chain=_chain(analysis, key),
            )
            hint = _(
                "bound it (min, clamp or a table), so that it stays below 10^{limit}", limit=f"{MAX_MAGNITUDE_DIGITS:,}"
            )
        else:
            message = _(
                "'{name}' can need {digits} digits as an exact fraction: {chain}",
                name=definition.name,
                digits=f"{found.size.digits:,}",
                chain=_chain(analysis, key),
            )
            hint = _(
                "round it (round(x, 2)) or lower the lists' max_items, so that it stays below {limit} digits",
                limit=f"{MAX_VALUE_DIGITS:,}",
            )
        out.add(definition.position, "bound.size", message, hint)
    for output in policy.outputs.values():
        for formula in (output.value, output.when):
            total += analysis.formula(formula, Context())[1] if formula is not None else 0
    for requirement in policy.requirements.values():
        if requirement.rule is not None:
            steps = analysis.formula(requirement.rule, Context(requirement.for_each))[1]
            total += steps * (analysis._max_items(requirement.for_each) if requirement.for_each else 1)
    if total > MAX_RECORD_STEPS:
        costly = max(policy.values.values(), key=lambda d: analysis.value(d.key).steps, default=None)
        position = costly.position if costly is not None else Position(policy.file)
        out.add(
            position,
            "bound.cost",
            _(
                "one record can cost {steps} steps, over the limit of {limit}; '{name}' alone costs {own}",
                steps=f"{total:,}",
                limit=f"{MAX_RECORD_STEPS:,}",
                name=costly.name if costly is not None else "",
                own=f"{analysis.value(costly.key).steps:,}" if costly is not None else "0",
            ),
            _("lower the lists' max_items, or avoid aggregates nested inside aggregates"),
        )
    return analysis


def _chain(analysis: BoundAnalysis, start: tuple[str | None, str]) -> str:
    links: list[str] = []
    seen: set[tuple[str | None, str]] = set()
    key: tuple[str | None, str] | None = start
    while key is not None and key not in seen and len(links) < MAX_CHAIN_SHOWN:
        seen.add(key)
        definition = analysis.policy.values[key]
        formula = definition.formula if isinstance(definition, (ComputedValue, IndicatorValue)) else None
        text = formula.text.strip() if formula is not None else definition.kind
        links.append(f"{definition.name} = {' '.join(text.split())}")
        key = analysis.found[key].grew_from if key in analysis.found else None
    return "; ".join(links) + (" ..." if key is not None and key not in seen else "")
