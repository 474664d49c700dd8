"""Decision tables and matrices, checked: every combination of a table's inputs meets exactly one
row (gaps and overlaps named by their values), and every matrix cell exists and is known.
The pass `check_names` and the dependency graph read `_bounds` from here.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from engine.diagnostics import Diagnostics
from engine.i18n import N_, _
from engine.language import nodes as n
from engine.numbers import format_number
from engine.policy import intervals as iv
from engine.policy.model import Formula, MatrixValue, Policy, TableValue
from engine.policy.names import Context, resolve
from engine.policy.ranges import RangeAnalysis, cell_interval
from engine.policy.typecheck import TypeChecker
from engine.policy.types import Type

#: Most cell combinations a table's gap and overlap analysis will enumerate.
MAX_TABLE_COMBINATIONS = 100_000


def check_tables(policy: Policy, out: Diagnostics, checker: TypeChecker, ranges: RangeAnalysis) -> None:
    """Decision tables: gaps, overlaps (hit policy unique) and rows that can never apply."""
    for definition in policy.values.values():
        if not isinstance(definition, TableValue) or any(f is None or f.node is None for f in definition.table.on):
            continue
        if any(cell is None for row in definition.table.rows for cell in row.cells):
            continue
        if any(len(row.cells) != len(definition.table.on) for row in definition.table.rows):
            continue
        for row in definition.table.rows:
            for cell in row.cells:
                for bound in _bounds(cell):
                    if bound.name is not None and bound.name not in ranges.constants:
                        out.add(
                            row.position,
                            "table.bound",
                            _("'{name}' is not a constant number", name=bound.name),
                            _("a cell bound is a number or the name of a value that is just a number"),
                        )
                        return
        _analyse_table(policy, definition, out, checker, ranges)


def _bounds(cell: n.Cell | None) -> list[n.Bound]:
    if isinstance(cell, n.CompareCell):
        return [cell.bound]
    if isinstance(cell, n.IntervalCell):
        return [cell.low, cell.high]
    return []


def _analyse_table(
    policy: Policy, d: TableValue, out: Diagnostics, checker: TypeChecker, ranges: RangeAnalysis
) -> None:
    context = Context(d.scope)
    table = d.table
    columns: list[list[Any]] = []
    for index, formula in enumerate(table.on):
        kind = checker.formula(formula, context)
        if kind.kind == "number":
            domain = ranges.formula(formula, context) or iv.EVERYTHING
            breaks = sorted({b for row in table.rows for b in _break_values(row.cells[index], ranges.constants)})
            pieces = _number_pieces(domain, breaks)
            if formula is not None and _is_integer_input(policy, formula, context):
                pieces = [p for p in pieces if _holds_integer(p)]
            columns.append(pieces)
        elif kind.kind == "boolean":
            columns.append([True, False])
        elif kind.kind == "text" and kind.values is not None:
            columns.append(list(kind.values))
        elif kind.kind == "text":
            seen = [
                v
                for row in table.rows
                for cell in [row.cells[index]]
                if isinstance(cell, n.LiteralsCell)
                for v in cell.values
            ]
            columns.append(list(dict.fromkeys(seen)) + [_OTHER])
        else:
            return
    total = 1
    for pieces in columns:
        total *= max(1, len(pieces))
    if total > MAX_TABLE_COMBINATIONS or total == 0:
        return
    first_for: set[int] = set()
    matched_any: set[int] = set()
    gaps: list[Any] = []
    overlaps: dict[Any, Any] = {}
    for combo in itertools.product(*columns):
        hits = [
            i
            for i, row in enumerate(table.rows)
            if all(_matches(cell, piece, ranges.constants) for cell, piece in zip(row.cells, combo))
        ]
        if not hits:
            gaps.append(combo)
            continue
        first_for.add(hits[0])
        matched_any.update(hits)
        if table.hit == "unique" and len(hits) > 1:
            overlaps.setdefault((hits[0], hits[1]), combo)
    names = [f.text if f is not None else "" for f in table.on]  # all there: check_tables skips a table otherwise
    if gaps:
        out.add(
            policy.sources.position(d.path + ("table", "rows", ""), policy.file),
            "table.gap",
            _("no row of '{name}' matches {values}", name=d.name, values=_describe_gaps(names, gaps)),
            _("add a row for these values, or widen a neighbouring row"),
        )
    for (a, b), combo in sorted(overlaps.items()):
        out.add(
            table.rows[b].position,
            "table.overlap",
            _(
                "rows {first} and {second} of '{name}' both match {values}",
                first=a + 1,
                second=b + 1,
                name=d.name,
                values=_describe(names, combo),
            ),
            _("with hit: unique every value must match exactly one row; fix the bounds or use hit: first"),
        )
    for i, row in enumerate(table.rows):
        if i not in matched_any:
            out.add(
                row.position,
                "table.unreachable_row",
                _(
                    "row {row} of '{name}' can never apply: no possible value of {columns} matches it",
                    row=i + 1,
                    name=d.name,
                    columns=_(" and ").join(names),
                ),
                _("check the bounds against the values the column can take"),
            )
        elif table.hit == "first" and i not in first_for:
            out.add(
                row.position,
                "table.shadowed_row",
                _("row {row} of '{name}' never applies: earlier rows match all of its values", row=i + 1, name=d.name),
                _("move it up or remove it"),
            )


def _is_integer_input(policy: Policy, formula: Formula, context: Context) -> bool:
    if isinstance(formula.node, n.Name):
        ref = resolve(policy, context, formula.node.id)
        return ref is not None and ref.spec is not None and ref.spec.type == "integer"
    return False


def _holds_integer(piece: iv.Interval) -> bool:
    """Whether a piece of a column's domain contains a whole number (integer inputs have no others)."""
    if piece.lo is None or piece.hi is None:
        return True
    first = piece.lo.numerator // piece.lo.denominator
    if first < piece.lo or (first == piece.lo and not piece.lo_closed):
        first += 1
    return piece.contains(Fraction(first))


class _Other:
    def __repr__(self) -> str:
        return _("any other text")


_OTHER = _Other()


def _break_values(cell: n.Cell | None, constants: Mapping[str, Fraction]) -> list[Fraction]:
    accepted = cell_interval(cell, constants)
    values = []
    if accepted is not None:
        values += [v for v in (accepted.lo, accepted.hi) if v is not None]
    if isinstance(cell, n.LiteralsCell):
        values += [v for v in cell.values if isinstance(v, Fraction)]
    return values


def _number_pieces(domain: iv.Interval, breaks: list[Fraction]) -> list[iv.Interval]:
    """Elementary pieces of the domain: each breakpoint alone and the open spans between them."""
    pieces, previous = [], None
    for b in breaks:
        pieces.append(
            iv.Interval(previous, b, previous is None, False)
            if previous is not None
            else iv.Interval(None, b, True, False)
        )
        pieces.append(iv.Interval.point(b))
        previous = b
    pieces.append(iv.Interval(previous, None, False, True) if previous is not None else iv.EVERYTHING)
    clipped = [iv.intersect(p, domain) for p in pieces]
    return [p for p in clipped if not p.empty]


def _matches(cell: n.Cell | None, piece: Any, constants: Mapping[str, Fraction]) -> bool:
    if isinstance(cell, n.AnyCell):
        return True
    if isinstance(piece, iv.Interval):
        accepted = cell_interval(cell, constants)
        if accepted is not None:
            return piece.within(accepted)
        if isinstance(cell, n.LiteralsCell):
            return piece.lo is not None and piece.lo == piece.hi and piece.lo in cell.values
        return False
    if isinstance(cell, n.LiteralsCell):
        return piece is not _OTHER and any(v == piece and type(v) is type(piece) for v in cell.values)
    return False


def _describe(names: list[str], combo: Any) -> str:
    return _(" and ").join(f"{name} {_piece_text(p)}" for name, p in zip(names, combo))


def _piece_text(piece: Any) -> str:
    if isinstance(piece, iv.Interval):
        if piece.lo is not None and piece.lo == piece.hi:
            return f"= {format_number(piece.lo)}"
        return _("in {interval}", interval=piece)
    if piece is _OTHER:
        return "= " + _("any other text")
    return f"= {str(piece).lower() if isinstance(piece, bool) else piece}"


def _describe_gaps(names: list[str], gaps: list[Any]) -> str:
    if len(names) == 1 and all(isinstance(g[0], iv.Interval) for g in gaps):
        merged: list[iv.Interval] = []
        for (piece,) in gaps:
            if merged and _adjacent(merged[-1], piece):
                merged[-1] = iv.hull(merged[-1], piece)
            else:
                merged.append(piece)
        return f"{names[0]} " + ", ".join(_piece_text(p) for p in merged)
    shown = "; ".join(_describe(names, g) for g in gaps[:3])
    return shown + (_(" (and {count} more)", count=len(gaps) - 3) if len(gaps) > 3 else "")


def _adjacent(a: iv.Interval, b: iv.Interval) -> bool:
    return a.hi is not None and b.lo is not None and a.hi == b.lo and (a.hi_closed or b.lo_closed)


def check_matrices(policy: Policy, out: Diagnostics, checker: TypeChecker) -> None:
    """Every combination of the row and column values has a cell; no cell key is unknown."""
    for d in policy.values.values():
        if not isinstance(d, MatrixValue):
            continue
        matrix = d.matrix
        if matrix.rows is None or matrix.columns is None:
            continue
        context = Context(d.scope)
        row_type, column_type = checker.formula(matrix.rows, context), checker.formula(matrix.columns, context)
        row_values = _domain(row_type)
        column_values = _domain(column_type)
        for label, keys, domain, formula in (
            (
                N_("the rows of '{name}' ({formula}) have no fixed set of values"),
                matrix.row_keys,
                row_values,
                matrix.rows,
            ),
            (
                N_("the columns of '{name}' ({formula}) have no fixed set of values"),
                matrix.column_keys,
                column_values,
                matrix.columns,
            ),
        ):
            if domain is None:
                out.add(
                    formula.position,
                    "matrix.open_domain",
                    _(label, name=d.name, formula=formula.text),
                    _("give the input an enum so every cell can be checked"),
                )
                continue
            for key in keys:
                if key not in domain:
                    close = difflib.get_close_matches(str(key), [str(v) for v in domain], n=1)
                    at = [p for (r, c), p in matrix.cell_positions.items() if c == key]  # the cell that names it
                    out.add(
                        policy.sources.position(d.path + ("matrix", "cells", key, ""), policy.file)
                        if label == "row" or not at
                        else min(at),
                        "matrix.unknown_key",
                        _("'{key}' is not a value of {formula}", key=key, formula=formula.text),
                        _("did you mean '{close}'?", close=close[0])
                        if close
                        else _("values: {values}", values=", ".join(map(str, domain))),
                    )
        if row_values is None or column_values is None:
            continue
        for r in row_values:
            for c in column_values:
                if (r, c) not in matrix.cells:
                    out.add(
                        policy.sources.position(d.path + ("matrix", "cells"), policy.file),
                        "matrix.missing_cell",
                        _(
                            "'{name}' has no cell for {rows} = {row} and {columns} = {column}",
                            name=d.name,
                            rows=matrix.rows.text,
                            row=r,
                            columns=matrix.columns.text,
                            column=c,
                        ),
                        _("add the cell"),
                    )


def _domain(t: Type) -> list[Any] | None:
    if t.kind == "text" and t.values is not None:
        return list(t.values)
    if t.kind == "boolean":
        return [True, False]
    return None
