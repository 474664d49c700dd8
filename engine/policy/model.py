"""Merged policy data -> a typed policy model, with every formula and cell parsed and located.

The model is what the checks inspect and the compiler compiles. Building it never raises for a
mistake in the policy: each problem becomes a located diagnostic and the faulty part is left
out (its formula is None), so one run reports every mistake.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

from engine.diagnostics import Position
from engine.language import nodes as n
from engine.numbers import RoundingMode
from engine.policy.source import SourceMap

INPUT_TYPES = ("number", "integer", "text", "boolean", "list", "record", "number_or_range")
DEFAULT_ROUNDING = (2, RoundingMode.HALF_UP)  # PRODUCT.md: outputs to 2 decimals, half up


@dataclass(frozen=True, slots=True)
class Formula:
    text: str
    node: n.Expr | None  # None when the text did not parse (a diagnostic says why)
    path: tuple[Any, ...]  # where in the policy data the text is
    position: Position

    def locate(self, sources: SourceMap, loc: n.Loc) -> Position:
        origin = sources.origin(self.path)
        return origin.locate(loc.line, loc.column) if origin else self.position


@dataclass
class InputSpec:
    name: str
    type: str
    path: tuple[Any, ...]  # in the policy data
    position: Position
    label: str = ""
    description: str = ""
    required: bool = True
    default: object = None
    has_default: bool = False
    null: str = "reject"
    minimum: Fraction | None = None
    maximum: Fraction | None = None
    exclusive_minimum: Fraction | None = None
    exclusive_maximum: Fraction | None = None
    enum: tuple[Any, ...] | None = None
    min_items: int | None = None
    max_items: int | None = None
    items: InputSpec | None = None
    fields: dict[str, InputSpec] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Row:
    cells: tuple[n.Cell | None, ...]  # one per column; None when the cell did not parse
    then: object  # a literal, or a Formula
    basis: str
    path: tuple[Any, ...]
    position: Position


@dataclass(frozen=True, slots=True)
class Table:
    on: tuple[Formula | None, ...]
    hit: str
    rows: tuple[Row, ...]


@dataclass(frozen=True, slots=True)
class Matrix:
    rows: Formula | None
    columns: Formula | None
    cells: Mapping[tuple[Any, Any], object]  # (row key, column key) -> literal
    cell_positions: Mapping[tuple[Any, Any], Position]
    row_keys: tuple[Any, ...]
    column_keys: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Weighted:
    total: Fraction
    not_applicable: str
    by: Formula | None
    indicators: tuple[str, ...]  # names of indicator values, in order
    weights: Mapping[Any, Mapping[str, Fraction]]  # weight set key ("default" for the rest) -> weights
    weight_positions: Mapping[Any, Position]


@dataclass(frozen=True, slots=True, kw_only=True)
class ValueBase:
    """A named value: computed once per record (or once per list item when `scope` is set).

    A definition is one of the variants below; read it with `match` or isinstance. `type`,
    `interval` and `size` are filled in by the checks (engine.policy.checked) and None before.
    """

    name: str
    path: tuple[Any, ...]
    position: Position
    scope: str | None = None  # the list input whose items this value belongs to
    label: str = ""
    description: str = ""
    basis: str = ""
    range: tuple[Fraction | None, Fraction | None] | None = None
    type: Any = None  # engine.policy.typecheck.Type, once checked
    interval: Any = None  # engine.policy.intervals.Interval (None: not numeric, or not analysed)
    size: Any = None  # engine.policy.bounds.Found (None: not analysed)

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.scope, self.name)

    @property
    def kind(self) -> str:
        """The variant's name as outputs show it (`--trace`'s "kind", the rulebook, a growth
        chain); code chooses by the variant's class, never by this string."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True, kw_only=True)
class ComputedValue(ValueBase):
    """`name: formula`: the formula's value (None when it did not parse or was not given)."""

    formula: Formula | None = None

    @property
    def kind(self) -> str:
        return "formula"


@dataclass(frozen=True, slots=True, kw_only=True)
class IndicatorValue(ValueBase):
    """One indicator of a weighted value: its own formula, weight and applicability."""

    formula: Formula | None = None
    weight: Fraction | None = None
    applies_when: Formula | None = None
    parent: str = ""  # the weighted value it belongs to

    @property
    def kind(self) -> str:
        return "indicator"


@dataclass(frozen=True, slots=True, kw_only=True)
class TableValue(ValueBase):
    table: Table

    @property
    def kind(self) -> str:
        return "table"


@dataclass(frozen=True, slots=True, kw_only=True)
class MatrixValue(ValueBase):
    matrix: Matrix

    @property
    def kind(self) -> str:
        return "matrix"


@dataclass(frozen=True, slots=True, kw_only=True)
class WeightedValue(ValueBase):
    weighted: Weighted

    @property
    def kind(self) -> str:
        return "weighted"


ValueDef = ComputedValue | IndicatorValue | TableValue | MatrixValue | WeightedValue


class PolicyView(Protocol):
    """What the name resolution and the analyses read of a policy: the builder's draft (`Policy`)
    and the checked policy (engine.policy.checked.CheckedPolicy) both have it."""

    @property
    def id(self) -> str: ...

    @property
    def file(self) -> str: ...

    @property
    def sources(self) -> SourceMap: ...

    @property
    def inputs(self) -> Mapping[str, InputSpec]: ...

    @property
    def values(self) -> Mapping[tuple[str | None, str], ValueDef]: ...

    @property
    def outputs(self) -> Mapping[str, OutputDef]: ...

    @property
    def requirements(self) -> Mapping[str, Requirement]: ...


def formulas_of(d: ValueDef) -> tuple[Formula, ...]:
    """The formulas a definition holds, in the order they appear in it (a table: its columns,
    then its rows' formulas). Ones that are absent are left out."""
    found: tuple[Formula | None, ...]
    match d:
        case ComputedValue(formula=formula):
            found = (formula,)
        case IndicatorValue(formula=formula, applies_when=applies):
            found = (formula, applies)
        case TableValue(table=table):
            found = table.on + tuple(row.then for row in table.rows if isinstance(row.then, Formula))
        case MatrixValue(matrix=matrix):
            found = (matrix.rows, matrix.columns)
        case WeightedValue(weighted=weighted):
            found = (weighted.by,)
    return tuple(f for f in found if f is not None)


@dataclass(frozen=True)
class OutputDef:
    name: str
    value: Formula | None  # None when it could not be read (a diagnostic says why)
    path: tuple[Any, ...]
    position: Position
    label: str = ""
    description: str = ""
    places: int = DEFAULT_ROUNDING[0]
    mode: RoundingMode = DEFAULT_ROUNDING[1]
    when: Formula | None = None
    range: tuple[Any, ...] | None = None
    labels: tuple[Any, ...] | None = None
    type: Any = None  # engine.policy.typecheck.Type of `value`, once checked
    interval: Any = None  # engine.policy.intervals.Interval of `value` (None: not numeric or not analysed)


@dataclass(frozen=True)
class Requirement:
    """A condition a record must meet beyond its input types (for example: at least one RHK utama)."""

    name: str
    rule: Formula | None
    message: str
    path: str
    for_each: str | None
    basis: str
    position: Position


@dataclass
class ShareCondition:
    """A bound on how many of a unit's employees carry some labels: a percentage or a head count."""

    labels: tuple[Any, ...]
    bound: str  # at_most | at_least | at_most_count | at_least_count
    limit: Fraction
    basis: str
    position: Position


@dataclass
class UnitRule:
    """A rule over the results of a whole unit, such as the kurva distribusi."""

    name: str
    counts: str  # the output whose labels are counted
    by: str  # the unit attribute that chooses the case
    cases: dict[str, list[ShareCondition]]
    small_units_below: int | None
    label: str
    basis: str
    position: Position
    path: tuple[Any, ...]


@dataclass
class TestCase:
    name: str
    record: dict[Any, Any]
    expect: dict[Any, Any]
    expect_values: dict[Any, Any]
    expect_errors: list[Any]
    position: Position
    path: tuple[Any, ...]
    expect_absent: list[Any] = field(default_factory=list)


@dataclass
class Policy:
    id: str
    title: str
    version: str
    description: str
    legal_basis: list[str]
    berlaku_mulai: str | None
    berlaku_sampai: str | None
    chain: list[str]
    file: str
    hash: str
    sources: SourceMap
    inputs: dict[str, InputSpec]
    values: dict[tuple[str | None, str], ValueDef]  # (scope, name) -> definition
    outputs: dict[str, OutputDef]
    tests: list[TestCase]
    data: dict[Any, Any]
    unit_rules: dict[str, UnitRule] = field(default_factory=dict)
    requirements: dict[str, Requirement] = field(default_factory=dict)

    def value(self, name: str, scope: str | None = None) -> ValueDef | None:
        return self.values.get((scope, name))
