"""The generator's common ground: compiled expressions (`Val`), where they are compiled (`Ctx`),
and the emitter that writes lines, blocks and the generated functions of named values.

Generation is linear in the policy's size: every named value's code is written at most twice, once
in place where it is first needed (unless that is deep in nested blocks) and once as a function
(`V3(R, M, IM)`) that every later use on a path where it is not yet known calls, after looking in
the memo. Nothing is copied into both branches of a conditional, so nested conditionals over a
chain of values stay linear, and so does the indentation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

from engine.language import nodes as n
from engine.policy.checked import CheckedPolicy, ValueDef
from engine.policy.intervals import Interval
from engine.policy.model import InputSpec
from engine.policy.names import Context

#: Largest generated source, in characters; beyond it the policy uses the exact evaluator.
MAX_SOURCE = 400_000
#: Most characters the generator writes in all (the kernel and its functions): a safety net, since
#: generation is linear; no bundled or tested policy comes near it.
MAX_GENERATED = 2 * MAX_SOURCE
#: Deepest indentation at which a value's code is written in place; deeper, its function is called,
#: so that the indentation (and Python's nesting limits) stay bounded however values chain.
MAX_INLINE_INDENT = 4
#: A denominator above this is reduced by its gcd with the numerator (keeps the ints small).
REDUCE_ABOVE = 1 << 62

Kind = Literal["num", "text", "bool", "tuple", "rec", "item", "list", "maybe", "target"]
#: What a value's sign is known to be: "pos" (> 0), "nonneg" (>= 0) or None (unknown).
Sign = Literal["pos", "nonneg"] | None
#: A value's key in Policy.values: (list scope or None, name).
Key = tuple[str | None, str]


class Unsupported(Exception):
    """The generator does not handle a construct of this policy (the reason is the message)."""


@dataclass(slots=True)
class Target:
    """A `number_or_range` as five Python expressions: (is a range, low, low den, high, high den)."""

    is_range: str
    low: str
    low_d: str
    high: str
    high_d: str


@dataclass(slots=True)
class Val:
    """A compiled expression: its kind, and Python expressions for its value (for a number: its
    numerator `v` and its denominator `d`, always > 0). `sign` spares zero and sign tests."""

    kind: Kind
    v: str
    d: str = "1"
    spec: InputSpec | None = None
    scope: str | None = None
    memo: str | None = None
    path: tuple[str, ...] | None = None
    sign: Sign = None
    target: Target | None = None


class Ctx:
    """Where an expression is compiled: its item scope and the aggregate variables in reach."""

    def __init__(
        self,
        scope: str | None = None,
        item: str | None = None,
        memo: str | None = None,
        locals_: dict[str, tuple[str, str, str]] | None = None,
        names_ctx: Context | None = None,
    ):
        self.scope, self.item, self.memo = scope, item, memo
        self.locals = locals_ or {}
        self.names = names_ctx or Context(scope)

    def bind(self, var: str, item: str, memo: str, scope: str, source: n.Expr) -> Ctx:
        locals_ = dict(self.locals)
        locals_[var] = (item, memo, scope)
        return Ctx(self.scope, self.item, self.memo, locals_, self.names.bind(var, ("item_of", source)))


def pair(value: Fraction) -> tuple[str, str]:
    return str(value.numerator), str(value.denominator)


def mul(a: str, b: str) -> str:
    if a == "0" or b == "0":
        return "0"
    if a == "1":
        return b
    if b == "1":
        return a
    return f"{a} * {b}"


def literal_sign(value: Fraction) -> Sign:
    return "pos" if value > 0 else "nonneg" if value == 0 else None


def spec_sign(spec: InputSpec) -> Sign:
    """What an input's declared bounds say about its sign."""
    if (
        spec.exclusive_minimum is not None
        and spec.exclusive_minimum >= 0
        or spec.minimum is not None
        and spec.minimum > 0
    ):
        return "pos"
    if spec.minimum is not None and spec.minimum >= 0:
        return "nonneg"
    return None


def product_sign(a: Sign, b: Sign) -> Sign:
    if a == b == "pos":
        return "pos"
    return "nonneg" if a in ("pos", "nonneg") and b in ("pos", "nonneg") else None


def interval_sign(interval: Interval | None) -> Sign:
    """What the checks' interval of a value says about its sign."""
    if interval is None or interval.lo is None:
        return None
    if interval.lo > 0 or interval.lo == 0 and not interval.lo_closed:
        return "pos"
    return "nonneg" if interval.lo == 0 else None


def sum_sign(a: Sign, b: Sign) -> Sign:
    both = product_sign(a, b)
    return "pos" if both is not None and "pos" in (a, b) else both


@dataclass(slots=True)
class Function:
    """A generated function computing one named value, and the lists whose item memos it may make."""

    name: str
    touched: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Target:
    """Where lines go: the kernel or one generated function, with what is known at this point."""

    lines: list[str]
    indent: int
    computed: dict[object, Val]
    computed_stack: list[dict[object, Val]]
    inputs: dict[tuple[str, ...], Val]
    fresh: set[str]
    in_function: bool
    loops: int
    touching: set[str]


class Emitter:
    """Lines, blocks, constants, and the bookkeeping that keeps every value's code written once."""

    def __init__(self, policy: CheckedPolicy):
        self.policy = policy
        self.lines: list[str] = []
        self.indent = 0
        self.emitted = 0  # characters generated so far, functions included
        self.counter = 0
        self.constants: dict[str, object] = {}
        #: Values computed on every path to here: a mark (a key, or an item's key) -> Val of locals.
        self.computed: dict[object, Val] = {}
        self.computed_stack: list[dict[object, Val]] = []
        #: In the kernel: the converted locals of record fields that are always present.
        self.inputs: dict[tuple[str, ...], Val] = {}
        self.memos_made: set[str] = set()  # lists whose item memos the kernel may have made already
        self.fresh: set[str] = set()  # memo variables of items that nothing has computed for yet
        self.in_function = False  # writing a value's function, not the kernel
        self.loops = 0  # loops around the current line, in the kernel or function being written
        self.touching: set[str] = set()  # lists whose item memos the code being written may make
        self.functions: dict[Key, Function] = {}
        self.function_lines: list[str] = []
        self.inlined: set[Key] = set()  # values whose code has been written in place once

    # emitting ----------------------------------------------------------------------------------
    def tmp(self) -> str:
        self.counter += 1
        return f"t{self.counter}"

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)
        self.emitted += len(line)
        if self.emitted > MAX_GENERATED:  # a safety net: generation is linear
            raise Unsupported("the policy is too large for the fast path")

    def open(self) -> None:
        """Enter a block (a branch or a loop body): what it computes is not known after it."""
        self.indent += 1
        self.computed_stack.append(dict(self.computed))

    def close(self) -> None:
        self.indent -= 1
        self.computed = self.computed_stack.pop()

    def open_loop(self) -> None:
        self.open()
        self.loops += 1

    def close_loop(self) -> None:
        self.close()
        self.loops -= 1

    def const(self, value: object) -> str:
        name = f"C{len(self.constants)}"
        self.constants[name] = value
        return name

    def save(self) -> _Target:
        return _Target(
            self.lines,
            self.indent,
            self.computed,
            self.computed_stack,
            self.inputs,
            self.fresh,
            self.in_function,
            self.loops,
            self.touching,
        )

    def restore(self, saved: _Target) -> None:
        self.lines, self.indent, self.computed, self.computed_stack = (
            saved.lines,
            saved.indent,
            saved.computed,
            saved.computed_stack,
        )
        self.inputs, self.fresh, self.in_function, self.loops, self.touching = (
            saved.inputs,
            saved.fresh,
            saved.in_function,
            saved.loops,
            saved.touching,
        )

    def start(self, header: str, in_function: bool) -> None:
        """Write from here on into a new top-level function, knowing nothing computed."""
        self.lines, self.indent, self.computed, self.computed_stack = [header], 1, {}, []
        self.inputs, self.fresh, self.in_function, self.loops, self.touching = {}, set(), in_function, 0, set()

    def touch(self, scope: str) -> None:
        """The code being written may make the item memos of `scope`."""
        self.touching.add(scope)
        if not self.in_function:
            self.memos_made.add(scope)

    @staticmethod
    def expect(val: Val, kind: Kind) -> None:
        if val.kind != kind:
            raise Unsupported(f"expected {kind}, got {val.kind}")

    # what the other parts of the generator provide ------------------------------------------
    def expr(self, node: n.Expr, ctx: Ctx, peek: bool = False) -> Val:
        raise NotImplementedError

    def use_value(self, key: Key, item: str | None = None, memo: str | None = None) -> Val:
        raise NotImplementedError

    def value_body(self, d: ValueDef, ctx: Ctx) -> Val:
        raise NotImplementedError

    def binary(self, op: n.BinOp, a: Val, b: Val) -> Val:
        raise NotImplementedError

    def divide(self, a: Val, b: Val, t: str) -> None:
        raise NotImplementedError

    def accumulate(self, num: str, den: str, term: Val) -> None:
        """num/den += term, in place."""
        if term.d == "1":
            self.emit(f"{num} = {num} + {mul(term.v, den)}")
            return
        self.emit(f"if {den} == {term.d}: {num} = {num} + {term.v}")
        self.emit(f"else: {num} = {num} * {term.d} + {term.v} * {den}; {den} = {den} * {term.d}")
        self.emit(f"if {den} > {REDUCE_ABOVE}:")
        self.emit(f"    g = gcd({num}, {den}); {num} //= g; {den} //= g")

    def assign(self, result: str, val: Val) -> None:
        if val.kind == "num":
            self.emit(f"{result}, {result}d = {val.v}, {val.d}")
        else:
            self.emit(f"{result} = {val.v}")

    @staticmethod
    def result(result: str, kind: Kind) -> Val:
        return Val("num", result, result + "d") if kind == "num" else Val(kind, result)

    @staticmethod
    def same_kind(kind: Kind | None, new: Kind, name: str) -> Kind:
        if kind is not None and kind != new:
            raise Unsupported(f"'{name}' mixes {kind} and {new}")
        return new
