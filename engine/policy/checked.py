"""The checked policy: the type the checks return and the evaluators take (and nothing else).

`check(policy, out)` runs the passes of engine.policy.checks over the model the builder made
and freezes the result into a `CheckedPolicy`. How a consumer (an evaluator, a renderer) reads it:

- `policy.values` maps `(scope, name)` to a definition, in the policy's order. A definition is one
  of the frozen variants `ComputedValue` (`.formula`), `IndicatorValue` (`.formula`, `.weight`,
  `.applies_when`, `.parent`), `TableValue` (`.table.on`, `.table.rows`), `MatrixValue`
  (`.matrix.rows`, `.matrix.columns`, `.matrix.cells`) and `WeightedValue` (`.weighted.by`,
  `.weighted.indicators`, `.weighted.weights`); read it with `match` or isinstance:

      match d:
          case ComputedValue(formula=f) | IndicatorValue(formula=f): ...
          case TableValue(table=t): ...

- Every definition carries what the checks found: `d.type` (engine.policy.typecheck.Type),
  `d.interval` (engine.policy.intervals.Interval, None when not numeric) and `d.size`
  (engine.policy.bounds.Found: digits and steps per record). Intervals and sizes are only there
  when the policy's names and types are sound (`policy.analysed`); an evaluator only ever sees such
  a policy, because `api.load` refuses one with errors.
- `policy.type_of(formula)` is the type of any formula (outputs, `when`, table columns, rows).
  Every output carries `.type` and `.interval` too.
- Names in a formula resolve through engine.policy.names (`resolve(policy, context, name)`),
  calls through engine.policy.functions.
- Mappings are read-only views and sequences are tuples: nothing downstream changes the policy.
  `data` is the merged document as read (what is stored and diffed), not to be changed either.

Each variant also answers `.kind` ("formula", "indicator", "table", "matrix", "weighted"): its
name as outputs show it (`--trace`), never a switch; a variant has only its own slots.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from engine.diagnostics import Diagnostics
from engine.policy import checks
from engine.policy.model import (
    ComputedValue,
    Formula,
    IndicatorValue,
    InputSpec,
    MatrixValue,
    OutputDef,
    Policy,
    Requirement,
    TableValue,
    TestCase,
    UnitRule,
    ValueBase,
    ValueDef,
    WeightedValue,
)
from engine.policy.source import SourceMap
from engine.policy.types import ANY, Type

__all__ = [
    "CheckedPolicy",
    "ComputedValue",
    "IndicatorValue",
    "MatrixValue",
    "TableValue",
    "ValueBase",
    "ValueDef",
    "WeightedValue",
    "check",
    "freeze",
]

Key = tuple[str | None, str]


@dataclass(frozen=True, eq=False)
class CheckedPolicy:
    """A policy the checks have passed over: every name resolved, every formula typed, each
    value's interval and size attached. Immutable; built only by `check` / `freeze`."""

    id: str
    title: str
    version: str
    description: str
    legal_basis: list[str]  # a list, as the API has always given it (read it, do not change it)
    berlaku_mulai: str | None
    berlaku_sampai: str | None
    chain: list[str]
    file: str
    hash: str
    sources: SourceMap
    inputs: Mapping[str, InputSpec]
    values: Mapping[Key, ValueDef]
    outputs: Mapping[str, OutputDef]
    tests: tuple[TestCase, ...]
    data: dict[str, Any]
    unit_rules: Mapping[str, UnitRule]
    requirements: Mapping[str, Requirement]
    constants: Mapping[str, Fraction]  # values whose formula is a plain number (usable in table cells)
    formula_types: Mapping[tuple[Any, ...], Type]  # formula path -> type
    analysed: bool  # intervals and sizes are attached (the names and types were sound)

    def value(self, name: str, scope: str | None = None) -> ValueDef | None:
        return self.values.get((scope, name))

    def type_of(self, formula: Formula | None) -> Type:
        """The type the checks found for a formula (ANY when it did not parse)."""
        if formula is None:
            return ANY
        return self.formula_types.get(formula.path, ANY)


def check(policy: Policy, out: Diagnostics, run: bool = True) -> CheckedPolicy:
    """Run every check pass on `policy` (unless `run` is False: a document whose YAML or schema
    is broken, where the passes would only echo) and freeze what they found."""
    analyses = checks.run(policy, out) if run else None
    return freeze(policy, analyses)


def freeze(policy: Policy, analyses: checks.Analyses | None) -> CheckedPolicy:
    from engine.policy.ranges import constants

    values: dict[Key, ValueDef] = {}
    for key, d in policy.values.items():
        if analyses is not None:
            interval = analyses.ranges.value(key) if analyses.ranges is not None else None
            size = analyses.bounds.value(key) if analyses.bounds is not None else None
            d = dataclasses.replace(d, type=analyses.types.types.get(key), interval=interval, size=size)
        values[key] = d
    outputs: dict[str, OutputDef] = {}
    for name, o in policy.outputs.items():
        if analyses is not None:
            from engine.policy.names import Context

            interval = None
            if analyses.ranges is not None and o.value is not None:
                interval = analyses.ranges.formula(o.value, Context())
            o = dataclasses.replace(
                o, type=analyses.types.formula_types.get(o.value.path) if o.value else None, interval=interval
            )
        outputs[name] = o
    return CheckedPolicy(
        id=policy.id,
        title=policy.title,
        version=policy.version,
        description=policy.description,
        legal_basis=list(policy.legal_basis),
        berlaku_mulai=policy.berlaku_mulai,
        berlaku_sampai=policy.berlaku_sampai,
        chain=list(policy.chain),
        file=policy.file,
        hash=policy.hash,
        sources=policy.sources,
        inputs=MappingProxyType(dict(policy.inputs)),
        values=MappingProxyType(values),
        outputs=MappingProxyType(outputs),
        tests=tuple(policy.tests),
        data=policy.data,
        unit_rules=MappingProxyType(dict(policy.unit_rules)),
        requirements=MappingProxyType(dict(policy.requirements)),
        constants=MappingProxyType(constants(policy)),
        formula_types=MappingProxyType(dict(analyses.types.formula_types) if analyses is not None else {}),
        analysed=analyses is not None and analyses.ranges is not None,
    )
