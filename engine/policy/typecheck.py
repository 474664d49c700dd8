"""Static types of formulas and values, and the type errors a policy author can make.

Types are few: number, text (optionally with its known values), boolean, a list of a type, a
record with fields, and `number_or_range` (a target that may be a range). `ANY` stands for a
part that already has an error, so one mistake is reported once.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from engine.diagnostics import Diagnostics
from engine.i18n import _
from engine.language import nodes as n
from engine.policy.functions import AGGREGATES, FUNCTIONS
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
from engine.policy.names import Context, list_item_of, resolve
from engine.policy.types import _KIND_WORDS, ANY, BOOLEAN, NUMBER, TARGET, TEXT, Type  # noqa: F401 (re-exported)


def literal_type(value: object) -> Type:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, Fraction):
        return NUMBER
    if isinstance(value, str):
        return Type("text", (value,))
    return ANY


def input_type(spec: InputSpec, list_name: str | None = None) -> Type:
    kind = spec.type
    if kind in ("number", "integer"):
        return NUMBER
    if kind == "text":
        return Type("text", tuple(spec.enum) if spec.enum else None)
    if kind == "boolean":
        return BOOLEAN
    if kind == "number_or_range":
        return TARGET
    if kind == "list":
        element = input_type(spec.items, spec.name) if spec.items is not None else ANY
        return Type("list", element=element, scope=spec.name)
    if kind == "record":
        return Type("record", fields=tuple((k, input_type(v)) for k, v in spec.fields.items()), scope=list_name)
    return ANY


def unify(a: Type, b: Type) -> Type:
    if a.kind == "any":
        return b
    if b.kind == "any":
        return a
    if a.kind == "text" and b.kind == "text":
        if a.values is None or b.values is None:
            return TEXT
        return Type("text", tuple(dict.fromkeys(a.values + b.values)))
    if a.kind == b.kind == "list":
        return Type("list", element=unify(a.element or ANY, b.element or ANY))
    if a.kind == b.kind:
        return a
    return Type("mixed")


class TypeChecker:
    """Infers the type of every value; reports mismatches to `diagnostics` (names are another pass)."""

    def __init__(self, policy: PolicyView, diagnostics: Diagnostics | None):
        self.policy = policy
        self.diagnostics = diagnostics if diagnostics is not None else Diagnostics()
        self.types: dict[tuple[str | None, str], Type] = {}
        self.formula_types: dict[tuple[Any, ...], Type] = {}  # formula path -> the type of its value
        self._busy: set[tuple[str | None, str]] = set()
        self._formula: Formula | None = None

    # values --------------------------------------------------------------------------------
    def value_type(self, key: tuple[Any, ...]) -> Type:
        if key in self.types:
            return self.types[key]
        if key in self._busy:  # a cycle: reported by the cycles pass
            return ANY
        definition = self.policy.values.get(key)
        if definition is None:
            return ANY
        self._busy.add(key)
        try:
            result = self._value(definition)
        finally:
            self._busy.discard(key)
        self.types[key] = result
        return result

    def _value(self, d: ValueDef) -> Type:
        context = Context(d.scope)
        match d:
            case ComputedValue(formula=formula):
                return self.formula(formula, context)
            case IndicatorValue(formula=formula, applies_when=applies):
                result = self.formula(formula, context)
                self.expect(
                    result,
                    NUMBER,
                    formula,
                    formula.node if formula else None,
                    _("indicator '{name}' must be a number", name=d.name),
                )
                if applies is not None:
                    self.expect(
                        self.formula(applies, context),
                        BOOLEAN,
                        applies,
                        applies.node,
                        _("applies_when must be true or false"),
                    )
                return result
            case TableValue():
                return self._table(d, context)
            case MatrixValue(matrix=matrix):
                for formula in (matrix.rows, matrix.columns):
                    self.formula(formula, context)
                result = ANY
                for value in matrix.cells.values():
                    result = unify(result, literal_type(value))
                return result
            case WeightedValue(weighted=weighted):
                if weighted.by is not None:
                    self.formula(weighted.by, context)
                for name in weighted.indicators:
                    self.value_type((d.scope, name))
                return NUMBER
        return ANY

    def _table(self, d: TableValue, context: Context) -> Type:
        column_types = [self.formula(f, context) for f in d.table.on]
        result = ANY
        for row in d.table.rows:
            for cell, column_type, column in zip(row.cells, column_types, d.table.on):
                if cell is not None:
                    self._cell(cell, column_type, column, row)
            if isinstance(row.then, Formula):
                result = unify(result, self.formula(row.then, context))
            else:
                result = unify(result, literal_type(row.then))
        if result.kind == "mixed":
            self.diagnostics.add(
                d.position,
                "type.mixed",
                _("the rows of '{name}' give values of different types", name=d.name),
                _("every row must give a number, or every row a text"),
            )
            return ANY
        return result

    def _cell(self, cell: n.Cell, column_type: Type, column: Formula | None, row: Row) -> None:
        if column_type.kind == "any" or column is None:  # a column that did not parse has type any
            return
        if isinstance(cell, (n.CompareCell, n.IntervalCell)) and column_type.kind != "number":
            self.diagnostics.add(
                row.position,
                "type.cell",
                _("a range cell needs a number column; '{column}' is {type}", column=column.text, type=column_type),
            )
        if isinstance(cell, n.LiteralsCell):
            for value in cell.values:
                vt = literal_type(value)
                if vt.kind != column_type.kind:
                    self.diagnostics.add(
                        row.position,
                        "type.cell",
                        _(
                            "cell value {value} is {kind} but '{column}' is {type}",
                            value=repr(value),
                            kind=vt,
                            column=column.text,
                            type=column_type,
                        ),
                    )
                elif column_type.values is not None and value not in column_type.values:
                    self.diagnostics.add(
                        row.position,
                        "type.enum_value",
                        _("'{value}' is not a value of '{column}'", value=value, column=column.text),
                        _values_hint(str(value), column_type.values),
                    )

    # formulas ------------------------------------------------------------------------------
    def formula(self, formula: Formula | None, context: Context) -> Type:
        if formula is None or formula.node is None:
            return ANY
        previous, self._formula = self._formula, formula
        try:
            result = self.infer(formula.node, context)
        finally:
            self._formula = previous
        self.formula_types[formula.path] = result
        return result

    def error(self, node: n.Expr, code: str, message: str, hint: str = "") -> None:
        assert self._formula is not None  # errors are reported while a formula is inferred
        position = self._formula.locate(self.policy.sources, node.loc)
        self.diagnostics.add(position, code, message, hint)

    def expect(self, actual: Type, wanted: Type, formula: Formula | None, node: n.Expr | None, message: str) -> None:
        if actual.kind in ("any", wanted.kind) or node is None:
            return
        previous, self._formula = self._formula, formula
        try:
            self.error(node, "type.mismatch", _("{message}, not {actual}", message=message, actual=actual))
        finally:
            self._formula = previous

    def need(self, node: n.Expr, context: Context, wanted: Type, what: str | Callable[[], str]) -> Type:
        """The type of `node`, which must be `wanted`. `what` names the operand in the error, and may be
        a function that words it: most operands are fine, and wording each costs a translation."""
        actual = self.infer(node, context)
        if actual.kind not in ("any", wanted.kind):
            what = what() if callable(what) else what
            hint = (
                _("a target can be a range; use capaian(realisasi, target)") if actual.kind == "number_or_range" else ""
            )
            self.error(
                node,
                "type.mismatch",
                _("{what} must be {expected}, not {actual}", what=what, expected=wanted, actual=actual),
                hint,
            )
            return ANY
        return actual

    def infer(self, node: n.Expr, context: Context) -> Type:
        match node:
            case n.Number():
                return NUMBER
            case n.Text(value=value):
                return Type("text", (value,))
            case n.Bool():
                return BOOLEAN
            case n.Name(id=name):
                return self._name(name, context)
            case n.Field(obj=obj, name=field_name):
                return self._field(node, obj, field_name, context)
            case n.Negate(operand=x):
                self.need(x, context, NUMBER, lambda: _("the value after '-'"))
                return NUMBER
            case n.Not(operand=x):
                self.need(x, context, BOOLEAN, lambda: _("the value after 'not'"))
                return BOOLEAN
            case n.Binary(op=op, left=a, right=b):
                self.need(a, context, NUMBER, lambda: _("the left side of '{operator}'", operator=op.value))
                self.need(b, context, NUMBER, lambda: _("the right side of '{operator}'", operator=op.value))
                return NUMBER
            case n.Compare(op=op, left=a, right=b):
                return self._compare(node, op, a, b, context)
            case n.Logical(op=op, left=a, right=b):
                self.need(a, context, BOOLEAN, lambda: _("the left side of '{operator}'", operator=op.value))
                self.need(b, context, BOOLEAN, lambda: _("the right side of '{operator}'", operator=op.value))
                return BOOLEAN
            case n.Member(element=a, container=b):
                element, container = self.infer(a, context), self.infer(b, context)
                if container.kind not in ("list", "any"):
                    self.error(b, "type.mismatch", _("'in' needs a list on its right, not {type}", type=container))
                elif container.kind == "list":
                    self._comparable(node, element, container.element or ANY, a, b)
                return BOOLEAN
            case n.Conditional(test=test, then=then, otherwise=otherwise):
                self.need(test, context, BOOLEAN, lambda: _("the condition after 'if'"))
                result = unify(self.infer(then, context), self.infer(otherwise, context))
                if result.kind == "mixed":
                    self.error(node, "type.mismatch", _("the 'then' and 'else' parts give values of different types"))
                    return ANY
                return result
            case n.Call():
                return self._call(node, context)
            case n.Aggregate():
                return self._aggregate(node, context)
            case n.ListExpr(items=items):
                result = ANY
                for item in items:
                    result = unify(result, self.infer(item, context))
                if result.kind == "mixed":
                    self.error(node, "type.mismatch", _("a list must hold values of one type"))
                    result = ANY
                return Type("list", element=result)
        return ANY

    def _name(self, name: str, context: Context) -> Type:
        element = context.local(name)
        if element is not None:
            return element if isinstance(element, Type) else ANY
        ref = resolve(self.policy, context, name)
        if ref is None:
            return ANY  # the names pass reports it
        if ref.kind in ("input", "field") and ref.spec is not None:
            return input_type(ref.spec, ref.name if ref.spec.type == "list" else None)
        return self.value_type((ref.scope if ref.kind == "item_value" else None, name))

    def _field(self, node: n.Field, obj: n.Expr, field_name: str, context: Context) -> Type:
        obj_type = self.infer(obj, context)
        if obj_type.kind == "any":
            return ANY
        if obj_type.kind != "record":
            self.error(
                node, "type.field", _("'.{field}' needs a record, and this is {type}", field=field_name, type=obj_type)
            )
            return ANY
        found = obj_type.field(field_name)
        if found is not None:
            return found
        scope = obj_type.scope or list_item_of(self.policy, context, obj)
        if scope is not None and (scope, field_name) in self.policy.values:
            return self.value_type((scope, field_name))
        options = [k for k, _ in obj_type.fields] + [name for s, name in self.policy.values if s == scope and scope]
        close = difflib.get_close_matches(field_name, options, n=1)
        self.error(
            node,
            "name.unknown_field",
            _("no field '{field}' here", field=field_name),
            _("did you mean '{close}'?", close=close[0])
            if close
            else _("fields here: {names}", names=", ".join(options)),
        )
        return ANY

    def _compare(self, node: n.Compare, op: n.CmpOp, a: n.Expr, b: n.Expr, context: Context) -> Type:
        left, right = self.infer(a, context), self.infer(b, context)
        if op in (n.CmpOp.EQ, n.CmpOp.NE):
            self._comparable(node, left, right, a, b)
        else:
            for side, t in ((a, left), (b, right)):
                if t.kind not in ("number", "any"):
                    self.error(
                        side, "type.mismatch", _("'{operator}' compares numbers, not {type}", operator=op.value, type=t)
                    )
        return BOOLEAN

    def _comparable(self, node: n.Expr, left: Type, right: Type, a: n.Expr, b: n.Expr) -> None:
        if "any" in (left.kind, right.kind):
            return
        if left.kind != right.kind:
            self.error(node, "type.mismatch", _("cannot compare {left} with {right}", left=left, right=right))
            return
        if left.kind == "text":
            for known, literal in ((left, b), (right, a)):
                if (
                    known.values is not None
                    and isinstance(literal, n.Text)
                    and len(known.values) > 1
                    and literal.value not in known.values
                ):
                    self.error(
                        literal,
                        "type.enum_value",
                        _("'{value}' is never a value here", value=literal.value),
                        _values_hint(literal.value, known.values),
                    )

    def _call(self, node: n.Call, context: Context) -> Type:
        name, args = node.function, node.args
        spec = FUNCTIONS.get(name)
        if spec is None:
            return ANY  # the names pass reports it
        low, high = spec.min_args, spec.max_args
        if len(args) < low or (high is not None and len(args) > high):
            count = (
                f"{low}"
                if low == high
                else _("{low} or more", low=low)
                if high is None
                else _("{low} to {high}", low=low, high=high)
            )
            self.error(
                node,
                "function.arity",
                _("{name}() takes {count} arguments, not {given}", name=name, count=count, given=len(args)),
                _(spec.description),
            )
            return ANY
        return spec.type_rule(self, node, context)

    def _aggregate(self, node: n.Aggregate, context: Context) -> Type:
        spec = AGGREGATES.get(node.function)
        source = self.infer(node.source, context)
        if source.kind not in ("list", "any"):
            self.error(
                node.source,
                "type.mismatch",
                _(
                    "'{name}(... for {var} in ...)' needs a list, not {type}",
                    name=node.function,
                    var=node.var,
                    type=source,
                ),
            )
            source = ANY
        element = source.element if source.kind == "list" else ANY
        inner = context.bind(node.var, element or ANY)
        if node.filter is not None:
            self.need(node.filter, inner, BOOLEAN, lambda: _("the condition after 'if'"))
        if spec is None:  # the names pass reports it
            self.infer(node.element, inner)
            return ANY
        if spec.element is None:
            self.infer(node.element, inner)
        else:
            self.need(node.element, inner, spec.element, lambda: _("the values of {name}()", name=node.function))
        return spec.result


def _values_hint(value: str, values: tuple[Any, ...]) -> str:
    close = difflib.get_close_matches(str(value), [str(v) for v in values], n=1)
    values_text = _("values: {values}", values=", ".join(map(str, values)))
    return (_("did you mean '{close}'?", close=close[0]) + " " if close else "") + values_text
