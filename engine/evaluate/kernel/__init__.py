"""The fast exact path: a checked policy compiled to Python source over plain integer pairs.

Why: `fractions.Fraction` is exact but slow (object creation, a gcd after every operation, type
dispatch), and binary floats flip records at band edges (PRODUCT.md, "Exact"). Here every number
is a pair of Python ints (numerator, denominator > 0) kept in local variables: + - * / are a few
integer multiplications, a comparison is one cross-multiplication, rounding is one `divmod`. The
pairs are reduced only when they grow large. So every number is exact and no decision is ever
approximate: there is nothing to re-check.

The kernel validates the record only to accept it: anything unusual (a wrong type, a missing or
unknown field, a bound not met, a division by zero, no table row) raises `Fallback`, and the
record goes to the exact evaluator (engine.evaluate.exact), which reports every problem at its JSON
pointer. Both paths compute the same numbers; tests/test_fast.py holds them equal.

Safety: the source is generated from the checked syntax tree, never from policy text. Names in the
generated code are our own (v3, t17); policy strings appear only as `repr()` constants and numbers
as integer literals; the namespace has no builtins beyond a few pure functions. A construct the
generator does not know makes the whole policy use the exact evaluator (`FastPolicy.reason`).
"""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from math import gcd

import msgspec

from engine.language import nodes as n
from engine.policy.model import Formula, InputSpec, Policy, ValueDef
from engine.policy.names import Context, resolve
from engine.numbers import AUDIT_PLACES, RoundingMode
from engine.evaluate.records import (
    MAX_ID_LENGTH, MAX_LIST_ITEMS, MAX_TEXT_LENGTH, RECORD_META, RecordReader, _is_period,
)

#: Largest generated source, in characters; beyond it the policy uses the exact evaluator.
MAX_SOURCE = 400_000
#: Most characters the generator writes in all (the kernel and the sketches that find kinds). A
#: value first needed inside branches is computed in each branch, so nested conditionals over a
#: chain of values double the kernel per level; this stops the generator after linear work, and
#: such a policy is evaluated by the exact evaluator, which computes each value once.
MAX_GENERATED = 2 * MAX_SOURCE
#: A denominator above this is reduced by its gcd with the numerator (keeps the ints small).
_REDUCE_ABOVE = 1 << 62
#: Numbers whose shortest float repr is their exact decimal: at most 15 significant digits.
_MAX_SHOWN = 10 ** 15


class Fallback(Exception):
    """This record needs the exact evaluator (it has a problem to report, or is unusual)."""


class Unsupported(Exception):
    """The generator does not handle a construct of this policy (the reason is the message)."""


class _Absent:
    __slots__ = ()

    def __repr__(self) -> str:
        return "_M"


_M = _Absent()  # an absent field

class _Long:
    """A number too long for the kernel (more than 16 characters, or an exponent): the kernel
    refuses it, and engine.evaluate.io's exact reading applies the limits of engine.numbers to it."""

    __slots__ = ()


_LONG = _Long()


class _Pairs(dict):
    """Decimal text -> (numerator, denominator), reduced: the JSON decoder's float hook. A bounded
    cache, since the numbers of a file repeat (targets, scores, two-place realisasi)."""

    def __missing__(self, text: str):
        if len(self) >= 1 << 16:
            self.clear()
        point = text.find(".")
        if len(text) > 16 or point < 0 or "e" in text or "E" in text:
            pair = _LONG
        else:
            scale = 10 ** (len(text) - point - 1)
            numerator = int(text[:point] + text[point + 1:])
            g = gcd(numerator, scale)
            pair = (numerator // g, scale // g)
        self[text] = pair
        return pair


_pair_decoder = msgspec.json.Decoder(float_hook=_Pairs().__getitem__)


def decode_pairs(raw: bytes):
    """JSON for the kernel: its non-integer numbers as exact (numerator, denominator) pairs,
    never Decimals or floats (a long one as _LONG). None when the JSON does not decode: then
    engine.evaluate.io.decode_json says where and why."""
    try:
        return _pair_decoder.decode(raw)
    except (msgspec.DecodeError, RecursionError, ValueError):
        return None


# Run-time helpers (few: a call costs more than inline code) ------------------------------------

def _round(num: int, den: int, places: int, mode: RoundingMode) -> tuple[int, int]:
    """Exactly numbers.round_to, on a pair."""
    scale = 10 ** places
    q, r = divmod(num * scale, den)  # floor; 0 <= r < den
    if r:
        if mode is RoundingMode.FLOOR:
            pass
        elif mode is RoundingMode.CEILING:
            q += 1
        elif mode is RoundingMode.DOWN:
            q += num < 0
        elif mode is RoundingMode.UP:
            q += num > 0
        else:
            twice = 2 * r
            if twice > den or twice == den and (
                    mode is RoundingMode.HALF_UP and num > 0 or mode is RoundingMode.HALF_DOWN and num < 0
                    or mode is RoundingMode.HALF_EVEN and q % 2):
                q += 1
    return q, scale


def _ratio(x) -> tuple[int, int]:
    """An int or a Decimal of the record as (numerator, denominator)."""
    if x.__class__ is tuple:
        return x
    return (x, 1) if x.__class__ is int else x.as_integer_ratio()


def _json_number(k: int, scale: int):
    """k / scale as the result shows it: an int when whole, else a float whose shortest repr is
    exactly that decimal (at most 15 digits, not below 0.0001), else a Decimal written out."""
    if k % scale == 0:
        return k // scale
    if abs(k) < _MAX_SHOWN and abs(k) * 10000 >= scale:
        return k / scale  # correctly rounded, and repr() gives the decimal back
    places = len(str(scale)) - 1
    digits = str(abs(k)).rjust(places + 1, "0")
    return Decimal(("-" if k < 0 else "") + (digits[:-places] + "." + digits[-places:]).rstrip("0"))


def _out(num, den, places, mode):
    return _json_number(*_round(num, den, places, mode))


def _shown(num, den):
    """The audit copy of a value, as numbers.to_decimal writes it: digit for digit when it has a
    finite decimal form, else rounded half-even to AUDIT_PLACES."""
    if den == 1:
        return num
    g = gcd(num, den)
    if g != 1:
        num //= g
        den //= g
        if den == 1:
            return num
    rest, twos, fives = den, 0, 0
    while not rest & 1:
        rest >>= 1
        twos += 1
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    if rest != 1:
        return _json_number(*_round(num, den, AUDIT_PLACES, RoundingMode.HALF_EVEN))
    places = max(twos, fives)
    scale = 10 ** places
    return _json_number(num * scale // den, scale)


_AUDIT_SCALE = 10 ** AUDIT_PLACES


def _audit(num: int, den: int):
    """_shown, with the common cases first: whole, at most AUDIT_PLACES places, not terminating."""
    if den == 1:
        return num
    q, r = divmod(num * _AUDIT_SCALE, den)
    if r:
        if num * pow(10, den.bit_length(), den) % den == 0:
            return _shown(num, den)  # terminates, with more places than AUDIT_PLACES: every digit
        if 2 * r > den:  # never a tie: a value that does not terminate has no midpoint
            q += 1
    if q % _AUDIT_SCALE == 0:
        return q // _AUDIT_SCALE
    if -_MAX_SHOWN < q < _MAX_SHOWN and abs(q) * 10000 >= _AUDIT_SCALE:
        return q / _AUDIT_SCALE
    return _json_number(q, _AUDIT_SCALE)


class _Audited(dict):
    """(numerator, denominator) -> _audit of it: a bounded cache, since values repeat (100, 76)."""

    def __missing__(self, pair):
        if len(self) >= 1 << 16:
            self.clear()
        shown = self[pair] = _audit(*pair)
        return shown


_audited = _Audited().__getitem__


def _values(M, IM):
    """Every value computed, in the exact evaluator's order (api.collect_values)."""
    values = {}
    for name, found in M.items():
        values[name] = (found[0] if found[1] == 1 else _audited(found)) if found.__class__ is tuple else found
    for list_name in sorted(IM):
        memos = IM[list_name]
        if any(memos):
            values[list_name] = [{k: (f[0] if f[1] == 1 else _audited(f)) if f.__class__ is tuple else f
                                  for k, f in m.items()} for m in memos]
    return values


# The generator -------------------------------------------------------------------------------

class _Val:
    """A compiled expression: its kind, and Python expressions for its value (for a number: its
    numerator `v` and its denominator `d`, always > 0)."""

    __slots__ = ("kind", "v", "d", "spec", "scope", "memo", "path", "sign")

    def __init__(self, kind, v, d="1", spec=None, scope=None, memo=None, path=None, sign=None):
        self.kind, self.v, self.d = kind, v, d
        self.spec, self.scope, self.memo, self.path = spec, scope, memo, path
        self.sign = sign  # "pos" (> 0), "nonneg" (>= 0) or None (unknown): spares zero and sign tests


class _Ctx:
    """Where an expression is compiled: its item scope and the aggregate variables in reach."""

    def __init__(self, scope=None, item=None, memo=None, locals_=None, names_ctx=None):
        self.scope, self.item, self.memo = scope, item, memo
        self.locals = locals_ or {}
        self.names = names_ctx or Context(scope)

    def bind(self, var, item, memo, scope, source):
        locals_ = dict(self.locals)
        locals_[var] = (item, memo, scope)
        return _Ctx(self.scope, self.item, self.memo, locals_, self.names.bind(var, ("item_of", source)))


def _pair(value: Fraction) -> tuple[str, str]:
    return str(value.numerator), str(value.denominator)


def _mul(a: str, b: str) -> str:
    if a == "0" or b == "0":
        return "0"
    if a == "1":
        return b
    if b == "1":
        return a
    return f"{a} * {b}"


def _literal_sign(value: Fraction) -> str | None:
    return "pos" if value > 0 else "nonneg" if value == 0 else None


def _spec_sign(spec: InputSpec) -> str | None:
    """What an input's declared bounds say about its sign."""
    if spec.exclusive_minimum is not None and spec.exclusive_minimum >= 0 or \
            spec.minimum is not None and spec.minimum > 0:
        return "pos"
    if spec.minimum is not None and spec.minimum >= 0:
        return "nonneg"
    return None


def _product_sign(a: str | None, b: str | None) -> str | None:
    if a == b == "pos":
        return "pos"
    return "nonneg" if a in ("pos", "nonneg") and b in ("pos", "nonneg") else None


def _decimal_literal(value: Fraction) -> str:
    """A bound as a literal compared with an int or a Decimal exactly (as records.py does)."""
    if value.denominator == 1:
        return str(value.numerator)
    from engine.numbers import to_decimal
    text = str(to_decimal(value))
    if Fraction(text) != value:
        raise Unsupported(f"the bound {value} is not a decimal")
    return f"Decimal({text!r})"


class _Gen:
    def __init__(self, policy: Policy):
        self.policy = policy
        self.lines: list[str] = []
        self.indent = 0
        self.emitted = 0  # characters generated so far, sketches included
        self.counter = 0
        self.constants: dict[str, object] = {}
        self.kinds: dict[tuple, str] = {}
        self.sketching = False  # finding a value's kind: uses of other values need not be compiled
        #: Top-level values computed on every path to here, in the kernel: key -> _Val of locals.
        self.computed: dict = {}
        self.computed_stack: list[dict] = []
        #: In the kernel: the converted locals of record fields that are always present.
        self.inputs: dict[tuple, _Val] = {}
        self.memos_made: set = set()  # lists whose item memos the kernel may have made already
        self.fresh: set = set()  # memo variables of items that nothing has computed for yet
        from engine.policy.ranges import constants
        self.known = constants(policy)

    # emitting ----------------------------------------------------------------------------------
    def tmp(self) -> str:
        self.counter += 1
        return f"t{self.counter}"

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)
        self.emitted += len(line)
        if self.emitted > MAX_GENERATED:  # a value is recomputed per branch: stop before it doubles again
            raise Unsupported("the policy is too large for the fast path")

    def open(self) -> None:
        """Enter a block (a branch or a loop body): what it computes is not known after it."""
        self.indent += 1
        self.computed_stack.append(dict(self.computed))

    def close(self) -> None:
        self.indent -= 1
        self.computed = self.computed_stack.pop()

    def const(self, value) -> str:
        name = f"C{len(self.constants)}"
        self.constants[name] = value
        return name

    def source(self) -> str:
        """The kernel: one function, every value computed in place (no calls out)."""
        self.lines, self.indent = ["def kernel(R):"], 1
        self.kernel()
        text = "\n".join(self.lines) + "\n"
        if len(text) > MAX_SOURCE:
            raise Unsupported("the policy is too large for the fast path")
        return text

    # named values ------------------------------------------------------------------------------
    def kind_of(self, key: tuple) -> str:
        """The kind of a named value ('num', 'text', 'bool', 'tuple'), found by sketching its rule
        once (the lines are thrown away)."""
        if key not in self.kinds:
            self.kinds[key] = "pending"
            saved = self.lines, self.indent, self.counter, self.computed, self.computed_stack, self.sketching
            self.lines, self.indent, self.computed, self.computed_stack, self.sketching = [], 1, {}, [], True
            d = self.policy.values[key]
            kind = self.value_body(d, self.value_ctx(d)).kind
            self.lines, self.indent, self.counter, self.computed, self.computed_stack, self.sketching = saved
            if kind not in ("num", "text", "bool", "tuple"):
                raise Unsupported(f"value '{d.name}' is a {kind}")
            self.kinds[key] = kind
        if self.kinds[key] == "pending":
            raise Unsupported("values that depend on themselves")
        return self.kinds[key]

    def value_ctx(self, d: ValueDef) -> _Ctx:
        return _Ctx(d.scope, "it" if d.scope else None, "im" if d.scope else None)

    def reduced(self, val: _Val) -> tuple[str, str]:
        if val.d == "1":
            if val.v.isidentifier() or val.v.lstrip("-").isdigit():
                return val.v, "1"
            t = self.tmp()
            self.emit(f"{t} = {val.v}")
            return t, "1"
        num, den = self.tmp(), self.tmp()
        self.emit(f"{num}, {den} = {val.v}, {val.d}")
        self.emit(f"if {den} > {_REDUCE_ABOVE}:")
        self.emit(f"    g = gcd({num}, {den}); {num} //= g; {den} //= g")
        return num, den

    def value_body(self, d: ValueDef, ctx: _Ctx) -> _Val:
        if d.kind in ("formula", "indicator"):
            return self.expr(d.formula.node, ctx)
        if d.kind == "table":
            return self.table(d, ctx)
        if d.kind == "matrix":
            return self.matrix(d, ctx)
        if d.kind == "weighted":
            return self.weighted(d, ctx)
        raise Unsupported(f"value kind {d.kind}")

    def use_value(self, key: tuple, item: str | None = None, memo: str | None = None) -> _Val:
        """A named value, computed in place the first time a path needs it, then reused. Nothing
        in the kernel calls out, so a top-level value is never in M before its first use on a
        path (a later path may compute it again: the same value, stored under the same key). An
        item value is looked up in its item's memo first, unless nothing can have filled it yet."""
        kind = self.kind_of(key)
        if self.sketching:
            return _Val(kind, "_", "_")
        if key[0] is None:
            return self.in_place(key, key, kind, "M", False, self.value_ctx(self.policy.values[key]))
        return self.in_place(("item", item, key), key, kind, memo, memo not in self.fresh, _Ctx(key[0], item, memo))

    def in_place(self, mark, key: tuple, kind: str, memo: str, guarded: bool, ctx: _Ctx) -> _Val:
        if mark in self.computed:
            return self.computed[mark]
        name, t = self.policy.values[key].name, self.tmp()
        if guarded:
            self.emit(f"{t} = {memo}.get({name!r})")
            self.emit(f"if {t} is None:")
            self.open()
        val = self.value_body(self.policy.values[key], ctx)
        if kind == "num":
            num, den = self.reduced(val)
            self.emit(f"{t} = {memo}[{name!r}] = ({num}, {den})")
        elif kind == "tuple":
            self.emit(f"{t} = {memo}[{name!r}] = list({val.v})")
        else:
            self.emit(f"{t} = {memo}[{name!r}] = {val.v}")
        if guarded:
            self.close()
        if kind == "num" and guarded:
            num, den = self.tmp(), self.tmp()
            self.emit(f"{num}, {den} = {t}")
            found = _Val("num", num, den)
        elif kind == "num":
            found = _Val("num", num, den, sign=val.sign)
        elif kind == "tuple":
            found = _Val("tuple", f"tuple({t})")
        else:
            found = _Val(kind, t)
        self.computed[mark] = found
        return found

    # tables, matrices, weights -------------------------------------------------------------------
    def table(self, d: ValueDef, ctx: _Ctx) -> _Val:
        columns = [self.expr(f.node, ctx) for f in d.table.on]
        result, kind = self.tmp(), None
        for index, row in enumerate(d.table.rows):
            tests = [t for t in (self.cell_test(cell, column) for cell, column in zip(row.cells, columns)) if t]
            self.emit(("if " if index == 0 else "elif ") + (" and ".join(tests) or "True") + ":")
            self.open()
            then = self.expr(row.then.node, ctx) if isinstance(row.then, Formula) else self.literal(row.then)
            kind = self.same_kind(kind, then.kind, d.name)
            self.assign(result, then)
            self.close()
        self.emit("else: raise Fallback")  # no row matches: the exact path reports it
        return self.result(result, kind)

    def literal(self, value) -> _Val:
        if isinstance(value, bool):
            return _Val("bool", repr(value))
        if isinstance(value, str):
            return _Val("text", repr(value))
        if isinstance(value, Fraction):
            return _Val("num", *_pair(value))
        raise Unsupported(f"literal {value!r}")

    def same_kind(self, kind, new, name):
        if kind is not None and kind != new:
            raise Unsupported(f"'{name}' mixes {kind} and {new}")
        return new

    def assign(self, result: str, val: _Val) -> None:
        if val.kind == "num":
            self.emit(f"{result}, {result}d = {val.v}, {val.d}")
        else:
            self.emit(f"{result} = {val.v}")

    def result(self, result: str, kind: str) -> _Val:
        return _Val("num", result, result + "d") if kind == "num" else _Val(kind, result)

    def bound_value(self, b: n.Bound) -> Fraction:
        return b.value if b.value is not None else self.known[b.name]

    def against(self, val: _Val, op: str, bound: Fraction) -> str:
        """`val op bound` by cross-multiplication (denominators are positive)."""
        return f"{_mul(val.v, str(bound.denominator))} {op} {_mul(str(bound.numerator), val.d)}"

    def cell_test(self, cell, column: _Val) -> str:
        match cell:
            case n.AnyCell():
                return ""
            case n.CompareCell(op=op, bound=b):
                self.expect(column, "num")
                return self.against(column, op.value, self.bound_value(b))
            case n.IntervalCell(low=lo, high=hi, low_closed=lc, high_closed=hc):
                self.expect(column, "num")
                return (f"{self.against(column, '>=' if lc else '>', self.bound_value(lo))} and "
                        f"{self.against(column, '<=' if hc else '<', self.bound_value(hi))}")
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

    def matrix(self, d: ValueDef, ctx: _Ctx) -> _Val:
        rows, columns = self.expr(d.matrix.rows.node, ctx), self.expr(d.matrix.columns.node, ctx)
        cells = dict(d.matrix.cells)
        if {type(v) for v in cells.values()} != {str} or "num" in (rows.kind, columns.kind):
            raise Unsupported(f"matrix '{d.name}' is not text by text to text")
        t = self.tmp()
        self.emit(f"{t} = {self.const(cells)}.get(({rows.v}, {columns.v}))")
        self.emit(f"if {t} is None: raise Fallback")
        return _Val("text", t)

    def weighted(self, d: ValueDef, ctx: _Ctx) -> _Val:
        w = d.weighted
        key = self.expr(w.by.node, ctx) if w.by is not None else None
        result = self.tmp()
        named = [(k, weights) for k, weights in w.weights.items() if k != "default"]
        default = w.weights.get("default")
        if key is None or not named:
            if default is None:
                raise Unsupported(f"'{d.name}' has no default weights")
            self.weighted_sum(d, default, ctx, result)
            return _Val("num", result, result + "d")
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
        return _Val("num", result, result + "d")

    def weighted_sum(self, d: ValueDef, weights: dict, ctx: _Ctx, result: str) -> None:
        w = d.weighted
        total, total_d, applied, applied_d = self.tmp(), self.tmp(), self.tmp(), self.tmp()
        self.emit(f"{total} = 0; {total_d} = 1" + (f"; {applied} = 0; {applied_d} = 1"
                                                     if w.not_applicable == "renormalise" else ""))
        for indicator, weight in weights.items():
            definition = self.policy.values[(d.scope, indicator)].indicator
            guarded = definition.applies_when is not None and definition.applies_when.node is not None
            if guarded:
                test = self.expr(definition.applies_when.node, ctx)
                self.expect(test, "bool")
                self.emit(f"if {test.v}:")
                self.open()
            value = self.use_value((d.scope, indicator), ctx.item, ctx.memo)
            self.expect(value, "num")
            term = self.binary(n.BinOp.MUL, _Val("num", *_pair(weight)), value)
            self.accumulate(total, total_d, term)
            if w.not_applicable == "renormalise":
                self.accumulate(applied, applied_d, _Val("num", *_pair(weight)))
            if guarded:
                self.close()
        sum_val = _Val("num", total, total_d)
        if w.not_applicable == "renormalise":
            self.divide(sum_val, _Val("num", applied, applied_d), result)  # none applies: Fallback
        else:
            self.divide(sum_val, _Val("num", *_pair(w.total)), result)

    def accumulate(self, num: str, den: str, term: _Val) -> None:
        """num/den += term, in place."""
        if term.d == "1":
            self.emit(f"{num} = {num} + {_mul(term.v, den)}")
            return
        self.emit(f"if {den} == {term.d}: {num} = {num} + {term.v}")
        self.emit(f"else: {num} = {num} * {term.d} + {term.v} * {den}; {den} = {den} * {term.d}")
        self.emit(f"if {den} > {_REDUCE_ABOVE}:")
        self.emit(f"    g = gcd({num}, {den}); {num} //= g; {den} //= g")

    # expressions ---------------------------------------------------------------------------------
    def expect(self, val: _Val, kind: str) -> None:
        if val.kind != kind:
            raise Unsupported(f"expected {kind}, got {val.kind}")

    def expr(self, node, ctx: _Ctx, peek: bool = False) -> _Val:
        match node:
            case n.Number(value=value):
                return _Val("num", *_pair(value), sign=_literal_sign(value))
            case n.Text(value=value):
                return _Val("text", repr(value))
            case n.Bool(value=value):
                return _Val("bool", repr(value))
            case n.Name(id=name):
                return self.name(name, ctx, peek)
            case n.Field(obj=obj, name=field_name):
                return self.field(obj, field_name, ctx, peek)
            case n.Negate(operand=x):
                val = self.expr(x, ctx)
                self.expect(val, "num")
                return _Val("num", f"(-{val.v})", val.d)
            case n.Not(operand=x):
                val = self.expr(x, ctx)
                self.expect(val, "bool")
                t = self.tmp()
                self.emit(f"{t} = not {val.v}")
                return _Val("bool", t)
            case n.Binary(op=op, left=a, right=b):
                return self.binary(op, self.expr(a, ctx), self.expr(b, ctx))
            case n.Compare(op=op, left=a, right=b):
                return self.compare(op, self.expr(a, ctx), self.expr(b, ctx))
            case n.Logical(op=op, left=a, right=b):
                left, t = self.expr(a, ctx), self.tmp()
                self.expect(left, "bool")
                self.emit(f"{t} = {left.v}")
                self.emit(f"if {'' if op is n.LogicOp.AND else 'not '}{t}:")
                self.open()
                right = self.expr(b, ctx)
                self.expect(right, "bool")
                self.emit(f"{t} = {right.v}")
                self.close()
                return _Val("bool", t)
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
                return _Val("tuple", f"({''.join(o.v + ', ' for o in options)})")
            case n.Member(element=element, container=container, negated=negated):
                val, options = self.expr(element, ctx), self.expr(container, ctx)
                if val.kind not in ("text", "bool") or options.kind != "tuple":
                    raise Unsupported("'in' over numbers")
                t = self.tmp()
                self.emit(f"{t} = {val.v} {'not in' if negated else 'in'} {options.v}")
                return _Val("bool", t)
            case n.Call():
                return self.call(node, ctx)
            case n.Aggregate():
                return self.aggregate(node, ctx)
        raise Unsupported(f"{type(node).__name__} expressions")

    def read(self, container: str, name: str, spec: InputSpec, peek: bool, path: tuple | None = None) -> _Val:
        """A field of a validated dict, typed as its spec says."""
        if not self.sketching and not peek and path is not None and path in self.inputs:
            return self.inputs[path]  # converted once, while validating
        mark = ("read", peek) + path if path is not None else None
        if mark is not None and mark in self.computed:
            return self.computed[mark]  # read (and converted) already on this path
        val = self.read_field(container, name, spec, peek, path)
        if mark is not None:
            self.computed[mark] = val
        return val

    def read_field(self, container: str, name: str, spec: InputSpec, peek: bool, path: tuple | None) -> _Val:
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
            return _Val("maybe", t, spec=spec)
        kind = spec.type
        if kind == "integer":
            return _Val("num", t, "1", sign=_spec_sign(spec))
        if kind == "number":
            num, den = self.tmp(), self.tmp()
            self.emit(f"if {t}.__class__ is tuple: {num}, {den} = {t}")
            self.emit(f"elif {t}.__class__ is int: {num} = {t}; {den} = 1")
            self.emit(f"else: {num}, {den} = {t}.as_integer_ratio()")
            return _Val("num", num, den, sign=_spec_sign(spec))
        if kind == "number_or_range":  # (is a range, low, high): a plain number is low == high
            r, lo, lo_d, hi, hi_d = (self.tmp() for _ in range(5))
            self.emit(f"if {t}.__class__ is list:")
            self.emit(f"    {r} = True; {lo}, {lo_d} = _ratio({t}[0]); {hi}, {hi_d} = _ratio({t}[1])")
            self.emit(f"else: {r} = False; {lo}, {lo_d} = _ratio({t}); {hi}, {hi_d} = {lo}, {lo_d}")
            return _Val("target", (r, lo, lo_d, hi, hi_d))
        if kind == "text":
            return _Val("text", t)
        if kind == "boolean":
            return _Val("bool", t)
        if kind == "record":
            return _Val("rec", t, spec=spec, path=path)
        if kind == "list":
            return _Val("list", t, spec=spec, scope=spec.name)
        raise Unsupported(f"inputs of type {kind}")

    def name(self, name: str, ctx: _Ctx, peek: bool) -> _Val:
        ref = resolve(self.policy, ctx.names, name)
        if ref is None:
            raise Unsupported(f"unresolved name {name}")
        if ref.kind == "local":
            item, memo, scope = ctx.locals[name]
            return _Val("item", item, spec=self.policy.inputs[scope].items, scope=scope, memo=memo,
                        path=("@", item))
        if ref.kind == "value":
            return self.use_value((None, name))
        if ref.kind == "item_value":
            return self.use_value((ctx.scope, name), ctx.item, ctx.memo)
        if ref.kind == "input":
            return self.read("R", name, ref.spec, peek, (name,))
        return self.read(ctx.item, name, ref.spec, peek, ("@", ctx.item, name))  # a field of the current item

    def field(self, obj, field_name: str, ctx: _Ctx, peek: bool) -> _Val:
        holder = self.expr(obj, ctx, peek)
        if holder.kind == "maybe":  # inside present(): the holder itself may be absent
            spec = holder.spec
            if spec is None or spec.type != "record" or field_name not in spec.fields:
                raise Unsupported("present() of this field")
            t = self.tmp()
            self.emit(f"{t} = {holder.v}.get({field_name!r}, _M) "
                      f"if {holder.v} is not _M and {holder.v} is not None else _M")
            return _Val("maybe", t, spec=spec.fields[field_name])
        if holder.kind not in ("rec", "item"):
            raise Unsupported(f"a field of a {holder.kind}")
        if field_name in holder.spec.fields:
            path = holder.path + (field_name,) if holder.path is not None else None
            return self.read(holder.v, field_name, holder.spec.fields[field_name], peek, path)
        if holder.kind == "item" and (holder.scope, field_name) in self.policy.values:
            return self.use_value((holder.scope, field_name), holder.v, holder.memo)
        raise Unsupported(f"field {field_name}")

    def binary(self, op: n.BinOp, a: _Val, b: _Val) -> _Val:
        self.expect(a, "num")
        self.expect(b, "num")
        t = self.tmp()
        sign = None
        if op is n.BinOp.ADD or op is n.BinOp.MUL:
            sign = _product_sign(a.sign, b.sign) if op is n.BinOp.MUL else \
                ("pos" if "pos" in (a.sign, b.sign) and _product_sign(a.sign, b.sign) else _product_sign(a.sign, b.sign))
        elif op is n.BinOp.DIV and b.sign == "pos":
            sign = a.sign
        if op is n.BinOp.DIV:
            self.divide(a, b, t)
        elif op is n.BinOp.MUL:
            self.emit(f"{t} = {_mul(a.v, b.v)}; {t}d = {_mul(a.d, b.d)}")
        else:
            symbol = "+" if op is n.BinOp.ADD else "-"
            if a.d == "1" and b.d == "1":
                self.emit(f"{t} = {a.v} {symbol} {b.v}; {t}d = 1")
            elif b.d == "1":
                self.emit(f"{t} = {a.v} {symbol} {_mul(b.v, a.d)}; {t}d = {a.d}")
            elif a.d == "1":
                self.emit(f"{t} = {_mul(a.v, b.d)} {symbol} {b.v}; {t}d = {b.d}")
            else:
                self.emit(f"if {a.d} == {b.d}: {t} = {a.v} {symbol} {b.v}; {t}d = {a.d}")
                self.emit(f"else: {t} = {a.v} * {b.d} {symbol} {b.v} * {a.d}; {t}d = {a.d} * {b.d}")
        return _Val("num", t, t + "d", sign=sign)

    def divide(self, a: _Val, b: _Val, t: str) -> None:
        if b.sign != "pos":
            self.emit(f"if not {b.v}: raise Fallback")  # division by zero: the exact path reports it
        self.emit(f"{t} = {_mul(a.v, b.d)}; {t}d = {_mul(a.d, b.v)}")
        if b.sign != "pos":
            self.emit(f"if {t}d < 0: {t} = -{t}; {t}d = -{t}d")

    def compare(self, op: n.CmpOp, a: _Val, b: _Val) -> _Val:
        t = self.tmp()
        if a.kind == "num" and b.kind == "num":
            self.emit(f"{t} = {_mul(a.v, b.d)} {op.value} {_mul(b.v, a.d)}")
        elif a.kind == b.kind and a.kind in ("text", "bool"):
            self.emit(f"{t} = {a.v} {op.value} {b.v}")
        else:
            raise Unsupported(f"comparing {a.kind} with {b.kind}")
        return _Val("bool", t)

    def pick(self, values: list[_Val], smallest: bool) -> _Val:
        t = self.tmp()
        first = values[0]
        self.emit(f"{t}, {t}d = {first.v}, {first.d}")
        for other in values[1:]:
            op = "<" if smallest else ">"
            self.emit(f"if {_mul(other.v, t + 'd')} {op} {_mul(t, other.d)}: {t}, {t}d = {other.v}, {other.d}")
        return _Val("num", t, t + "d")

    def call(self, node: n.Call, ctx: _Ctx) -> _Val:
        name, args = node.function, node.args
        t = self.tmp()
        if name == "present":
            val = self.expr(args[0], ctx, peek=True)
            if val.kind != "maybe":
                return _Val("bool", "True")  # a value, or an aggregate variable: always there
            self.emit(f"{t} = {val.v} is not _M and {val.v} is not None")
            return _Val("bool", t)
        if name in ("capaian", "capaian_terbalik"):
            return self.capaian(name, args, ctx)
        values = [self.expr(a, ctx) for a in args]
        if name == "len":
            if values[0].kind != "list":
                raise Unsupported("len() of anything but a list")
            return _Val("num", f"len({values[0].v})", "1")
        if name == "round":
            self.expect(values[0], "num")
            mode = RoundingMode(args[2].value) if len(args) == 3 else RoundingMode.HALF_UP
            self.emit(f"{t}, {t}d = _round({values[0].v}, {values[0].d}, {int(args[1].value)}, {self.const(mode)})")
            return _Val("num", t, t + "d")
        for val in values:
            self.expect(val, "num")
        if name in ("min", "max"):
            return self.pick(values, name == "min")
        if name == "clamp":
            x, low, high = values
            self.emit(f"if {_mul(x.v, low.d)} < {_mul(low.v, x.d)}: {t}, {t}d = {low.v}, {low.d}")
            self.emit(f"elif {_mul(x.v, high.d)} > {_mul(high.v, x.d)}: {t}, {t}d = {high.v}, {high.d}")
            self.emit(f"else: {t}, {t}d = {x.v}, {x.d}")
            return _Val("num", t, t + "d")
        if name == "abs":
            return _Val("num", f"abs({values[0].v})", values[0].d)
        if name == "floor":
            return _Val("num", f"({values[0].v} // {values[0].d})", "1")
        if name == "ceil":
            return _Val("num", f"(-((-{values[0].v}) // {values[0].d}))", "1")
        raise Unsupported(f"function {name}")

    def capaian(self, name: str, args, ctx: _Ctx) -> _Val:
        """runtime.capaian / capaian_terbalik: a range target gives 100 inside it and is compared
        with its nearer end outside it."""
        realisasi = self.expr(args[0], ctx)
        self.expect(realisasi, "num")
        if isinstance(args[1], n.ListExpr) and len(args[1].items) == 2 and \
                all(isinstance(i, n.Number) for i in args[1].items):
            (lo, lo_d), (hi, hi_d) = (_pair(i.value) for i in args[1].items)
            target = _Val("target", ("True", lo, lo_d, hi, hi_d))
        else:
            target = self.expr(args[1], ctx)
        t = self.tmp()
        if target.kind == "num":
            self.capaian_of(name, realisasi, target, t)
            return _Val("num", t, t + "d")
        self.expect(target, "target")
        r, lo, lo_d, hi, hi_d = target.v
        x, low, high = realisasi, _Val("num", lo, lo_d), _Val("num", hi, hi_d)
        self.emit(f"if {r} and {_mul(x.v, lo_d)} >= {_mul(lo, x.d)} and {_mul(x.v, hi_d)} <= {_mul(hi, x.d)}:")
        self.emit(f"    {t}, {t}d = 100, 1")
        self.emit(f"elif {_mul(x.v, hi_d)} > {_mul(hi, x.d)}:")
        self.open()
        self.capaian_of(name, x, high, t)
        self.close()
        self.emit("else:")
        self.open()
        self.capaian_of(name, x, low, t)
        self.close()
        return _Val("num", t, t + "d")

    def capaian_of(self, name: str, realisasi: _Val, target: _Val, t: str) -> None:
        if name == "capaian":
            ratio = self.binary(n.BinOp.DIV, realisasi, target)
        else:
            twice = self.binary(n.BinOp.MUL, _Val("num", "2"), target)
            ratio = self.binary(n.BinOp.DIV, self.binary(n.BinOp.SUB, twice, realisasi), target)
        percent = self.binary(n.BinOp.MUL, ratio, _Val("num", "100"))
        self.emit(f"{t}, {t}d = {percent.v}, {percent.d}")
        if name == "capaian_terbalik":
            self.emit(f"if {t} < 0: {t}, {t}d = 0, 1")  # at least 0

    def aggregate(self, node: n.Aggregate, ctx: _Ctx) -> _Val:
        source = self.expr(node.source, ctx)
        if source.kind != "list" or not isinstance(node.source, n.Name) or source.spec.items is None:
            raise Unsupported("aggregates over anything but a list input")
        scope = source.scope
        memos, item, memo = self.tmp(), self.tmp(), self.tmp()
        if not self.sketching and scope not in self.memos_made:
            # The first loop over this list in the kernel, on every path (the kernel calls nothing
            # that could fill them): its items' memos are new, so nothing in them to look up.
            self.memos_made.add(scope)
            self.emit(f"{memos} = IM[{scope!r}] = [{{}} for _ in {source.v}]")
            self.fresh.add(memo)
        else:
            self.emit(f"{memos} = IM.get({scope!r})")
            self.emit(f"if {memos} is None: {memos} = IM[{scope!r}] = [{{}} for _ in {source.v}]")
        inner = ctx.bind(node.var, item, memo, scope, node.source)
        function = node.function
        collected, count = self.tmp(), self.tmp()
        self.emit(f"{collected} = []; {count} = 0")
        self.emit(f"for {item}, {memo} in zip({source.v}, {memos}):")
        self.open()
        if node.filter is not None:
            condition = self.expr(node.filter, inner)
            self.expect(condition, "bool")
            self.emit(f"if not {condition.v}: continue")
        self.emit(f"{count} += 1")
        if function is n.AggFunc.COUNT:
            self.close()
            return _Val("num", count, "1")
        element = self.expr(node.element, inner)
        if function in (n.AggFunc.ANY, n.AggFunc.ALL):
            self.expect(element, "bool")
            self.emit(f"{collected}.append({element.v})")
            self.close()
            t = self.tmp()
            self.emit(f"{t} = {'any' if function is n.AggFunc.ANY else 'all'}({collected})")
            return _Val("bool", t)
        self.expect(element, "num")
        self.emit(f"{collected}.append(({element.v}, {element.d}))")
        self.close()
        if function is not n.AggFunc.SUM:
            self.emit(f"if not {collected}: raise Fallback")  # empty: the exact path reports it
        if function is n.AggFunc.TRIMMED_MEAN:
            return self.trimmed_mean(collected, count)
        if function in (n.AggFunc.MIN, n.AggFunc.MAX):
            t = self.tmp()
            self.emit(f"{t}, {t}d = {collected}[0]")
            op = "<" if function is n.AggFunc.MIN else ">"
            self.emit(f"for x, y in {collected}:")
            self.emit(f"    if x * {t}d {op} {t} * y: {t}, {t}d = x, y")
            return _Val("num", t, t + "d")
        total, total_d = self.tmp(), self.tmp()
        self.emit(f"{total} = 0; {total_d} = 1")
        self.emit(f"for x, y in {collected}:")
        self.open()
        self.accumulate(total, total_d, _Val("num", "x", "y"))
        self.close()
        if function is n.AggFunc.SUM:
            return _Val("num", total, total_d)
        t = self.tmp()
        self.divide(_Val("num", total, total_d), _Val("num", count, "1"), t)
        return _Val("num", t, t + "d")

    def trimmed_mean(self, collected: str, count: str) -> _Val:
        """The mean without one highest and one lowest value, compared exactly (cross products)."""
        lo, hi, total, total_d = self.tmp(), self.tmp(), self.tmp(), self.tmp()
        self.emit(f"if {count} < 3: raise Fallback")  # too few: the exact path reports it
        self.emit(f"{lo} = {hi} = 0")
        self.emit(f"for i, (x, y) in enumerate({collected}):")
        self.emit(f"    if x * {collected}[{lo}][1] < {collected}[{lo}][0] * y: {lo} = i")
        self.emit(f"    if x * {collected}[{hi}][1] > {collected}[{hi}][0] * y: {hi} = i")
        self.emit(f"if {lo} == {hi}: {hi} = 1 if {lo} == 0 else 0")  # all equal: drop any two
        self.emit(f"{total} = 0; {total_d} = 1")
        self.emit(f"for i, (x, y) in enumerate({collected}):")
        self.open()
        self.emit(f"if i == {lo} or i == {hi}: continue")
        self.accumulate(total, total_d, _Val("num", "x", "y"))
        self.close()
        kept, t = self.tmp(), self.tmp()
        self.emit(f"{kept} = {count} - 2")
        self.divide(_Val("num", total, total_d), _Val("num", kept, "1", sign="pos"), t)
        return _Val("num", t, t + "d")

    # the record: validation, requirements, outputs -------------------------------------------------
    def kernel(self) -> None:
        self.emit("if R.__class__ is not dict: raise Fallback")
        known = self.const(frozenset([*self.policy.inputs, *RECORD_META]))
        self.emit(f"if not {known}.issuperset(R): raise Fallback")
        if "periode" not in self.policy.inputs:  # the reserved field: as records.py checks it
            self.emit("if 'periode' in R and not _is_period(R['periode']): raise Fallback")
        self.emit("x = R.get('id', _M)")
        self.emit(f"if x is not _M and not ((x.__class__ is str and 0 < len(x) <= {MAX_ID_LENGTH} "
                  f"and '\\x00' not in x) or (x.__class__ is int and len(str(x)) <= {MAX_ID_LENGTH})): "
                  "raise Fallback")
        self.inputs = {}
        for spec in self.policy.inputs.values():
            self.validate_field("R", spec, ())
        self.emit("M = {}; IM = {}")
        for requirement in self.policy.requirements.values():
            self.requirement(requirement)
        self.emit("O = {}")
        for output in self.policy.outputs.values():
            self.output(output)
        self.emit("return O, M, IM")

    def validate_field(self, container: str, spec: InputSpec, path: tuple | None = None) -> None:
        """Check one field; where it is always there (`path` given, required, not nullable), keep
        its converted value in self.inputs so the kernel reads it once."""
        x = self.tmp()
        if spec.required and spec.null != "not_applicable":  # None fails every type test below
            self.emit(f"{x} = {container}.get({spec.name!r})")
            val = self.validate_value(x, spec, path + (spec.name,) if path is not None else None)
            if path is not None and val is not None:
                self.inputs[path + (spec.name,)] = val
            return
        self.emit(f"{x} = {container}.get({spec.name!r}, _M)")
        self.emit(f"if {x} is _M: " + ("raise Fallback" if spec.required else "pass"))
        self.emit(f"elif {x} is None: " + ("pass" if spec.null == "not_applicable" else "raise Fallback"))
        self.emit("else:")
        self.open()
        self.validate_value(x, spec)
        self.close()

    def validate_value(self, x: str, spec: InputSpec, path: tuple | None = None) -> _Val | None:
        """Check a value; a number becomes a pair of ints. Returns what the kernel may read."""
        kind = spec.type
        if kind in ("number", "integer"):
            bounds = [(b, symbol) for b, symbol in ((spec.minimum, ">="), (spec.maximum, "<="),
                                                  (spec.exclusive_minimum, ">"), (spec.exclusive_maximum, "<"))
                      if b is not None]
            if kind == "integer":
                low = max([b for b, symbol in bounds if symbol[0] == ">" and b.denominator == 1] + [-10 ** 15])
                high = min([b for b, symbol in bounds if symbol[0] == "<" and b.denominator == 1] + [10 ** 15])
                self.emit(f"if {x}.__class__ is not int or not {low} <= {x} <= {high}: raise Fallback")
                num, den = x, "1"
            else:
                num, den = self.number_pair(x)
            for bound, symbol in bounds:
                self.emit(f"if not {_mul(num, str(bound.denominator))} {symbol} "
                          f"{_mul(str(bound.numerator), den)}: raise Fallback")
            if spec.enum is not None:
                allowed = frozenset((v.numerator, v.denominator) for v in spec.enum if isinstance(v, Fraction))
                self.emit(f"if ({num}, {den}) not in {self.const(allowed)}: raise Fallback")
            return _Val("num", num, den, sign=_spec_sign(spec))
        if kind == "number_or_range":
            number = InputSpec(spec.name, "number", spec.path, spec.position, minimum=spec.minimum,
                               maximum=spec.maximum, exclusive_minimum=spec.exclusive_minimum,
                               exclusive_maximum=spec.exclusive_maximum)
            self.emit(f"if {x}.__class__ is list:")
            self.open()
            self.emit(f"if len({x}) != 2: raise Fallback")
            low, high = self.tmp(), self.tmp()
            self.emit(f"{low}, {high} = {x}")
            a, b = self.validate_value(low, number), self.validate_value(high, number)
            self.emit(f"if {_mul(a.v, b.d)} > {_mul(b.v, a.d)}: raise Fallback")
            self.close()
            self.emit("else:")
            self.open()
            self.validate_value(x, number)
            self.close()
            return None
        if kind == "text":
            self.emit(f"if {x}.__class__ is not str or len({x}) > {MAX_TEXT_LENGTH}: raise Fallback")
            if spec.enum is not None:
                allowed = frozenset(v for v in spec.enum if isinstance(v, str))
                self.emit(f"if {x} not in {self.const(allowed)}: raise Fallback")
            return _Val("text", x)
        if kind == "boolean":
            self.emit(f"if {x} is not True and {x} is not False: raise Fallback")
            return _Val("bool", x)
        if kind == "record":
            self.emit(f"if {x}.__class__ is not dict: raise Fallback")
            self.emit(f"if not {self.const(frozenset(spec.fields))}.issuperset({x}): raise Fallback")
            for field_spec in spec.fields.values():
                self.validate_field(x, field_spec, path)
            return _Val("rec", x, spec=spec, path=path)
        if kind == "list":
            high = spec.max_items if spec.max_items is not None else MAX_LIST_ITEMS
            low = spec.min_items or 0
            self.emit(f"if {x}.__class__ is not list or not {low} <= len({x}) <= {high}: raise Fallback")
            if spec.items is not None:
                if spec.items.null == "not_applicable":
                    raise Unsupported("null list items")
                element = self.tmp()
                self.emit(f"for {element} in {x}:")
                self.open()
                self.validate_value(element, spec.items)
                self.close()
            return _Val("list", x, spec=spec, scope=spec.name) if path is not None and len(path) == 1 else None
        raise Unsupported(f"inputs of type {kind}")

    def number_pair(self, x: str) -> tuple[str, str]:
        """A number of the record as (numerator, denominator), within 10^15 (engine.numbers): a
        pair from decode_pairs (at most 16 characters, so within it), an int, or a Decimal."""
        num, den = self.tmp(), self.tmp()
        self.emit(f"if {x}.__class__ is tuple: {num}, {den} = {x}")
        self.emit(f"elif {x}.__class__ is int:")
        self.emit(f"    if not -{10 ** 15} <= {x} <= {10 ** 15}: raise Fallback")
        self.emit(f"    {num} = {x}; {den} = 1")
        self.emit(f"elif {x}.__class__ is Decimal:")
        self.emit(f"    {num}, {den} = {x}.as_integer_ratio()")
        self.emit(f"    if not -{10 ** 15} * {den} <= {num} <= {10 ** 15} * {den}: raise Fallback")
        self.emit("else: raise Fallback")
        return num, den

    def requirement(self, requirement) -> None:
        if requirement.for_each is None:
            test = self.expr(requirement.rule.node, _Ctx())
            self.expect(test, "bool")
            self.emit(f"if not {test.v}: raise Fallback")  # the exact path lists every failed rule
            return
        scope = requirement.for_each
        memos, item, memo = self.tmp(), self.tmp(), self.tmp()
        self.memos_made.add(scope)
        self.emit(f"{memos} = IM.get({scope!r})")
        self.emit(f"if {memos} is None: {memos} = IM[{scope!r}] = [{{}} for _ in R.get({scope!r}) or ()]")
        self.emit(f"for {item}, {memo} in zip(R.get({scope!r}) or (), {memos}):")
        self.open()
        test = self.expr(requirement.rule.node, _Ctx(scope, item, memo))
        self.expect(test, "bool")
        self.emit(f"if not {test.v}: raise Fallback")
        self.close()

    def output(self, output) -> None:
        guarded = output.when is not None
        if guarded:
            test = self.expr(output.when.node, _Ctx())
            self.expect(test, "bool")
            self.emit(f"if {test.v}:")
            self.open()
        val = self.expr(output.value.node, _Ctx())
        if val.kind == "num":
            self.emit(f"O[{output.name!r}] = _out({val.v}, {val.d}, {output.places}, {self.const(output.mode)})")
        elif val.kind in ("text", "bool"):
            self.emit(f"O[{output.name!r}] = {val.v}")
        else:
            raise Unsupported(f"output '{output.name}' is a {val.kind}")
        if guarded:
            self.close()


_BUILTINS = {"abs": abs, "len": len, "str": str, "int": int, "tuple": tuple, "any": any, "all": all, "zip": zip, "dict": dict, "list": list, "enumerate": enumerate}


class FastPolicy:
    """A checked policy compiled to the fast kernel; when the generator does not handle one of its
    constructs (`reason` says which), every record takes the exact path: slower, same results."""

    def __init__(self, loaded):
        self.loaded = loaded
        self.ref = loaded.ref
        self.kernel = None
        self.reason: str | None = None
        self.source = ""
        if type(loaded.reader) is not RecordReader:
            self.reason = "its records are read by a reader of its own"  # e.g. versions refusing a period
            return
        try:
            generator = _Gen(loaded.policy)
            self.source = generator.source()
        except Unsupported as error:
            self.reason = str(error)
            return
        namespace = {"Fallback": Fallback, "_M": _M, "Decimal": Decimal, "gcd": gcd, "_round": _round, "_ratio": _ratio, "_is_period": _is_period,
                     "_out": _out, "__builtins__": _BUILTINS, **generator.constants}
        # The source is ours, generated from the checked tree (module docstring): not policy text.
        exec(compile(self.source, f"<fast kernel of {loaded.policy.id}>", "exec"), namespace)  # noqa: S102
        self.kernel = namespace["kernel"]

    def try_fast(self, record) -> dict | None:
        """The result of a record (as engine.evaluate.io decodes it), or None when the exact path must say."""
        if self.kernel is None:
            return None
        try:
            outputs, memo, item_memos = self.kernel(record)
            return {"id": record.get("id"), "policy": self.ref, "outputs": outputs,
                    "values": _values(memo, item_memos)}
        except Fallback:
            return None
        except (ArithmeticError, TypeError, ValueError, KeyError, AttributeError, RecursionError):
            return None  # never trust a surprise: the exact path decides and explains

    def evaluate(self, record, raw: bytes | None = None) -> dict:
        """A record (as engine.evaluate.io decodes it) -> its result, exactly as api.evaluate gives it.
        With `raw`, the record's JSON text, the kernel reads its numbers as exact pairs."""
        from engine import api
        quick = decode_pairs(raw) if raw is not None else record if _short_numbers(record) else None
        if quick is not None:
            result = self.try_fast(quick)
            if result is not None:
                return result
        return api.evaluate(self.loaded, record)


def _short_numbers(value, depth: int = 0) -> bool:
    """True when every Decimal in a decoded record has at most 15 significant digits."""
    cls = value.__class__
    if cls is Decimal:
        return value.is_finite() and len(value.as_tuple().digits) <= 15
    if depth > 64:
        return False
    if cls is dict:
        return all(_short_numbers(v, depth + 1) for v in value.values())
    if cls is list:
        return all(_short_numbers(v, depth + 1) for v in value)
    return True
