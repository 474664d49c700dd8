"""The built-in functions and aggregates a formula may call, each declared once.

One entry says everything the engine knows about a function: its signature and description
(the help and the "did you mean" of the checks), its type rule (typecheck), its range rule
(ranges: the interval of its result), its size rule (bounds: the digits of its result), its exact
implementation (the exact evaluator), its kernel emission (the fast kernel's generated Python)
and its notation in the rulebook. Adding a function is adding an entry here.

Kernel emissions are functions from code strings to code: `emit(result, *args)` returns Python
statements that set `{result}` and `{result}d` (numerator and positive denominator); a numeric
argument is a pair of code strings (numerator, denominator). An aggregate's emission gets
`(result, collected, count)`, `collected` naming a non-empty list of such pairs. None means the
kernel generates the call itself (its arguments' kinds decide: a range target, an absent input).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Protocol

from engine.i18n import N_, _
from engine.language import nodes as n
from engine.numbers import HUNDRED, ZERO, RoundingMode, round_to
from engine.policy import intervals as iv
from engine.policy.intervals import EVERYTHING, Interval
from engine.policy.sizes import Size, _digits, add, div, hull, literal, mul, rounded, sum_of
from engine.policy.types import BOOLEAN, NUMBER, Type


class TypeRules(Protocol):
    """What a type rule may ask of the type checker (engine.policy.typecheck.TypeChecker)."""

    def infer(self, node: n.Expr, context: Any) -> Type: ...

    def need(self, node: n.Expr, context: Any, wanted: Type, what: str | Callable[[], str]) -> Type: ...

    def error(self, node: n.Expr, code: str, message: str, hint: str = "") -> None: ...


TypeRule = Callable[[TypeRules, n.Call, Any], Type]
IntervalRule = Callable[[Sequence[Interval | None], Sequence[n.Expr]], Interval | None]
SizeRule = Callable[[Sequence[Size], Sequence[n.Expr], int], Size | None]
Emission = Callable[..., str]


@dataclass(frozen=True)
class Function:
    """A function called as `name(a, b, ...)`."""

    name: str
    min_args: int
    max_args: int | None  # None: any number from min_args
    description: str  # an N_ message: the signature and what it gives
    implementation: Callable[..., Any]  # exact values in, an exact value out
    type_rule: TypeRule
    interval: IntervalRule  # the interval of the result from the arguments' intervals
    size: SizeRule  # the size of the result from the arguments' sizes (and the most list items)
    kernel: Emission | None
    words: str  # the rulebook's word for it (Indonesian)
    peek: bool = False  # reads its argument without needing it to be there (present)
    on_zero: str | None = None  # an N_ message for a division by 0 inside it (a record error)


@dataclass(frozen=True)
class Aggregate:
    """An aggregate over a list, written `name(k.nilai for k in kegiatan if ...)`."""

    name: str
    description: str
    element: Type | None  # the type its values must have (None: any)
    result: Type
    least: int  # fewest values it works on: fewer is a record error (0: any number, even none)
    implementation: Callable[[list[Any]], Any]
    interval: Callable[[Interval | None], Interval | None]  # from the interval of its values
    size: Callable[[Size | None, int], Size | None]  # from the size of its values and the most items
    kernel: Emission
    words: str


# Exact implementations ---------------------------------------------------------------------


class TargetRange(tuple):  # type: ignore[type-arg]
    """A two-number target such as 7-8 bulan: (low, high)."""

    __slots__ = ()

    @property
    def low(self) -> Fraction:
        return self[0]  # type: ignore[no-any-return]

    @property
    def high(self) -> Fraction:
        return self[1]  # type: ignore[no-any-return]


def capaian(realisasi: Fraction, target: Any) -> Fraction:
    """Higher is better: realisasi / target x 100. A range target gives 100 inside the range and
    compares with the nearer bound outside it (PermenPANRB 8/2021)."""
    if isinstance(target, list):  # [low, high] written in the formula
        target = TargetRange(target)
    if isinstance(target, TargetRange):
        if target.low <= realisasi <= target.high:
            return HUNDRED
        target = target.high if realisasi > target.high else target.low
    return realisasi / target * HUNDRED  # type: ignore[no-any-return]


def capaian_terbalik(realisasi: Fraction, target: Any) -> Fraction:
    """Lower is better (kondisi khusus): (2 x target - realisasi) / target x 100, at least 0."""
    if isinstance(target, list):
        target = TargetRange(target)
    if isinstance(target, TargetRange):
        if target.low <= realisasi <= target.high:
            return HUNDRED
        target = target.high if realisasi > target.high else target.low
    value: Fraction = (2 * target - realisasi) / target * HUNDRED
    return value if value > ZERO else ZERO


def clamp(value: Fraction, low: Fraction, high: Fraction) -> Fraction:
    return low if value < low else high if value > high else value


def round_value(value: Fraction, places: Fraction, mode: str = "half_up") -> Fraction:
    return round_to(value, int(places), RoundingMode(mode))


def floor(value: Fraction) -> Fraction:
    return Fraction(value.numerator // value.denominator)


def ceil(value: Fraction) -> Fraction:
    return Fraction(-((-value.numerator) // value.denominator))


def present(value: Any) -> bool:
    """True unless the value is absent (engine.evaluate.runtime's MISSING or NOT_APPLICABLE)."""
    return getattr(value, "is_absent", False) is not True


def mean(values: list[Fraction]) -> Fraction:
    return sum(values, ZERO) / len(values)


def trimmed_mean(values: list[Fraction]) -> Fraction:
    """The mean without one highest and one lowest value (exact)."""
    return (sum(values, ZERO) - max(values) - min(values)) / (len(values) - 2)


# Type rules --------------------------------------------------------------------------------


def _numbers(checker: TypeRules, node: n.Call, context: Any) -> Type:
    for i, arg in enumerate(node.args):

        def what(number: int = i + 1) -> str:
            return _("argument {number} of {name}()", number=number, name=node.function)

        checker.need(arg, context, NUMBER, what)
    return NUMBER


def _present_type(checker: TypeRules, node: n.Call, context: Any) -> Type:
    if not isinstance(node.args[0], (n.Name, n.Field)):
        checker.error(node.args[0], "type.present", _("present() takes the name of an input"))
    checker.infer(node.args[0], context)
    return BOOLEAN


def _len_type(checker: TypeRules, node: n.Call, context: Any) -> Type:
    t = checker.infer(node.args[0], context)
    if t.kind not in ("list", "any"):
        checker.error(node.args[0], "type.mismatch", _("len() needs a list, not {type}", type=t))
    return NUMBER


def _capaian_type(checker: TypeRules, node: n.Call, context: Any) -> Type:
    realisasi, target = node.args
    checker.need(realisasi, context, NUMBER, "realisasi")
    if isinstance(target, n.ListExpr):  # a range target written in the formula: [7, 8]
        if len(target.items) != 2:
            checker.error(target, "type.range", _("a range target is two numbers: [low, high]"))
        for item in target.items:
            checker.need(item, context, NUMBER, lambda: _("a bound of the range"))
        return NUMBER
    found = checker.infer(target, context)
    if found.kind not in ("number", "number_or_range", "any"):
        checker.error(
            target, "type.mismatch", _("target must be a number or a range [low, high], not {type}", type=found)
        )
    return NUMBER


def _round_type(checker: TypeRules, node: n.Call, context: Any) -> Type:
    args = node.args
    checker.need(args[0], context, NUMBER, lambda: _("the value to round"))
    places = args[1]
    if not (isinstance(places, n.Number) and places.value.denominator == 1 and 0 <= places.value <= 10):
        checker.error(places, "type.round", _("round() needs a whole number of places from 0 to 10"))
    if len(args) == 3 and not (isinstance(args[2], n.Text) and args[2].value in {m.value for m in RoundingMode}):
        checker.error(args[2], "type.round", _("unknown rounding mode"), _(_ROUND_DESCRIPTION))
    return NUMBER


# Range rules -------------------------------------------------------------------------------


def _numeric(rule: Callable[[Sequence[Interval | None], Sequence[n.Expr]], Interval | None]) -> IntervalRule:
    """A rule for a function of numbers: anything, when its first argument has no interval."""

    def guarded(parts: Sequence[Interval | None], args: Sequence[n.Expr]) -> Interval | None:
        return EVERYTHING if parts[:1] and parts[0] is None else rule(parts, args)

    return guarded


def _capaian_interval(parts: Sequence[Interval | None], args: Sequence[n.Expr]) -> Interval | None:
    target = parts[1] or Interval(Fraction(0), None, False, True)
    return iv.mul(iv.div(_sure(parts[0]), target), Interval.point(HUNDRED))


def _capaian_terbalik_interval(parts: Sequence[Interval | None], args: Sequence[n.Expr]) -> Interval | None:
    # (2t - r) / t x 100 = 200 - r / t x 100, floored at 0
    target = parts[1] or Interval(Fraction(0), None, False, True)
    raw = iv.sub(Interval.point(Fraction(200)), iv.mul(iv.div(_sure(parts[0]), target), Interval.point(HUNDRED)))
    floored = iv.intersect(raw, Interval(Fraction(0), None))
    return floored if not floored.empty else Interval.point(Fraction(0))


def _combine(combine: Callable[..., Interval]) -> IntervalRule:
    def rule(parts: Sequence[Interval | None], args: Sequence[n.Expr]) -> Interval | None:
        if any(p is None for p in parts):
            return EVERYTHING
        return combine(*parts)

    return rule


def _fold(combine: Callable[[Interval, Interval], Interval]) -> IntervalRule:
    def rule(parts: Sequence[Interval | None], args: Sequence[n.Expr]) -> Interval | None:
        if any(p is None for p in parts):
            return EVERYTHING
        result = _sure(parts[0])
        for p in parts[1:]:
            result = combine(result, _sure(p))
        return result

    return rule


def _abs_interval(parts: Sequence[Interval | None], args: Sequence[n.Expr]) -> Interval | None:
    p = _sure(parts[0])
    return Interval(Fraction(0), None if p.lo is None or p.hi is None else max(abs(p.lo), abs(p.hi)))


def _rounding_interval(parts: Sequence[Interval | None], args: Sequence[n.Expr]) -> Interval | None:
    return rounded_interval(_sure(parts[0]), _places(args))


def rounded_interval(p: Interval, places: int) -> Interval:
    """Any rounding to `places` keeps a value between its floor and its ceiling at those places."""
    return Interval(
        None if p.lo is None else round_to(p.lo, places, RoundingMode.FLOOR),
        None if p.hi is None else round_to(p.hi, places, RoundingMode.CEILING),
    )


def _sure(part: Interval | None) -> Interval:
    return part if part is not None else EVERYTHING


def _places(args: Sequence[n.Expr]) -> int:
    """The places a round() call rounds to (0 for floor and ceil)."""
    return int(args[1].value) if len(args) > 1 and isinstance(args[1], n.Number) else 0


# Size rules --------------------------------------------------------------------------------


def _capaian_size(numbers: Sequence[Size], args: Sequence[n.Expr], items: int) -> Size | None:
    return mul(div(numbers[0], numbers[1]), literal(HUNDRED)) if len(numbers) == 2 else None


def _capaian_terbalik_size(numbers: Sequence[Size], args: Sequence[n.Expr], items: int) -> Size | None:
    if len(numbers) != 2:
        return None
    twice = mul(literal(Fraction(2)), numbers[1])
    return mul(div(add(twice, numbers[0]), numbers[1]), literal(HUNDRED))


def _rounding_size(numbers: Sequence[Size], args: Sequence[n.Expr], items: int) -> Size | None:
    return rounded(numbers[0], max(0, _places(args))) if numbers else None


def _hull_size(numbers: Sequence[Size], args: Sequence[n.Expr], items: int) -> Size | None:
    if not numbers:
        return None
    size = numbers[0]
    for part in numbers[1:]:
        size = hull(size, part)
    return size


def _median_size(part: Size | None, items: int) -> Size | None:
    """The middle value, or the mean of the two middle values."""
    return None if part is None else hull(part, div(add(part, part), literal(Fraction(2))))


# Kernel emissions (what engine/evaluate/kernel.py generates) ----------------------------------


def _pick(smaller: bool) -> Emission:
    op = "<" if smaller else ">"

    def emit(r: str, first: tuple[str, str], *others: tuple[str, str]) -> str:
        lines = [f"{r}, {r}d = {first[0]}, {first[1]}"]
        lines += [f"if {v} * {r}d {op} {r} * {d}: {r}, {r}d = {v}, {d}" for v, d in others]
        return "\n".join(lines)

    return emit


def _clamp_code(r: str, x: tuple[str, str], low: tuple[str, str], high: tuple[str, str]) -> str:
    return "\n".join(
        [
            f"if {x[0]} * {low[1]} < {low[0]} * {x[1]}: {r}, {r}d = {low[0]}, {low[1]}",
            f"elif {x[0]} * {high[1]} > {high[0]} * {x[1]}: {r}, {r}d = {high[0]}, {high[1]}",
            f"else: {r}, {r}d = {x[0]}, {x[1]}",
        ]
    )


def _round_code(r: str, x: tuple[str, str], places: str, mode: str = "'half_up'") -> str:
    """`places` and `mode` are code for the constants (the kernel passes its own constant names)."""
    return f"{r}, {r}d = _round({x[0]}, {x[1]}, {places}, {mode})"


def _aggregate_pick(smaller: bool) -> Emission:
    op = "<" if smaller else ">"

    def emit(r: str, collected: str, count: str) -> str:
        return "\n".join(
            [
                f"{r}, {r}d = {collected}[0]",
                f"for x, y in {collected}:",
                f"    if x * {r}d {op} {r} * y: {r}, {r}d = x, y",
            ]
        )

    return emit


def _total_code(r: str, collected: str) -> str:
    return "\n".join(
        [
            f"{r}, {r}d = 0, 1",
            f"for x, y in {collected}:",
            f"    {r}, {r}d = {r} * y + x * {r}d, {r}d * y",
            f"    g = _gcd({r}, {r}d); {r}, {r}d = {r} // g, {r}d // g",
        ]
    )


def _sum_code(r: str, collected: str, count: str) -> str:
    return _total_code(r, collected)


def _mean_code(r: str, collected: str, count: str) -> str:
    return "\n".join(
        [_total_code(r, collected), f"{r}d = {r}d * {count}", f"g = _gcd({r}, {r}d); {r}, {r}d = {r} // g, {r}d // g"]
    )


def _trimmed_mean_code(r: str, collected: str, count: str) -> str:
    c = collected
    return "\n".join(
        [
            f"{r}_lo = {r}_hi = 0",
            f"for i, (x, y) in enumerate({c}):",
            f"    if x * {c}[{r}_lo][1] < {c}[{r}_lo][0] * y: {r}_lo = i",
            f"    if x * {c}[{r}_hi][1] > {c}[{r}_hi][0] * y: {r}_hi = i",
            f"if {r}_lo == {r}_hi: {r}_hi = 1 if {r}_lo == 0 else 0",  # all equal: drop any two
            _total_code(r, f"[p for i, p in enumerate({c}) if i != {r}_lo and i != {r}_hi]"),
            f"{r}d = {r}d * ({count} - 2)",
            f"g = _gcd({r}, {r}d); {r}, {r}d = {r} // g, {r}d // g",
        ]
    )


def _median_code(r: str, collected: str, count: str) -> str:
    return "\n".join(
        [
            f"{r}_s = []",
            f"for x, y in {collected}:",  # an insertion sort compared exactly (cross products)
            f"    i = len({r}_s)",
            f"    while i and {r}_s[i - 1][0] * y > x * {r}_s[i - 1][1]: i -= 1",
            f"    {r}_s.insert(i, (x, y))",
            f"{r}_m = len({r}_s) // 2",
            f"if len({r}_s) % 2: {r}, {r}d = {r}_s[{r}_m]",
            f"else: {r}, {r}d = {r}_s[{r}_m - 1][0] * {r}_s[{r}_m][1] + {r}_s[{r}_m][0] * {r}_s[{r}_m - 1][1], "
            f"2 * {r}_s[{r}_m - 1][1] * {r}_s[{r}_m][1]",
            f"g = _gcd({r}, {r}d); {r}, {r}d = {r} // g, {r}d // g",
        ]
    )


def median(values: list[Fraction]) -> Fraction:
    """The middle value (exact), or the mean of the two middle values when the count is even."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


# The registry ------------------------------------------------------------------------------

_ROUND_DESCRIPTION = N_(
    'round(x, places, mode): mode is "half_up" (default), "half_even", "half_down", "up", "down", "ceiling" or "floor"'
)
_ON_ZERO = N_("target is 0, so capaian cannot be computed")


def _no_interval(parts: Sequence[Interval | None], args: Sequence[n.Expr]) -> Interval | None:
    return None


def _no_size(numbers: Sequence[Size], args: Sequence[n.Expr], items: int) -> Size | None:
    return None


_FUNCTIONS = (
    Function(
        "capaian",
        2,
        2,
        N_("capaian(realisasi, target): realisasi / target x 100; a range target [a, b] gives 100 inside it"),
        capaian,
        _capaian_type,
        _numeric(_capaian_interval),
        _capaian_size,
        None,
        "capaian",
        on_zero=_ON_ZERO,
    ),
    Function(
        "capaian_terbalik",
        2,
        2,
        N_("capaian_terbalik(realisasi, target): lower is better, (2 x target - realisasi) / target x 100, at least 0"),
        capaian_terbalik,
        _capaian_type,
        _numeric(_capaian_terbalik_interval),
        _capaian_terbalik_size,
        None,
        "capaian_terbalik",
        on_zero=_ON_ZERO,
    ),
    Function(
        "clamp",
        3,
        3,
        N_("clamp(x, low, high): x kept within [low, high]"),
        clamp,
        _numbers,
        _numeric(_combine(iv.clamp)),
        _hull_size,
        _clamp_code,
        "batasi",
    ),
    Function(
        "round",
        2,
        3,
        _ROUND_DESCRIPTION,
        round_value,
        _round_type,
        _numeric(_rounding_interval),
        _rounding_size,
        _round_code,
        "bulatkan",
    ),
    Function(
        "min",
        2,
        None,
        N_("min(a, b, ...): the smallest"),
        min,
        _numbers,
        _numeric(_fold(iv.minimum)),
        _hull_size,
        _pick(True),
        "min",
    ),
    Function(
        "max",
        2,
        None,
        N_("max(a, b, ...): the largest"),
        max,
        _numbers,
        _numeric(_fold(iv.maximum)),
        _hull_size,
        _pick(False),
        "maks",
    ),
    Function(
        "abs",
        1,
        1,
        N_("abs(x): the size of x without its sign"),
        abs,
        _numbers,
        _numeric(_abs_interval),
        _hull_size,
        lambda r, x: f"{r}, {r}d = abs({x[0]}), {x[1]}",
        "abs",
    ),
    Function(
        "floor",
        1,
        1,
        N_("floor(x): the whole number at or below x"),
        floor,
        _numbers,
        _numeric(_rounding_interval),
        _rounding_size,
        lambda r, x: f"{r}, {r}d = ({x[0]} // {x[1]}), 1",
        "floor",
    ),
    Function(
        "ceil",
        1,
        1,
        N_("ceil(x): the whole number at or above x"),
        ceil,
        _numbers,
        _numeric(_rounding_interval),
        _rounding_size,
        lambda r, x: f"{r}, {r}d = (-((-{x[0]}) // {x[1]})), 1",
        "ceil",
    ),
    Function(
        "present",
        1,
        1,
        N_("present(x): true when the input x was given (not absent, not null)"),
        present,
        _present_type,
        _no_interval,
        _no_size,
        None,
        "diisi",
        peek=True,
    ),
    Function(
        "len",
        1,
        1,
        N_("len(list): the number of items"),
        lambda items: Fraction(len(items)),
        _len_type,
        lambda parts, args: Interval(Fraction(0), None),
        lambda numbers, args, items: Size(_digits(items)),
        lambda r, items: f"{r}, {r}d = len({items}), 1",
        "banyaknya",
    ),
)

_AGGREGATES = (
    Aggregate(
        "mean",
        N_("mean(x for k in list): the mean of the values"),
        NUMBER,
        NUMBER,
        1,
        mean,
        lambda part: part,
        lambda part, items: None if part is None else div(sum_of(part, items), Size(_digits(items))),
        _mean_code,
        "rata-rata",
    ),
    Aggregate(
        "sum",
        N_("sum(x for k in list): the sum of the values (0 for none)"),
        NUMBER,
        NUMBER,
        0,
        lambda values: sum(values, ZERO),
        lambda part: (
            None
            if part is None
            else Interval(
                Fraction(0) if part.lo is not None and part.lo >= 0 else None,
                Fraction(0) if part.hi is not None and part.hi <= 0 else None,
            )
        ),
        lambda part, items: None if part is None else sum_of(part, items),
        _sum_code,
        "jumlah",
    ),
    Aggregate(
        "count",
        N_("count(k for k in list if ...): how many items"),
        None,
        NUMBER,
        0,
        lambda values: Fraction(len(values)),
        lambda part: Interval(Fraction(0), None),
        lambda part, items: Size(_digits(items)),
        lambda r, collected, count: f"{r}, {r}d = {count}, 1",
        "banyaknya",
    ),
    Aggregate(
        "min",
        N_("min(x for k in list): the smallest value"),
        NUMBER,
        NUMBER,
        1,
        min,
        lambda part: part,
        lambda part, items: part,
        _aggregate_pick(True),
        "terkecil",
    ),
    Aggregate(
        "max",
        N_("max(x for k in list): the largest value"),
        NUMBER,
        NUMBER,
        1,
        max,
        lambda part: part,
        lambda part, items: part,
        _aggregate_pick(False),
        "terbesar",
    ),
    Aggregate(
        "any",
        N_("any(condition for k in list): true when some item meets it"),
        BOOLEAN,
        BOOLEAN,
        0,
        any,
        lambda part: None,
        lambda part, items: None,
        lambda r, collected, count: f"{r} = any({collected})",
        "ada",
    ),
    Aggregate(
        "all",
        N_("all(condition for k in list): true when every item meets it"),
        BOOLEAN,
        BOOLEAN,
        0,
        all,
        lambda part: None,
        lambda part, items: None,
        lambda r, collected, count: f"{r} = all({collected})",
        "semua",
    ),
    # the mean without one highest and one lowest value (360 feedback)
    Aggregate(
        "trimmed_mean",
        N_("trimmed_mean(x for k in list): the mean without one highest and one lowest value"),
        NUMBER,
        NUMBER,
        3,
        trimmed_mean,
        lambda part: part,
        lambda part, items: part,
        _trimmed_mean_code,
        "rata-rata tanpa nilai tertinggi dan terendah",
    ),
    Aggregate(
        "median",
        N_("median(x for k in list): the middle value, or the mean of the two middle values"),
        NUMBER,
        NUMBER,
        1,
        median,
        lambda part: part,
        _median_size,
        _median_code,
        "nilai tengah",
    ),
)

#: name -> Function: what a formula may call as `name(...)`.
FUNCTIONS: Mapping[str, Function] = MappingProxyType({f.name: f for f in _FUNCTIONS})
#: name -> Aggregate: what a formula may write as `name(... for k in list)`.
AGGREGATES: Mapping[str, Aggregate] = MappingProxyType({a.name: a for a in _AGGREGATES})

#: Fewest values a trimmed mean works on: one highest and one lowest are dropped, one stays.
TRIMMED_MEAN_LEAST = AGGREGATES["trimmed_mean"].least
