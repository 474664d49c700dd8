"""Expressions compiled to integer-pair arithmetic: names and fields, operators, built-in functions
and aggregates over a list."""

from __future__ import annotations

from fractions import Fraction

from engine.evaluate.kernel.emitter import (
    Ctx,
    Emitter,
    Target,
    Unsupported,
    Val,
    literal_sign,
    mul,
    pair,
    product_sign,
    spec_sign,
    sum_sign,
)
from engine.language import nodes as n
from engine.numbers import RoundingMode
from engine.policy.functions import AGGREGATES, FUNCTIONS
from engine.policy.model import InputSpec
from engine.policy.names import resolve


class ExpressionCode(Emitter):
    """Expressions: each node's code written once, where the tree has it."""

    inputs: dict[tuple[str, ...], Val]

    def expr(self, node: n.Expr, ctx: Ctx, peek: bool = False) -> Val:
        match node:
            case n.Number(value=value):
                return Val("num", *pair(value), sign=literal_sign(value))
            case n.Text(value=value):
                return Val("text", repr(value))
            case n.Bool(value=value):
                return Val("bool", repr(value))
            case n.Name(id=name):
                return self.name(name, ctx, peek)
            case n.Field(obj=obj, name=field_name):
                return self.field(obj, field_name, ctx, peek)
            case n.Negate(operand=x):
                val = self.expr(x, ctx)
                self.expect(val, "num")
                return Val("num", f"(-{val.v})", val.d)
            case n.Not(operand=x):
                val = self.expr(x, ctx)
                self.expect(val, "bool")
                t = self.tmp()
                self.emit(f"{t} = not {val.v}")
                return Val("bool", t)
            case n.Binary(op=op, left=a, right=b):
                return self.binary(op, self.expr(a, ctx), self.expr(b, ctx))
            case n.Compare(op=cmp, left=a, right=b):
                return self.compare(cmp, self.expr(a, ctx), self.expr(b, ctx))
            case n.Logical(op=logic, left=a, right=b):
                left, t = self.expr(a, ctx), self.tmp()
                self.expect(left, "bool")
                self.emit(f"{t} = {left.v}")
                self.emit(f"if {'' if logic is n.LogicOp.AND else 'not '}{t}:")
                self.open()
                right = self.expr(b, ctx)
                self.expect(right, "bool")
                self.emit(f"{t} = {right.v}")
                self.close()
                return Val("bool", t)
            case n.Conditional(test=test, then=then, otherwise=otherwise):
                condition = self.expr(test, ctx)
                self.expect(condition, "bool")
                t = self.tmp()
                self.emit(f"if {condition.v}:")
                self.open()
                first = self.expr(then, ctx)
                self.assign(t, first)
                self.close()
                self.emit("else:")
                self.open()
                second = self.expr(otherwise, ctx)
                self.same_kind(first.kind, second.kind, "if")
                self.assign(t, second)
                self.close()
                return self.result(t, first.kind)
            case n.ListExpr(items=items):
                options = [self.expr(i, ctx) for i in items]
                if any(o.kind not in ("text", "bool") for o in options):
                    raise Unsupported("lists of numbers")
                return Val("tuple", f"({''.join(o.v + ', ' for o in options)})")
            case n.Member(element=element, container=container, negated=negated):
                val, allowed = self.expr(element, ctx), self.expr(container, ctx)
                if val.kind not in ("text", "bool") or allowed.kind != "tuple":
                    raise Unsupported("'in' over numbers")
                t = self.tmp()
                self.emit(f"{t} = {val.v} {'not in' if negated else 'in'} {allowed.v}")
                return Val("bool", t)
            case n.Call():
                return self.call_function(node, ctx)
            case n.Aggregate():
                return self.aggregate(node, ctx)
        raise Unsupported(f"{type(node).__name__} expressions")

    # names and fields --------------------------------------------------------------------------
    def read(self, container: str, name: str, spec: InputSpec, peek: bool, path: tuple[str, ...] | None = None) -> Val:
        """A field of a validated dict, typed as its spec says."""
        if not peek and path is not None and path in self.inputs:
            return self.inputs[path]  # converted once, while validating
        mark = ("read", peek) + path if path is not None else None
        if mark is not None and mark in self.computed:
            return self.computed[mark]  # read (and converted) already on this path
        val = self.read_field(container, name, spec, peek, path)
        if mark is not None:
            self.computed[mark] = val
        return val

    def read_field(self, container: str, name: str, spec: InputSpec, peek: bool, path: tuple[str, ...] | None) -> Val:
        t = self.tmp()
        if spec.required and spec.null != "not_applicable":
            self.emit(f"{t} = {container}[{name!r}]")
        else:
            self.emit(f"{t} = {container}.get({name!r}, _M)")
            if spec.has_default:
                if spec.type == "integer" and isinstance(spec.default, Fraction) and spec.default.denominator == 1:
                    self.emit(f"if {t} is _M: {t} = {int(spec.default)!r}")  # an integer is itself
                elif isinstance(spec.default, (list, Fraction)):
                    raise Unsupported(f"the default of '{name}'")  # numbers would need a pair
                else:
                    self.emit(f"if {t} is _M: {t} = {spec.default!r}")
            if not peek:
                self.emit(f"if {t} is _M or {t} is None: raise Fallback")  # the exact path explains
        if peek:
            return Val("maybe", t, spec=spec)
        kind = spec.type
        if kind == "integer":
            return Val("num", t, "1", sign=spec_sign(spec))
        if kind == "number":
            num, den = self.tmp(), self.tmp()
            self.emit(f"if {t}.__class__ is tuple: {num}, {den} = {t}")
            self.emit(f"elif {t}.__class__ is int: {num} = {t}; {den} = 1")
            self.emit(f"else: {num}, {den} = {t}.as_integer_ratio()")
            return Val("num", num, den, sign=spec_sign(spec))
        if kind == "number_or_range":  # (is a range, low, high): a plain number is low == high
            r, lo, lo_d, hi, hi_d = (self.tmp() for _ in range(5))
            self.emit(f"if {t}.__class__ is list:")
            self.emit(f"    {r} = True; {lo}, {lo_d} = _ratio({t}[0]); {hi}, {hi_d} = _ratio({t}[1])")
            self.emit(f"else: {r} = False; {lo}, {lo_d} = _ratio({t}); {hi}, {hi_d} = {lo}, {lo_d}")
            return Val("target", t, target=Target(r, lo, lo_d, hi, hi_d))
        if kind == "text":
            return Val("text", t)
        if kind == "boolean":
            return Val("bool", t)
        if kind == "record":
            return Val("rec", t, spec=spec, path=path)
        if kind == "list":
            return Val("list", t, spec=spec, scope=spec.name)
        raise Unsupported(f"inputs of type {kind}")

    def name(self, name: str, ctx: Ctx, peek: bool) -> Val:
        ref = resolve(self.policy, ctx.names, name)
        if ref is None:
            raise Unsupported(f"unresolved name {name}")
        if ref.kind == "local":
            item, memo, scope = ctx.locals[name]
            return Val("item", item, spec=self.policy.inputs[scope].items, scope=scope, memo=memo, path=("@", item))
        if ref.kind == "value":
            return self.use_value((None, name))
        if ref.kind == "item_value":
            return self.use_value((ctx.scope, name), ctx.item, ctx.memo)
        if ref.spec is None:
            raise Unsupported(f"the input {name}")
        if ref.kind == "input":
            return self.read("R", name, ref.spec, peek, (name,))
        if ctx.item is None:
            raise Unsupported(f"the field {name} outside its items")
        return self.read(ctx.item, name, ref.spec, peek, ("@", ctx.item, name))  # a field of the current item

    def field(self, obj: n.Expr, field_name: str, ctx: Ctx, peek: bool) -> Val:
        holder = self.expr(obj, ctx, peek)
        spec = holder.spec
        if holder.kind == "maybe":  # inside present(): the holder itself may be absent
            if spec is None or spec.type != "record" or field_name not in spec.fields:
                raise Unsupported("present() of this field")
            t = self.tmp()
            self.emit(
                f"{t} = {holder.v}.get({field_name!r}, _M) if {holder.v} is not _M and {holder.v} is not None else _M"
            )
            return Val("maybe", t, spec=spec.fields[field_name])
        if holder.kind not in ("rec", "item") or spec is None:
            raise Unsupported(f"a field of a {holder.kind}")
        if field_name in spec.fields:
            path = holder.path + (field_name,) if holder.path is not None else None
            return self.read(holder.v, field_name, spec.fields[field_name], peek, path)
        if holder.kind == "item" and holder.scope is not None and (holder.scope, field_name) in self.policy.values:
            return self.use_value((holder.scope, field_name), holder.v, holder.memo)
        raise Unsupported(f"field {field_name}")

    # arithmetic and comparison -----------------------------------------------------------------
    def binary(self, op: n.BinOp, a: Val, b: Val) -> Val:
        self.expect(a, "num")
        self.expect(b, "num")
        t = self.tmp()
        sign = (
            product_sign(a.sign, b.sign)
            if op is n.BinOp.MUL
            else sum_sign(a.sign, b.sign)
            if op is n.BinOp.ADD
            else a.sign
            if op is n.BinOp.DIV and b.sign == "pos"
            else None
        )
        if op is n.BinOp.DIV:
            self.divide(a, b, t)
        elif op is n.BinOp.MUL:
            self.emit(f"{t} = {mul(a.v, b.v)}; {t}d = {mul(a.d, b.d)}")
        else:
            symbol = "+" if op is n.BinOp.ADD else "-"
            if a.d == "1" and b.d == "1":
                self.emit(f"{t} = {a.v} {symbol} {b.v}; {t}d = 1")
            elif b.d == "1":
                self.emit(f"{t} = {a.v} {symbol} {mul(b.v, a.d)}; {t}d = {a.d}")
            elif a.d == "1":
                self.emit(f"{t} = {mul(a.v, b.d)} {symbol} {b.v}; {t}d = {b.d}")
            else:
                self.emit(f"if {a.d} == {b.d}: {t} = {a.v} {symbol} {b.v}; {t}d = {a.d}")
                self.emit(f"else: {t} = {a.v} * {b.d} {symbol} {b.v} * {a.d}; {t}d = {a.d} * {b.d}")
        return Val("num", t, t + "d", sign=sign)

    def divide(self, a: Val, b: Val, t: str) -> None:
        if b.sign != "pos":
            self.emit(f"if not {b.v}: raise Fallback")  # division by zero: the exact path reports it
        self.emit(f"{t} = {mul(a.v, b.d)}; {t}d = {mul(a.d, b.v)}")
        if b.sign != "pos":
            self.emit(f"if {t}d < 0: {t} = -{t}; {t}d = -{t}d")

    def compare(self, op: n.CmpOp, a: Val, b: Val) -> Val:
        t = self.tmp()
        if a.kind == "num" and b.kind == "num":
            self.emit(f"{t} = {mul(a.v, b.d)} {op.value} {mul(b.v, a.d)}")
        elif a.kind == b.kind and a.kind in ("text", "bool"):
            self.emit(f"{t} = {a.v} {op.value} {b.v}")
        else:
            raise Unsupported(f"comparing {a.kind} with {b.kind}")
        return Val("bool", t)

    # built-in functions: the registry's kernel emissions ------------------------------------------
    def call_function(self, node: n.Call, ctx: Ctx) -> Val:
        function = FUNCTIONS.get(node.function)
        if function is None:
            raise Unsupported(f"function {node.function}")
        if function.peek:
            return self.present(node.args[0], ctx)
        if function.kernel is None:  # the registry leaves it to the kernel: its arguments' kinds decide
            return self.capaian(node.function, node.args, ctx)
        t = self.tmp()
        self.emit_lines(function.kernel(t, *(self.argument(arg, ctx) for arg in node.args)))
        return Val("num", t, t + "d")

    def argument(self, node: n.Expr, ctx: Ctx) -> object:
        """An argument as a kernel emission takes it: a number as a pair of code strings (written
        as a whole, it is its numerator: round's places), a list as its code, a literal text
        (round's mode) as a constant of the kernel."""
        if isinstance(node, n.Text):
            return self.const(RoundingMode(node.value))
        val = self.expr(node, ctx)
        if val.kind == "list":
            return val.v
        self.expect(val, "num")
        return Number(val.v, val.d)

    def emit_lines(self, code: str) -> None:
        for line in code.split("\n"):
            self.emit(line)

    def present(self, node: n.Expr, ctx: Ctx) -> Val:
        val = self.expr(node, ctx, peek=True)
        if val.kind != "maybe":
            return Val("bool", "True")  # a value, or an aggregate variable: always there
        t = self.tmp()
        self.emit(f"{t} = {val.v} is not _M and {val.v} is not None")
        return Val("bool", t)

    def capaian(self, name: str, args: tuple[n.Expr, ...], ctx: Ctx) -> Val:
        """runtime.capaian / capaian_terbalik: a range target gives 100 inside it and is compared
        with its nearer end outside it."""
        realisasi = self.expr(args[0], ctx)
        self.expect(realisasi, "num")
        written = args[1]
        if (
            isinstance(written, n.ListExpr)
            and len(written.items) == 2
            and all(isinstance(i, n.Number) for i in written.items)
        ):
            (lo, lo_d), (hi, hi_d) = (pair(i.value) for i in written.items if isinstance(i, n.Number))
            target = Val("target", "", target=Target("True", lo, lo_d, hi, hi_d))
        else:
            target = self.expr(written, ctx)
        t = self.tmp()
        if target.kind == "num":
            self.capaian_of(name, realisasi, target, t)
            return Val("num", t, t + "d")
        self.expect(target, "target")
        assert target.target is not None  # a target always has its parts
        r, lo, lo_d, hi, hi_d = (
            target.target.is_range,
            target.target.low,
            target.target.low_d,
            target.target.high,
            target.target.high_d,
        )
        x, low, high = realisasi, Val("num", lo, lo_d), Val("num", hi, hi_d)
        self.emit(f"if {r} and {mul(x.v, lo_d)} >= {mul(lo, x.d)} and {mul(x.v, hi_d)} <= {mul(hi, x.d)}:")
        self.emit(f"    {t}, {t}d = 100, 1")
        self.emit(f"elif {mul(x.v, hi_d)} > {mul(hi, x.d)}:")
        self.open()
        self.capaian_of(name, x, high, t)
        self.close()
        self.emit("else:")
        self.open()
        self.capaian_of(name, x, low, t)
        self.close()
        return Val("num", t, t + "d")

    def capaian_of(self, name: str, realisasi: Val, target: Val, t: str) -> None:
        if name == "capaian":
            ratio = self.binary(n.BinOp.DIV, realisasi, target)
        else:
            twice = self.binary(n.BinOp.MUL, Val("num", "2"), target)
            ratio = self.binary(n.BinOp.DIV, self.binary(n.BinOp.SUB, twice, realisasi), target)
        percent = self.binary(n.BinOp.MUL, ratio, Val("num", "100"))
        self.emit(f"{t}, {t}d = {percent.v}, {percent.d}")
        if name == "capaian_terbalik":
            self.emit(f"if {t} < 0: {t}, {t}d = 0, 1")  # at least 0

    # aggregates --------------------------------------------------------------------------------
    def aggregate(self, node: n.Aggregate, ctx: Ctx) -> Val:
        """A loop over the list collecting its values (exact pairs, or truths), then the registry's
        emission over them; fewer values than the aggregate needs go to the exact path."""
        aggregate = AGGREGATES.get(node.function)
        if aggregate is None:
            raise Unsupported(f"aggregate {node.function}")
        source = self.expr(node.source, ctx)
        if (
            source.kind != "list"
            or not isinstance(node.source, n.Name)
            or source.spec is None
            or source.spec.items is None
            or source.scope is None
        ):
            raise Unsupported("aggregates over anything but a list input")
        scope = source.scope
        memos, item, memo = self.tmp(), self.tmp(), self.tmp()
        if scope not in self.memos_made and not self.in_function and not self.loops:
            # The first loop over this list in the kernel, on every path, outside any loop, and
            # no function called before could have made them: its items' memos are new.
            self.emit(f"{memos} = IM[{scope!r}] = [{{}} for _ in {source.v}]")
            self.fresh.add(memo)
        else:
            self.emit(f"{memos} = IM.get({scope!r})")
            self.emit(f"if {memos} is None: {memos} = IM[{scope!r}] = [{{}} for _ in {source.v}]")
        self.touch(scope)
        inner = ctx.bind(node.var, item, memo, scope, node.source)
        collected, count = self.tmp(), self.tmp()
        self.emit(f"{collected} = []; {count} = 0")
        self.emit(f"for {item}, {memo} in zip({source.v}, {memos}):")
        self.open_loop()
        if node.filter is not None:
            condition = self.expr(node.filter, inner)
            self.expect(condition, "bool")
            self.emit(f"if not {condition.v}: continue")
        self.emit(f"{count} += 1")
        if aggregate.element is not None:  # count reads no values
            element = self.expr(node.element, inner)
            if aggregate.element.kind == "boolean":
                self.expect(element, "bool")
                self.emit(f"{collected}.append({element.v})")
            else:
                self.expect(element, "num")
                self.emit(f"{collected}.append(({element.v}, {element.d}))")
        self.close_loop()
        if aggregate.least:
            self.emit(f"if {count} < {aggregate.least}: raise Fallback")  # too few: the exact path reports it
        t = self.tmp()
        self.emit_lines(aggregate.kernel(t, collected, count))
        return Val("bool", t) if aggregate.result.kind == "boolean" else Val("num", t, t + "d")


class Number(tuple[str, str]):
    """A number argument of a kernel emission: (numerator code, denominator code). Formatted into
    code, a whole one is its numerator (round's places are written so)."""

    __slots__ = ()

    def __new__(cls, num: str, den: str) -> Number:
        return super().__new__(cls, (num, den))

    def __format__(self, spec: str) -> str:
        if self[1] != "1":
            raise Unsupported("a fraction where the function needs a whole number")
        return format(self[0], spec)
