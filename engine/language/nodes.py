"""The typed syntax tree of formulas and decision-table cells.

Frozen dataclasses with a location on every node: the parse tree stops at the parser's edge
and everything after it (checks, compiler, printer) works on these.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from fractions import Fraction


@dataclass(frozen=True, slots=True)
class Loc:
    """Line and column (1-based) inside the formula's own text."""

    line: int
    column: int


class BinOp(str, Enum):
    ADD = "+"
    SUB = "-"
    MUL = "*"
    DIV = "/"


class CmpOp(str, Enum):
    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="


class LogicOp(str, Enum):
    AND = "and"
    OR = "or"


class AggFunc:
    """Transitional names of some aggregates, for modules not yet reading engine.policy.functions.

    An aggregate's `function` is its name; which names exist is the function registry's to say.
    The parser interns the name, so `node.function is AggFunc.COUNT` holds as it did for the enum.
    """

    MEAN = "mean"
    SUM = "sum"
    COUNT = "count"
    MIN = "min"
    MAX = "max"
    ANY = "any"
    ALL = "all"
    TRIMMED_MEAN = "trimmed_mean"


@dataclass(frozen=True, slots=True)
class Number:
    value: Fraction
    text: str
    loc: Loc


@dataclass(frozen=True, slots=True)
class Text:
    value: str
    loc: Loc


@dataclass(frozen=True, slots=True)
class Bool:
    value: bool
    loc: Loc


@dataclass(frozen=True, slots=True)
class Name:
    id: str
    loc: Loc


@dataclass(frozen=True, slots=True)
class Field:
    """`perilaku.integritas`: a field of a record."""

    obj: Expr
    name: str
    loc: Loc


@dataclass(frozen=True, slots=True)
class Negate:
    operand: Expr
    loc: Loc


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr
    loc: Loc


@dataclass(frozen=True, slots=True)
class Binary:
    op: BinOp
    left: Expr
    right: Expr
    loc: Loc


@dataclass(frozen=True, slots=True)
class Compare:
    op: CmpOp
    left: Expr
    right: Expr
    loc: Loc


@dataclass(frozen=True, slots=True)
class Logical:
    op: LogicOp
    left: Expr
    right: Expr
    loc: Loc


@dataclass(frozen=True, slots=True)
class Member:
    """`jenjang in ["ahli_muda", "ahli_madya"]`, or with `negated` `not in`."""

    element: Expr
    container: Expr
    negated: bool
    loc: Loc


@dataclass(frozen=True, slots=True)
class Conditional:
    test: Expr
    then: Expr
    otherwise: Expr
    loc: Loc


@dataclass(frozen=True, slots=True)
class Call:
    function: str
    args: tuple[Expr, ...]
    loc: Loc


@dataclass(frozen=True, slots=True)
class Aggregate:
    function: str  # a name in engine.policy.functions.AGGREGATES (the names check says when it is not)
    element: Expr
    var: str
    source: Expr
    filter: Expr | None
    loc: Loc


@dataclass(frozen=True, slots=True)
class ListExpr:
    items: tuple[Expr, ...]
    loc: Loc


Expr = (
    Number
    | Text
    | Bool
    | Name
    | Field
    | Negate
    | Not
    | Binary
    | Compare
    | Logical
    | Member
    | Conditional
    | Call
    | Aggregate
    | ListExpr
)


# Decision-table cells ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bound:
    """A number in a cell, or the name of a constant value that the checker resolves."""

    value: Fraction | None
    name: str | None
    loc: Loc


@dataclass(frozen=True, slots=True)
class AnyCell:
    loc: Loc


@dataclass(frozen=True, slots=True)
class CompareCell:
    op: CmpOp
    bound: Bound
    loc: Loc


@dataclass(frozen=True, slots=True)
class IntervalCell:
    low: Bound
    high: Bound
    low_closed: bool
    high_closed: bool
    loc: Loc


@dataclass(frozen=True, slots=True)
class LiteralsCell:
    """One or more literal values; the cell matches when the column equals any of them."""

    values: tuple[Fraction | str | bool, ...]
    loc: Loc


Cell = AnyCell | CompareCell | IntervalCell | LiteralsCell


def children(node: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of a node, for walks that do not care about its kind."""
    match node:
        case Field(obj=obj):
            return (obj,)
        case Negate(operand=x) | Not(operand=x):
            return (x,)
        case Binary(left=a, right=b) | Compare(left=a, right=b) | Logical(left=a, right=b):
            return (a, b)
        case Member(element=a, container=b):
            return (a, b)
        case Conditional(test=a, then=b, otherwise=c):
            return (a, b, c)
        case Call(args=args) | ListExpr(items=args):
            return args
        case Aggregate(element=e, source=s, filter=f):
            return (s, e) if f is None else (s, e, f)
    return ()
