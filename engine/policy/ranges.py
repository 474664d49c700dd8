"""Range analysis: the interval every numeric value can take, from the inputs' constraints.

It narrows a name inside a table row (`c` in `[101, 110]` while computing that row's formula)
and inside a simple conditional (`if e <= 24 then ... else ...`), which is what the regulations'
band formulas need to be analysed without false alarms.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from fractions import Fraction
from typing import Any, Literal

from engine.language import nodes as n
from engine.policy import intervals as iv
from engine.policy.functions import AGGREGATES, FUNCTIONS, rounded_interval
from engine.policy.intervals import EVERYTHING, Interval
from engine.policy.model import (
    ComputedValue,
    Formula,
    IndicatorValue,
    InputSpec,
    MatrixValue,
    PolicyView,
    Row,
    TableValue,
    ValueDef,
    WeightedValue,
)
from engine.policy.names import Context, resolve

BOOL_OR_TEXT = None  # non-numeric values have no interval


def input_interval(spec: InputSpec) -> Interval:
    lo, lo_closed, hi, hi_closed = None, True, None, True
    if spec.minimum is not None:
        lo = spec.minimum
    if spec.exclusive_minimum is not None and (lo is None or spec.exclusive_minimum >= lo):
        lo, lo_closed = spec.exclusive_minimum, False
    if spec.maximum is not None:
        hi = spec.maximum
    if spec.exclusive_maximum is not None and (hi is None or spec.exclusive_maximum <= hi):
        hi, hi_closed = spec.exclusive_maximum, False
    if spec.enum and all(isinstance(v, Fraction) for v in spec.enum):
        return Interval(min(spec.enum), max(spec.enum))
    return Interval(lo, hi, lo_closed, hi_closed)


def cell_interval(cell: n.Cell | None, constants: Mapping[str, Fraction]) -> Interval | None:
    """The set of numbers a numeric cell accepts (None for a non-numeric cell)."""

    def bound(b: n.Bound) -> Fraction | None:
        return b.value if b.value is not None else constants.get(b.name or "")

    if isinstance(cell, n.AnyCell):
        return EVERYTHING
    if isinstance(cell, n.CompareCell):
        value = bound(cell.bound)
        if value is None:
            return None
        return {
            n.CmpOp.GE: Interval(value, None),
            n.CmpOp.GT: Interval(value, None, False, True),
            n.CmpOp.LE: Interval(None, value),
            n.CmpOp.LT: Interval(None, value, True, False),
            n.CmpOp.EQ: Interval.point(value),
        }.get(cell.op)
    if isinstance(cell, n.IntervalCell):
        low, high = bound(cell.low), bound(cell.high)
        if low is None or high is None:
            return None
        return Interval(low, high, cell.low_closed, cell.high_closed)
    if (
        isinstance(cell, n.LiteralsCell)
        and len(cell.values) == 1
        and isinstance(cell.values[0], Fraction)
        and not isinstance(cell.values[0], bool)
    ):
        return Interval.point(cell.values[0])
    return None


def constants(policy: PolicyView) -> dict[str, Fraction]:
    """Values whose formula is a plain number: usable as bounds in table cells."""
    found = {}
    for (scope, name), definition in policy.values.items():
        if scope is None and isinstance(definition, ComputedValue) and definition.formula is not None:
            node = definition.formula.node
            if isinstance(node, n.Number):
                found[name] = node.value
    return found


class RangeAnalysis:
    def __init__(self, policy: PolicyView):
        self.policy = policy
        self.constants = constants(policy)
        self.cache: dict[tuple[str | None, str], Interval | None] = {}
        self._busy: set[tuple[str | None, str]] = set()

    def value(self, key: tuple[Any, ...]) -> Interval | None:
        if key in self.cache:
            return self.cache[key]
        if key in self._busy:
            return EVERYTHING
        definition = self.policy.values.get(key)
        if definition is None:
            return EVERYTHING
        self._busy.add(key)
        try:
            result = self._value(definition)
        finally:
            self._busy.discard(key)
        self.cache[key] = result
        return result

    def _value(self, d: ValueDef) -> Interval | None:
        context = Context(d.scope)
        match d:
            case ComputedValue(formula=formula) | IndicatorValue(formula=formula):
                return self.formula(formula, context)
            case WeightedValue(weighted=weighted):
                result = None
                for name in weighted.indicators:
                    part = self.value((d.scope, name))
                    result = part if result is None else iv.hull(result, part or EVERYTHING)
                if weighted.not_applicable == "zero" and result is not None:
                    result = iv.hull(result, Interval.point(Fraction(0)))
                return result
            case TableValue():
                return self.table_result(d, context)
            case MatrixValue(matrix=matrix):
                numbers = [v for v in matrix.cells.values() if isinstance(v, Fraction) and not isinstance(v, bool)]
                return Interval(min(numbers), max(numbers)) if numbers else None
        return None

    def table_result(self, d: TableValue, context: Context) -> Interval | None:
        result = None
        for row, narrowed in self.rows(d, context):
            if narrowed is False:
                continue
            if isinstance(row.then, Formula):
                part = self.formula(row.then, context, narrowed or {})
            elif isinstance(row.then, Fraction) and not isinstance(row.then, bool):
                part = Interval.point(row.then)
            else:
                return None
            if part is None:
                return None
            result = part if result is None else iv.hull(result, part)
        return result

    def rows(self, d: TableValue, context: Context) -> Iterator[tuple[Row, dict[str, Interval] | Literal[False]]]:
        """Each row with the narrowing it implies on plain-name columns (False: the row cannot match)."""
        columns = d.table.on
        for row in d.table.rows:
            narrowed: dict[str, Interval] = {}
            possible = True
            for cell, column in zip(row.cells, columns):
                if cell is None or column is None or column.node is None:
                    continue
                accepted = cell_interval(cell, self.constants)
                if accepted is None:
                    continue
                domain = self.formula(column, context)
                if domain is not None:
                    if iv.intersect(domain, accepted).empty:
                        possible = False
                        break
                    if isinstance(column.node, n.Name):
                        narrowed[column.node.id] = iv.intersect(domain, accepted)
            yield row, narrowed if possible else False

    def formula(
        self, formula: Formula | None, context: Context, narrowed: dict[Any, Any] | None = None
    ) -> Interval | None:
        if formula is None or formula.node is None:
            return EVERYTHING
        return self.expr(formula.node, context, narrowed or {})

    def expr(self, node: n.Expr, context: Context, narrowed: dict[Any, Any]) -> Interval | None:
        match node:
            case n.Number(value=value):
                return Interval.point(value)
            case n.Name(id=name):
                if name in narrowed:
                    found: Interval | None = narrowed[name]
                    return found
                return self._name(name, context)
            case n.Field(obj=obj, name=field_name):
                return self._field(obj, field_name, context)
            case n.Negate(operand=x):
                inner = self.expr(x, context, narrowed)
                return iv.neg(inner) if inner is not None else None
            case n.Binary(op=op, left=a, right=b):
                left, right = self.expr(a, context, narrowed), self.expr(b, context, narrowed)
                if left is None or right is None:
                    return EVERYTHING
                return {n.BinOp.ADD: iv.add, n.BinOp.SUB: iv.sub, n.BinOp.MUL: iv.mul, n.BinOp.DIV: iv.div}[op](
                    left, right
                )
            case n.Conditional(test=test, then=then, otherwise=otherwise):
                yes, no = self._narrow(test, context, narrowed)
                taken = self.expr(then, context, yes) if yes is not False else None
                other = self.expr(otherwise, context, no) if no is not False else None
                if taken is None or other is None:
                    return taken if other is None else other
                return iv.hull(taken, other)
            case n.Call(function=function, args=args):
                return self._call(function, args, context, narrowed)
            case n.Aggregate(function=function, element=element, var=var, source=source):
                aggregate = AGGREGATES.get(function)
                if aggregate is None:
                    return EVERYTHING
                if aggregate.element is None:  # count: its values do not matter
                    return aggregate.interval(None)
                within = context.bind(var, ("item_of", source))
                return aggregate.interval(self.expr(element, within, narrowed))
        return None

    def _narrow(self, test: n.Expr, context: Context, narrowed: dict[Any, Any]) -> tuple[Any, Any]:
        """Narrowings for the then and else branches of `name op number` (else: unchanged)."""
        if isinstance(test, n.Compare) and isinstance(test.left, n.Name) and isinstance(test.right, n.Number):
            name, value = test.left.id, test.right.value
            domain = narrowed.get(name) or self._name(name, context)
            if domain is None:
                return narrowed, narrowed
            yes_no = {
                n.CmpOp.LE: (Interval(None, value), Interval(value, None, False, True)),
                n.CmpOp.LT: (Interval(None, value, True, False), Interval(value, None)),
                n.CmpOp.GE: (Interval(value, None), Interval(None, value, True, False)),
                n.CmpOp.GT: (Interval(value, None, False, True), Interval(None, value)),
            }.get(test.op)
            if yes_no is None:
                return narrowed, narrowed
            yes, no = (iv.intersect(domain, part) for part in yes_no)
            return (
                {**narrowed, name: yes} if not yes.empty else False,
                {**narrowed, name: no} if not no.empty else False,
            )
        return narrowed, narrowed

    def _name(self, name: str, context: Context) -> Interval | None:
        element = context.local(name)
        if element is not None:  # an aggregate's variable: an element of a list
            spec = self._element_spec(element, context)
            if spec is not None and spec.type in ("number", "integer"):
                return input_interval(spec)
            return EVERYTHING
        ref = resolve(self.policy, context, name)
        if ref is None:
            return EVERYTHING
        if ref.kind in ("input", "field") and ref.spec is not None:
            return input_interval(ref.spec) if ref.spec.type in ("number", "integer") else None
        return self.value((ref.scope if ref.kind == "item_value" else None, name))

    def _field(self, obj: n.Expr, field_name: str, context: Context) -> Interval | None:
        spec = self._spec_of(obj, context)
        if spec is not None:
            if field_name in spec.fields:
                field_spec = spec.fields[field_name]
                return input_interval(field_spec) if field_spec.type in ("number", "integer") else None
            list_name = self._list_of(obj, context)
            if list_name is not None and (list_name, field_name) in self.policy.values:
                return self.value((list_name, field_name))
        return EVERYTHING

    def _element_spec(self, element: Any, context: Context) -> InputSpec | None:
        """The declared spec of a list's elements, when the list is an input."""
        if isinstance(element, tuple) and isinstance(element[1], n.Name):
            ref = resolve(self.policy, Context(context.scope), element[1].id)
            if ref is not None and ref.kind in ("input", "field") and ref.spec is not None and ref.spec.type == "list":
                return ref.spec.items
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
        """The input spec a record expression denotes, when it is a path into the inputs."""
        if isinstance(obj, n.Name):
            list_name = self._list_of(obj, context)
            if list_name is not None:
                return self.policy.inputs[list_name].items
            ref = resolve(self.policy, context, obj.id)
            if ref is not None and ref.kind in ("input", "field"):
                return ref.spec
            return None
        if isinstance(obj, n.Field):
            parent = self._spec_of(obj.obj, context)
            return parent.fields.get(obj.name) if parent is not None else None
        return None

    def _call(
        self, function: str, args: tuple[n.Expr, ...], context: Context, narrowed: dict[Any, Any]
    ) -> Interval | None:
        parts = [self.expr(a, context, narrowed) if not isinstance(a, (n.Text, n.ListExpr)) else None for a in args]
        spec = FUNCTIONS.get(function)
        return spec.interval(parts, args) if spec is not None else EVERYTHING


def _rounded(p: Interval, places: int) -> Interval:
    """Any rounding to `places` keeps a value between its floor and its ceiling at those places."""
    return rounded_interval(p, places)
