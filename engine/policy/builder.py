"""Merged policy data -> the policy model (engine.policy.model), every formula and cell parsed and
located. Building never raises for a mistake in the policy: each problem becomes a located
diagnostic and the faulty part is left out (its formula is None), so one run reports every mistake.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from engine.diagnostics import Diagnostics, Position
from engine.i18n import _
from engine.language import nodes as n
from engine.language.parser import FormulaError, parse_cell, parse_formula
from engine.numbers import RoundingMode
from engine.policy.document import PolicyDocument
from engine.policy.model import (
    DEFAULT_ROUNDING,
    ComputedValue,
    Formula,
    IndicatorValue,
    InputSpec,
    Matrix,
    MatrixValue,
    OutputDef,
    Policy,
    Requirement,
    Row,
    ShareCondition,
    Table,
    TableValue,
    TestCase,
    UnitRule,
    ValueDef,
    Weighted,
    WeightedValue,
)


def build(doc: PolicyDocument, diagnostics: Diagnostics) -> Policy:
    builder = _Builder(doc, diagnostics)
    return builder.build()


class _Builder:
    def __init__(self, doc: PolicyDocument, diagnostics: Diagnostics):
        self.doc = doc
        self.sources = doc.sources
        self.diagnostics = diagnostics

    def pos(self, path: tuple[Any, ...]) -> Position:
        return self.sources.position(path, self.doc.file)

    def formula(self, text: object, path: tuple[Any, ...]) -> Formula | None:
        if isinstance(text, (Fraction, bool)):
            text = str(text).lower() if isinstance(text, bool) else _fraction_text(text)
        if not isinstance(text, str):
            return None
        position = self.pos(path)
        try:
            node = parse_formula(text)
        except FormulaError as error:
            origin = self.sources.origin(path)
            at = origin.locate(error.line, error.column) if origin else position
            self.diagnostics.add(at, error.code, error.message, error.hint)
            node = None
        return Formula(text, node, path, position)

    def cell(self, value: object, path: tuple[Any, ...]) -> n.Cell | None:
        loc = n.Loc(1, 1)
        if isinstance(value, bool):
            return n.LiteralsCell((value,), loc)
        if isinstance(value, Fraction):
            return n.LiteralsCell((value,), loc)
        if not isinstance(value, str):
            self.diagnostics.add(self.pos(path), "table.cell", _("a cell must be text, a number or true/false"))
            return None
        try:
            return parse_cell(value)
        except FormulaError as error:
            origin = self.sources.origin(path)
            at = origin.locate(error.line, error.column) if origin else self.pos(path)
            hint = error.hint or _(
                "a cell is '-', a comparison such as '>= 91', an interval such as '[76, 91)', or values"
            )
            self.diagnostics.add(at, "table.cell", _("cannot read this cell: {reason}", reason=error.message), hint)
            return None

    def build(self) -> Policy:
        data = self.doc.data
        inputs = {
            name: self.input(name, spec, ("inputs", name))
            for name, spec in _mapping(data.get("inputs")).items()
            if isinstance(spec, dict)
        }
        values: dict[tuple[str | None, str], ValueDef] = {}
        for scope, defs in _mapping(data.get("item_values")).items():
            for name, spec in _mapping(defs).items():
                self.value(name, spec, ("item_values", scope, name), scope, values)
        for name, spec in _mapping(data.get("values")).items():
            self.value(name, spec, ("values", name), None, values)
        outputs = {}
        for name, spec in _mapping(data.get("outputs")).items():
            outputs[name] = self.output(name, spec if isinstance(spec, dict) else {}, ("outputs", name))
        tests = [self.test(t, ("tests", i)) for i, t in enumerate(data.get("tests") or []) if isinstance(t, dict)]
        unit_rules = {
            name: self.unit_rule(name, spec, ("unit_rules", name))
            for name, spec in _mapping(data.get("unit_rules")).items()
            if isinstance(spec, dict)
        }
        requirements = {
            name: Requirement(
                name,
                self.formula(spec.get("rule"), ("requirements", name, "rule")),
                str(spec.get("message", "")),
                str(spec.get("path", "")),
                spec.get("for_each") if isinstance(spec.get("for_each"), str) else None,
                str(spec.get("basis", "")),
                self.pos(("requirements", name, "")),
            )
            for name, spec in _mapping(data.get("requirements")).items()
            if isinstance(spec, dict)
        }
        return Policy(
            id=str(data.get("id", "")),
            title=str(data.get("title", "")),
            version=str(data.get("version", "")),
            description=str(data.get("description", "")),
            legal_basis=list(data.get("legal_basis") or []),
            berlaku_mulai=data.get("berlaku_mulai"),
            berlaku_sampai=data.get("berlaku_sampai"),
            chain=self.doc.chain,
            file=self.doc.file,
            hash=self.doc.hash,
            sources=self.sources,
            inputs=inputs,
            values=values,
            outputs=outputs,
            tests=tests,
            data=data,
            unit_rules=unit_rules,
            requirements=requirements,
        )

    def input(self, name: str, spec: dict[Any, Any], path: tuple[Any, ...]) -> InputSpec:
        def number(key: str) -> Fraction | None:
            value = spec.get(key)
            return value if isinstance(value, Fraction) else None

        result = InputSpec(
            name=name,
            type=str(spec.get("type")),
            path=path,
            position=self.pos(path),
            label=str(spec.get("label", "")),
            description=str(spec.get("description", "")),
            required=bool(spec.get("required", "default" not in spec)) and "default" not in spec,
            default=spec.get("default"),
            has_default="default" in spec,
            null=str(spec.get("null", "reject")),
            minimum=number("minimum"),
            maximum=number("maximum"),
            exclusive_minimum=number("exclusive_minimum"),
            exclusive_maximum=number("exclusive_maximum"),
            enum=tuple(spec["enum"]) if isinstance(spec.get("enum"), list) else None,
            min_items=int(spec["min_items"]) if isinstance(spec.get("min_items"), Fraction) else None,
            max_items=int(spec["max_items"]) if isinstance(spec.get("max_items"), Fraction) else None,
        )
        if isinstance(spec.get("items"), dict):
            result.items = self.input(name, spec["items"], path + ("items",))
        for field_name, field_spec in _mapping(spec.get("fields")).items():
            if isinstance(field_spec, dict):
                result.fields[field_name] = self.input(field_name, field_spec, path + ("fields", field_name))
        return result

    def value(
        self,
        name: str,
        spec: object,
        path: tuple[Any, ...],
        scope: str | None,
        values: dict[tuple[str | None, str], ValueDef],
    ) -> None:
        position = self.pos(path + ("",))
        if (scope, name) in values:
            self.diagnostics.add(position, "name.duplicate", _("'{name}' is defined twice", name=name))
            return
        common: dict[str, Any] = {"name": name, "path": path, "position": position, "scope": scope}
        definition: ValueDef
        if isinstance(spec, (str, Fraction, bool)):  # a formula, or a constant written as a number
            values[(scope, name)] = ComputedValue(**common)  # its place in the order, before it parses
            values[(scope, name)] = ComputedValue(**common, formula=self.formula(spec, path))
            return
        if not isinstance(spec, dict):
            values[(scope, name)] = ComputedValue(**common)
            return
        common.update(
            label=str(spec.get("label", "")),
            description=str(spec.get("description", "")),
            basis=str(spec.get("basis", "")),
            range=_range(spec.get("range")),
        )
        values[(scope, name)] = ComputedValue(**common)  # holds its place in the order
        if "formula" in spec:
            definition = ComputedValue(**common, formula=self.formula(spec["formula"], path + ("formula",)))
        elif isinstance(spec.get("table"), dict):
            definition = TableValue(**common, table=self.table(spec["table"], path + ("table",)))
        elif isinstance(spec.get("matrix"), dict):
            definition = MatrixValue(**common, matrix=self.matrix(spec["matrix"], path + ("matrix",)))
        elif isinstance(spec.get("weighted"), dict):
            definition = WeightedValue(
                **common, weighted=self.weighted(name, spec["weighted"], path + ("weighted",), scope, values)
            )
        else:
            definition = ComputedValue(**common)
        values[(scope, name)] = definition

    def table(self, spec: dict[str, Any], path: tuple[Any, ...]) -> Table:
        on = spec.get("on")
        columns = on if isinstance(on, list) else [on]
        on_formulas = [
            self.formula(text, path + ("on", i) if isinstance(on, list) else path + ("on",))
            for i, text in enumerate(columns)
        ]
        rows = []
        for i, row in enumerate(spec.get("rows") or []):
            if not isinstance(row, dict):
                continue
            row_path = path + ("rows", i)
            when = row.get("when")
            cells_in = when if isinstance(when, list) else [when]
            if len(cells_in) != len(columns):
                self.diagnostics.add(
                    self.pos(row_path + ("when",)),
                    "table.columns",
                    _(
                        "row {row} has {cells} cells but the table has {columns} columns",
                        row=i + 1,
                        cells=len(cells_in),
                        columns=len(columns),
                    ),
                )
            cells = tuple(
                self.cell(c, row_path + ("when", j) if isinstance(when, list) else row_path + ("when",))
                for j, c in enumerate(cells_in)
            )
            then = self.formula(row["formula"], row_path + ("formula",)) if "formula" in row else row.get("then")
            rows.append(Row(cells, then, str(row.get("basis", "")), row_path, self.pos(row_path)))
        return Table(
            tuple(f for f in on_formulas if f is not None) if all(on_formulas) else tuple(on_formulas),
            str(spec.get("hit")),
            tuple(rows),
        )

    def matrix(self, spec: dict[str, Any], path: tuple[Any, ...]) -> Matrix:
        cells: dict[tuple[Any, Any], object] = {}
        positions: dict[tuple[Any, Any], Position] = {}
        row_keys: list[Any] = []
        column_keys: list[Any] = []
        for row_key, row in _mapping(spec.get("cells")).items():
            row_keys.append(row_key)
            for column_key, value in _mapping(row).items():
                if column_key not in column_keys:
                    column_keys.append(column_key)
                cells[(row_key, column_key)] = value
                positions[(row_key, column_key)] = self.pos(path + ("cells", row_key, column_key))
        return Matrix(
            self.formula(spec.get("rows"), path + ("rows",)),
            self.formula(spec.get("columns"), path + ("columns",)),
            MappingProxyType(cells),
            MappingProxyType(positions),
            tuple(row_keys),
            tuple(column_keys),
        )

    def weighted(
        self,
        name: str,
        spec: dict[str, Any],
        path: tuple[Any, ...],
        scope: str | None,
        values: dict[tuple[str | None, str], ValueDef],
    ) -> Weighted:
        indicators = []
        for ind_name, ind in _mapping(spec.get("indicators")).items():
            if not isinstance(ind, dict):
                continue
            ind_path = path + ("indicators", ind_name)
            position = self.pos(ind_path + ("",))
            weight = ind.get("weight") if isinstance(ind.get("weight"), Fraction) else None
            applies = self.formula(ind["applies_when"], ind_path + ("applies_when",)) if "applies_when" in ind else None
            definition = IndicatorValue(
                name=ind_name,
                path=ind_path,
                position=position,
                scope=scope,
                label=str(ind.get("label", "")),
                description=str(ind.get("description", "")),
                basis=str(ind.get("basis", "")),
                range=_range(ind.get("range")),
                parent=name,
                formula=self.formula(ind.get("formula"), ind_path + ("formula",)),
                weight=weight,
                applies_when=applies,
            )
            if (scope, ind_name) in values:
                self.diagnostics.add(
                    definition.position, "name.duplicate", _("'{name}' is defined twice", name=ind_name)
                )
                continue
            values[(scope, ind_name)] = definition
            indicators.append(ind_name)
        weights: dict[Any, Mapping[str, Fraction]] = {}
        positions: dict[Any, Position] = {}
        if spec.get("weights") is not None:
            for key, weight_set in _mapping(spec.get("weights")).items():
                weights[key] = MappingProxyType(
                    {k: v for k, v in _mapping(weight_set).items() if isinstance(v, Fraction)}
                )
                # a weight set's mistake is shown where it was last changed: in a child policy
                # that changes one weight, at that weight rather than in the parent's file
                positions[key] = self._latest(
                    self.pos(path + ("weights", key, "")), [self.pos(path + ("weights", key, k)) for k in weights[key]]
                )
        else:
            ind_specs = _mapping(spec.get("indicators"))
            weights["default"] = MappingProxyType(
                {k: ind_specs[k]["weight"] for k in indicators if isinstance(ind_specs[k].get("weight"), Fraction)}
            )
            positions["default"] = self._latest(
                self.pos(path + ("indicators", "")),
                [self.pos(path + ("indicators", k, "weight")) for k in weights["default"]],
            )
        by = self.formula(spec["by"], path + ("by",)) if "by" in spec else None
        total = spec.get("total")
        return Weighted(
            total if isinstance(total, Fraction) else Fraction(100),
            str(spec.get("not_applicable")),
            by,
            tuple(indicators),
            MappingProxyType(weights),
            MappingProxyType(positions),
        )

    def _latest(self, where: Position, entries: list[Position]) -> Position:
        """Where to show a mistake in a weight set: the set itself, unless the set comes from a
        parent policy and this policy changed some of its weights; then at the first change."""
        if where.file == self.doc.file:
            return where
        own = [p for p in entries if p.file == self.doc.file]
        return own[0] if own else where

    def output(self, name: str, spec: dict[Any, Any], path: tuple[Any, ...]) -> OutputDef:
        value_text = spec.get("value", name)
        rounding: dict[str, Any] = spec["round"] if isinstance(spec.get("round"), dict) else {}
        places = rounding.get("places", DEFAULT_ROUNDING[0])
        labels = spec.get("labels")
        return OutputDef(
            name=name,
            value=self.formula(value_text, path + ("value",) if "value" in spec else path),
            path=path,
            position=self.pos(path + ("",)),
            label=str(spec.get("label", "")),
            description=str(spec.get("description", "")),
            places=int(places) if isinstance(places, Fraction) else DEFAULT_ROUNDING[0],
            mode=RoundingMode(rounding.get("mode", DEFAULT_ROUNDING[1].value)),
            when=self.formula(spec["when"], path + ("when",)) if "when" in spec else None,
            range=_range(spec.get("range")),
            labels=tuple(labels) if isinstance(labels, list) else None,
        )

    def unit_rule(self, name: str, spec: dict[Any, Any], path: tuple[Any, ...]) -> UnitRule:
        cases: dict[str, list[ShareCondition]] = {}
        for case, conditions in _mapping(spec.get("cases")).items():
            cases[str(case)] = []
            for i, condition in enumerate(conditions if isinstance(conditions, list) else []):
                if not isinstance(condition, dict):
                    continue
                for bound in ("at_most", "at_least", "at_most_count", "at_least_count"):
                    if isinstance(condition.get(bound), Fraction):
                        cases[str(case)].append(
                            ShareCondition(
                                tuple(condition.get("labels") or ()),
                                bound,
                                condition[bound],
                                str(condition.get("basis", "")),
                                self.pos(path + ("cases", case, i)),
                            )
                        )
                        break
        small = _mapping(spec.get("small_units"))
        below = small.get("fewer_than")
        return UnitRule(
            name,
            str(spec.get("counts", "")),
            str(spec.get("by", "")),
            cases,
            int(below) if isinstance(below, Fraction) else None,
            str(spec.get("label", "")),
            str(spec.get("basis", "")),
            self.pos(path + ("",)),
            path,
        )

    def test(self, spec: dict[Any, Any], path: tuple[Any, ...]) -> TestCase:
        return TestCase(
            str(spec.get("name", f"case {path[-1] + 1}")),
            spec.get("record") or {},
            _mapping(spec.get("expect")),
            _mapping(spec.get("expect_values")),
            list(spec.get("expect_errors") or []),
            self.pos(path),
            path,
            [str(x) for x in spec.get("expect_absent") or []],
        )


def _mapping(value: object) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _range(value: object) -> tuple[Fraction | None, Fraction | None] | None:
    if isinstance(value, list) and len(value) == 2:
        return (
            value[0] if isinstance(value[0], Fraction) else None,
            value[1] if isinstance(value[1], Fraction) else None,
        )
    return None


def _fraction_text(value: Fraction) -> str:
    from engine.numbers import exact_text

    return exact_text(value)
