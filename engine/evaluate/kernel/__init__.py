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

It reads the checked policy (engine.policy.checked): each value's variant, the type the checks
found for it (its kind here) and its interval (its sign: a divisor known positive needs no zero
test); calls and aggregates are the function registry's kernel emissions (engine.policy.functions),
except capaian and present, whose code depends on their arguments' kinds (a range, an absent input).

Safety: the source is generated from the checked syntax tree, never from policy text. Names in the
generated code are our own (V3, t17); policy strings appear only as `repr()` constants and numbers
as integer literals; the namespace has no builtins beyond a few pure functions. A construct the
generator does not know makes the whole policy use the exact evaluator (`FastPolicy.reason`).

The package, in the order of the flow: pairs (records decoded to integer pairs), emitter (compiled
expressions, blocks, and how each value's code is written once), values (named values, tables,
matrices, weights), expressions (operators, functions, aggregates), record (validation,
requirements, outputs: the kernel function), helpers (what the generated code calls), and here
the generator's assembly and `FastPolicy`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.evaluate.kernel.emitter import MAX_GENERATED, MAX_SOURCE, Unsupported
from engine.evaluate.kernel.expressions import ExpressionCode
from engine.evaluate.kernel.helpers import Fallback, namespace, values_of
from engine.evaluate.kernel.pairs import decode_pairs
from engine.evaluate.kernel.record import RecordCode
from engine.evaluate.kernel.values import ValueCode
from engine.evaluate.records import RecordReader
from engine.policy.checked import CheckedPolicy

__all__ = ["MAX_GENERATED", "MAX_SOURCE", "Fallback", "FastPolicy", "Unsupported", "decode_pairs", "generate"]


class _Generator(RecordCode, ExpressionCode, ValueCode):
    """The whole generator: the kernel function, then the functions of the values it calls."""

    def __init__(self, policy: CheckedPolicy):
        super().__init__(policy)
        self.setup_values()

    def source(self) -> str:
        self.start("def kernel(R):", in_function=False)
        self.kernel()
        text = "\n".join(self.lines + self.function_lines) + "\n"
        if len(text) > MAX_SOURCE:
            raise Unsupported("the policy is too large for the fast path")
        return text


def generate(policy: CheckedPolicy) -> tuple[str, dict[str, object]]:
    """The kernel's Python source for a checked policy, and the constants it refers to. Raises
    Unsupported (with the reason) for a construct the generator does not handle."""
    generator = _Generator(policy)
    try:
        text = generator.source()
    except RecursionError:
        raise Unsupported("the policy's values nest too deeply for the fast path") from None
    return text, generator.constants


class FastPolicy:
    """A checked policy compiled to the fast kernel; when the generator does not handle one of its
    constructs (`reason` says which), every record takes the exact path: slower, same results."""

    def __init__(self, loaded: Any):
        self.loaded = loaded
        self.ref = loaded.ref
        self.kernel: Any = None
        self.reason: str | None = None
        self.source = ""
        if type(loaded.reader) is not RecordReader:
            self.reason = "its records are read by a reader of its own"  # e.g. versions refusing a period
            return
        try:
            self.source, constants = generate(loaded.policy)
        except Unsupported as error:
            self.reason = str(error)
            return
        try:
            code = compile(self.source, f"<fast kernel of {loaded.policy.id}>", "exec")
        except (SyntaxError, RecursionError, MemoryError):  # Python's nesting limits: blocks, loops
            self.reason, self.source = "the policy nests too deeply for the fast path", ""
            return
        globals_ = namespace(constants)
        # The source is ours, generated from the checked tree (module docstring): not policy text.
        exec(code, globals_)  # noqa: S102
        self.kernel = globals_["kernel"]

    def try_fast(self, record: Any) -> dict[str, Any] | None:
        """The result of a record (as engine.evaluate.io decodes it), or None when the exact path must say."""
        if self.kernel is None:
            return None
        try:
            outputs, memo, item_memos = self.kernel(record)
            return {
                "id": record.get("id"),
                "policy": self.ref,
                "outputs": outputs,
                "values": values_of(memo, item_memos),
            }
        except Fallback:
            return None
        except (ArithmeticError, TypeError, ValueError, KeyError, AttributeError, RecursionError):
            return None  # never trust a surprise: the exact path decides and explains


def short_numbers(value: object, depth: int = 0) -> bool:
    """True when every Decimal in a decoded record has at most 15 significant digits."""
    if isinstance(value, Decimal) and value.__class__ is Decimal:
        return value.is_finite() and len(value.as_tuple().digits) <= 15
    if depth > 64:
        return False
    if isinstance(value, dict) and value.__class__ is dict:
        return all(short_numbers(v, depth + 1) for v in value.values())
    if isinstance(value, list) and value.__class__ is list:
        return all(short_numbers(v, depth + 1) for v in value)
    return True
