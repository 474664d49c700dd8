"""Named values: each computed in place where first needed, else by its generated function; and
the bodies of tables, matrices and weighted values."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from engine.evaluate.kernel.emitter import (
    MAX_INLINE_INDENT,
    REDUCE_ABOVE,
    Ctx,
    Emitter,
    Function,
    Key,
    Kind,
    Sign,
    Unsupported,
    Val,
    interval_sign,
    mul,
    pair,
)
from engine.language import nodes as n
from engine.policy.checked import ComputedValue, IndicatorValue, MatrixValue, TableValue, ValueDef, WeightedValue
from engine.policy.model import Formula


class ValueCode(Emitter):
    """Named values, written once each (emitter.py says how)."""

    def setup_values(self) -> None:
        self.known = self.policy.constants
        self.writing: set[Key] = set()  # values whose code is being written (a cycle would show here)

    def kind_of(self, key: Key) -> Kind:
        """The kind of a named value in the kernel, from the type the checks found."""
        d = self.policy.values[key]
        kind = d.type.kind if d.type is not None else "any"
        if kind in _KINDS:
            return _KINDS[kind]
        element = d.type.element.kind if kind == "list" and d.type.element is not None else None
        if element in ("text", "boolean"):
            return "tuple"  # a literal list of options, for `in`
        raise Unsupported(f"value '{d.name}' is a {kind}")

    def sign_of(self, key: Key, found: Sign = None) -> Sign:
        """A value's sign: from the interval the checks found, else from its expression."""
        return interval_sign(self.policy.values[key].interval) or found

    @staticmethod
    def value_ctx(d: ValueDef) -> Ctx:
        return Ctx(d.scope, "it" if d.scope else None, "im" if d.scope else None)

    def reduced(self, val: Val) -> tuple[str, str]:
        if val.d == "1":
            if val.v.isidentifier() or val.v.lstrip("-").isdigit():
                return val.v, "1"
            t = self.tmp()
            self.emit(f"{t} = {val.v}")
            return t, "1"
        num, den = self.tmp(), self.tmp()
        self.emit(f"{num}, {den} = {val.v}, {val.d}")
        self.emit(f"if {den} > {REDUCE_ABOVE}:")
        self.emit(f"    g = gcd({num}, {den}); {num} //= g; {den} //= g")
        return num, den

    def value_body(self, d: ValueDef, ctx: Ctx) -> Val:
        match d:
            case ComputedValue(formula=formula) | IndicatorValue(formula=formula):
                return self.expr(_node(formula), ctx)
            case TableValue():
                return self.table(d, ctx)
            case MatrixValue():
                return self.matrix(d, ctx)
            case WeightedValue():
                return self.weighted(d, ctx)
        raise Unsupported(f"value {d.name}")

    def use_value(self, key: Key, item: str | None = None, memo: str | None = None) -> Val:
        """A named value: reused where this path computed it already; else written in place the
        first time the generator needs it (unless deep in blocks), and called as its function
        every later time. A value
        of an item is looked up in its item's memo first, unless nothing can have filled it yet."""
        kind = self.kind_of(key)
        d = self.policy.values[key]
        if key[0] is None:
            mark: object = key
            store, guarded, ctx, extra = "M", False, self.value_ctx(d), ""
        else:
            if item is None or memo is None:
                raise Unsupported(f"'{d.name}' outside its items")
            mark = ("item", item, key)
            store, guarded, ctx, extra = memo, memo not in self.fresh, Ctx(key[0], item, memo), f", {item}, {memo}"
        if mark in self.computed:
            return self.computed[mark]
        if key not in self.inlined and self.indent <= MAX_INLINE_INDENT:
            self.inlined.add(key)
            found = self.in_place(key, kind, store, guarded, ctx)
        else:
            found = self.call(key, kind, store, extra)
        self.computed[mark] = found
        return found

    def in_place(self, key: Key, kind: Kind, memo: str, guarded: bool, ctx: Ctx) -> Val:
        t = self.tmp()
        if guarded:
            self.emit(f"{t} = {memo}.get({key[1]!r})")
            self.emit(f"if {t} is None:")
            self.open()
        num, den, sign = self.store(key, kind, memo, ctx, t)
        if guarded:
            self.close()
            if kind == "num":
                num, den = self.tmp(), self.tmp()
                self.emit(f"{num}, {den} = {t}")
        return self.found(kind, t, num, den, sign)

    def store(self, key: Key, kind: Kind, memo: str, ctx: Ctx, t: str) -> tuple[str, str, Sign]:
        """Compute a value into `t` and its memo: (numerator, denominator, sign) for a number."""
        if key in self.writing:
            raise Unsupported("values that depend on themselves")
        self.writing.add(key)
        val = self.value_body(self.policy.values[key], ctx)
        self.writing.discard(key)
        if val.kind != kind:
            raise Unsupported(f"value '{key[1]}' is a {val.kind}, typed {kind}")
        num = den = ""
        if kind == "num":
            num, den = self.reduced(val)
            self.emit(f"{t} = {memo}[{key[1]!r}] = ({num}, {den})")
        elif kind == "tuple":
            self.emit(f"{t} = {memo}[{key[1]!r}] = list({val.v})")
        else:
            self.emit(f"{t} = {memo}[{key[1]!r}] = {val.v}")
        return num, den, self.sign_of(key, val.sign)

    @staticmethod
    def found(kind: Kind, t: str, num: str, den: str, sign: Sign) -> Val:
        if kind == "num":
            return Val("num", num, den, sign=sign)
        if kind == "tuple":
            return Val("tuple", f"tuple({t})")
        return Val(kind, t)

    def call(self, key: Key, kind: Kind, memo: str, extra: str) -> Val:
        """A value written already elsewhere: from its memo, else from its function."""
        function = self.function(key)
        self.touching |= function.touched
        if not self.in_function:
            self.memos_made |= function.touched
        t = self.tmp()
        self.emit(f"{t} = {memo}.get({key[1]!r})")
        self.emit(f"if {t} is None: {t} = {function.name}(R, M, IM{extra})")
        num = den = ""
        if kind == "num":
            num, den = self.tmp(), self.tmp()
            self.emit(f"{num}, {den} = {t}")
        return self.found(kind, t, num, den, self.sign_of(key))

    def function(self, key: Key) -> Function:
        """The generated function of a value, written the first time it is asked for."""
        if key in self.functions:
            return self.functions[key]
        d = self.policy.values[key]
        function = self.functions[key] = Function(f"V{len(self.functions)}")
        saved = self.save()
        self.start(f"def {function.name}(R, M, IM{', it, im' if d.scope else ''}):", in_function=True)
        t = self.tmp()
        self.store(key, self.kind_of(key), "im" if d.scope else "M", self.value_ctx(d), t)
        self.emit(f"return {t}")
        function.touched = self.touching
        self.function_lines.extend(self.lines)
        self.restore(saved)
        return function

    # tables, matrices, weights -------------------------------------------------------------------
    def table(self, d: TableValue, ctx: Ctx) -> Val:
        columns = [self.expr(_node(f), ctx) for f in d.table.on]
        result, kind = self.tmp(), None
        for index, row in enumerate(d.table.rows):
            tests = [t for t in (self.cell_test(cell, column) for cell, column in zip(row.cells, columns)) if t]
            self.emit(("if " if index == 0 else "elif ") + (" and ".join(tests) or "True") + ":")
            self.open()
            then = self.expr(_node(row.then), ctx) if isinstance(row.then, Formula) else self.literal(row.then)
            kind = self.same_kind(kind, then.kind, d.name)
            self.assign(result, then)
            self.close()
        self.emit("else: raise Fallback")  # no row matches: the exact path reports it
        if kind is None:
            raise Unsupported(f"'{d.name}' has no rows")
        return self.result(result, kind)

    @staticmethod
    def literal(value: object) -> Val:
        if isinstance(value, bool):
            return Val("bool", repr(value))
        if isinstance(value, str):
            return Val("text", repr(value))
        if isinstance(value, Fraction):
            return Val("num", *pair(value))
        raise Unsupported(f"literal {value!r}")

    def bound_value(self, b: n.Bound) -> Fraction:
        if b.value is not None:
            return b.value
        if b.name is None or b.name not in self.known:
            raise Unsupported(f"the bound {b.name}")
        return self.known[b.name]

    @staticmethod
    def against(val: Val, op: str, bound: Fraction) -> str:
        """`val op bound` by cross-multiplication (denominators are positive)."""
        return f"{mul(val.v, str(bound.denominator))} {op} {mul(str(bound.numerator), val.d)}"

    def cell_test(self, cell: n.Cell | None, column: Val) -> str:
        match cell:
            case n.AnyCell():
                return ""
            case n.CompareCell(op=op, bound=b):
                self.expect(column, "num")
                return self.against(column, op.value, self.bound_value(b))
            case n.IntervalCell(low=lo, high=hi, low_closed=lc, high_closed=hc):
                self.expect(column, "num")
                return (
                    f"{self.against(column, '>=' if lc else '>', self.bound_value(lo))} and "
                    f"{self.against(column, '<=' if hc else '<', self.bound_value(hi))}"
                )
            case n.LiteralsCell(values=values):
                tests = []
                for value in values:
                    if isinstance(value, bool):
                        if column.kind == "bool":
                            tests.append(f"{column.v} is {value!r}")
                    elif isinstance(value, str):
                        if column.kind == "text":
                            tests.append(f"{column.v} == {value!r}")
                    elif column.kind == "num":
                        tests.append(self.against(column, "==", value))
                return "(" + (" or ".join(tests) or "False") + ")"
        raise Unsupported(f"cell {cell!r}")

    def matrix(self, d: MatrixValue, ctx: Ctx) -> Val:
        rows, columns = self.expr(_node(d.matrix.rows), ctx), self.expr(_node(d.matrix.columns), ctx)
        cells = dict(d.matrix.cells)
        if {type(v) for v in cells.values()} != {str} or "num" in (rows.kind, columns.kind):
            raise Unsupported(f"matrix '{d.name}' is not text by text to text")
        t = self.tmp()
        self.emit(f"{t} = {self.const(cells)}.get(({rows.v}, {columns.v}))")
        self.emit(f"if {t} is None: raise Fallback")
        return Val("text", t)

    def weighted(self, d: WeightedValue, ctx: Ctx) -> Val:
        w = d.weighted
        key = self.expr(_node(w.by), ctx) if w.by is not None else None
        result = self.tmp()
        named = [(k, weights) for k, weights in w.weights.items() if k != "default"]
        default = w.weights.get("default")
        if key is None or not named:
            if default is None:
                raise Unsupported(f"'{d.name}' has no default weights")
            self.weighted_sum(d, default, ctx, result)
            return Val("num", result, result + "d")
        for index, (set_key, weights) in enumerate(named):
            self.emit(f"{'if' if index == 0 else 'elif'} {key.v} == {set_key!r}:")
            self.open()
            self.weighted_sum(d, weights, ctx, result)
            self.close()
        self.emit("else:")
        self.open()
        if default is None:
            self.emit("raise Fallback")
        else:
            self.weighted_sum(d, default, ctx, result)
        self.close()
        return Val("num", result, result + "d")

    def weighted_sum(self, d: WeightedValue, weights: Mapping[str, Fraction], ctx: Ctx, result: str) -> None:
        w = d.weighted
        renormalise = w.not_applicable == "renormalise"
        total, total_d, applied, applied_d = self.tmp(), self.tmp(), self.tmp(), self.tmp()
        self.emit(f"{total} = 0; {total_d} = 1" + (f"; {applied} = 0; {applied_d} = 1" if renormalise else ""))
        for indicator, weight in weights.items():
            definition = self.policy.values[(d.scope, indicator)]
            if not isinstance(definition, IndicatorValue):
                raise Unsupported(f"'{indicator}' is not an indicator")
            condition = definition.applies_when.node if definition.applies_when is not None else None
            if condition is not None:
                test = self.expr(condition, ctx)
                self.expect(test, "bool")
                self.emit(f"if {test.v}:")
                self.open()
            value = self.use_value((d.scope, indicator), ctx.item, ctx.memo)
            self.expect(value, "num")
            term = self.binary(n.BinOp.MUL, Val("num", *pair(weight)), value)
            self.accumulate(total, total_d, term)
            if renormalise:
                self.accumulate(applied, applied_d, Val("num", *pair(weight)))
            if condition is not None:
                self.close()
        sum_val = Val("num", total, total_d)
        if renormalise:
            self.divide(sum_val, Val("num", applied, applied_d), result)  # none applies: Fallback
        else:
            self.divide(sum_val, Val("num", *pair(w.total)), result)


def _node(formula: object) -> n.Expr:
    """The checked tree of a formula (a policy with a formula that did not parse is never loaded)."""
    if not isinstance(formula, Formula) or formula.node is None:
        raise Unsupported("a formula that did not parse")
    return formula.node


#: Kernel kinds of the checks' types (a list of text or booleans is a "tuple": options for `in`).
_KINDS: dict[str, Kind] = {"number": "num", "text": "text", "boolean": "bool"}
