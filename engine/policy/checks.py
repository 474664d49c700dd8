"""Static checks on a policy model: a list of small named passes (after OPA's compiler stages).

Each pass takes the policy and a Diagnostics collector and adds located, coded diagnostics.
`run` runs them all; the loader runs it on every load, so a policy with an error never
compiles.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from engine.diagnostics import Diagnostics, Position, Severity
from engine.i18n import N_, _
from engine.language import nodes as n
from engine.language.parser import KEYWORDS
from engine.policy import intervals as iv
from engine.policy.bounds import BoundAnalysis, check_bounds
from engine.policy.functions import AGGREGATES, FUNCTIONS
from engine.policy.model import Formula, IndicatorValue, MatrixValue, Policy, TableValue, WeightedValue, formulas_of
from engine.policy.names import Context, references, resolve, visible_names
from engine.policy.ranges import RangeAnalysis
from engine.policy.suggest import index_for
from engine.policy.tablechecks import _bounds, check_matrices, check_tables
from engine.policy.typecheck import TypeChecker
from engine.policy.types import BOOLEAN

Key = tuple[str | None, str]  # (scope, name) of a value


def formulas(policy: Policy) -> Iterator[tuple[Formula, Context]]:
    """Every formula of a policy with the context it is evaluated in."""
    for definition in policy.values.values():
        context = Context(definition.scope)
        yield from ((f, context) for f in formulas_of(definition))
    for output in policy.outputs.values():
        if output.value is not None:
            yield output.value, Context()
        if output.when is not None:
            yield output.when, Context()
    for requirement in policy.requirements.values():
        if requirement.rule is not None:
            yield requirement.rule, Context(requirement.for_each)


def check_names(policy: Policy, out: Diagnostics) -> None:
    """Unknown names (with 'did you mean'), unknown functions, names defined twice or reserved."""
    for name in policy.inputs:
        if (None, name) in policy.values:
            out.add(
                policy.values[(None, name)].position,
                "name.duplicate",
                _("'{name}' is both an input and a value", name=name),
            )
    for requirement in policy.requirements.values():
        if requirement.for_each is not None and (
            requirement.for_each not in policy.inputs or policy.inputs[requirement.for_each].type != "list"
        ):
            out.add(
                requirement.position,
                "requirement.for_each",
                _(
                    "requirement '{name}' is checked for each item of '{list}', which is not a list input",
                    name=requirement.name,
                    list=requirement.for_each,
                ),
            )
    for (scope, name), definition in policy.values.items():
        if name in KEYWORDS or name in FUNCTIONS:
            out.add(
                definition.position,
                "name.reserved",
                _("'{name}' is a reserved word", name=name),
                _("choose another name"),
            )
        if scope is not None:
            if scope not in policy.inputs or policy.inputs[scope].type != "list":
                out.add(
                    definition.position,
                    "name.unknown_list",
                    _("item values need a list input named '{list}'", list=scope),
                )
            elif (item := policy.inputs[scope].items) is not None and name in item.fields:
                out.add(
                    definition.position,
                    "name.duplicate",
                    _("'{name}' is already a field of each {list} item", name=name, list=scope),
                )
    for formula, context in formulas(policy):
        if formula.node is not None:
            _names_in(policy, formula, formula.node, context, out)


#: What to write instead of a spreadsheet function (authors know Excel; PRODUCT.md, users).
_EXCEL = {
    "IF": N_("write: if condition then a else b"),
    "AVERAGE": N_("write: mean(k.nilai for k in kegiatan)"),
    "RATA": N_("write: mean(k.nilai for k in kegiatan)"),
    "COUNTIF": N_("write: count(r for r in rhk if r.capaian < 100)"),
    "SUMIF": N_("write: sum(r.nilai for r in rhk if ...)"),
    "SUM": N_("write: sum(k.nilai for k in kegiatan) or a + b"),
    "AND": N_("write: a and b"),
    "OR": N_("write: a or b"),
    "NOT": N_("write: not a"),
    "ROUND": N_('write: round(x, 2) (half up), or round(x, 2, "half_even")'),
    "ROUNDDOWN": N_('write: round(x, 2, "down")'),
    "ROUNDUP": N_('write: round(x, 2, "up")'),
    "MIN": N_("write: min(a, b) (lower case)"),
    "MAX": N_("write: max(a, b) (lower case)"),
}


def _names_in(policy: Policy, formula: Formula, node: n.Expr, context: Context, out: Diagnostics) -> None:
    match node:
        case n.Name(id=name):
            if resolve(policy, context, name) is None:
                close = _closest_name(policy, context, name)
                out.add(
                    formula.locate(policy.sources, node.loc),
                    "name.unknown",
                    _("unknown name '{name}'", name=name),
                    _("did you mean '{close}'?", close=close) if close else _("define it under inputs or values"),
                )
            return
        case n.Call(function=function, args=args):
            if function not in FUNCTIONS:
                hint = _(_EXCEL[function.upper()]) if function.upper() in _EXCEL else None
                if hint is None:
                    closest = difflib.get_close_matches(function.lower(), list(FUNCTIONS), n=1)
                    hint = (
                        _("did you mean '{close}'?", close=closest[0])
                        if closest
                        else _("functions: {names}", names=", ".join(sorted(FUNCTIONS)))
                    )
                out.add(
                    formula.locate(policy.sources, node.loc),
                    "function.unknown",
                    _("unknown function '{name}'", name=function),
                    hint,
                )
            for arg in args:
                _names_in(policy, formula, arg, context, out)
            return
        case n.Aggregate(function=function, element=element, var=var, source=source, filter=condition):
            if function not in AGGREGATES:
                out.add(
                    formula.locate(policy.sources, node.loc),
                    "syntax.aggregate",
                    _("'{name}(... for ... in ...)' is not an aggregate", name=function),
                    _("aggregates are {names}", names=", ".join(sorted(AGGREGATES))),
                )
            _names_in(policy, formula, source, context, out)
            inner = context.bind(var, ("item_of", source))
            _names_in(policy, formula, element, inner, out)
            if condition is not None:
                _names_in(policy, formula, condition, inner, out)
            return
    for child in n.children(node):
        _names_in(policy, formula, child, context, out)


def _closest_name(policy: Policy, context: Context, name: str) -> str | None:
    """'Did you mean' through an index of the scope's names (engine.policy.suggest): linear, not quadratic."""
    index = index_for(policy, (context.scope,), lambda: visible_names(policy, Context(context.scope)))
    return index.closest(name, tuple(bound for bound, _ in context.locals))


def dependencies(policy: Policy) -> dict[Key, set[Key]]:
    """Value key -> the value keys its formulas read."""
    graph: dict[Key, set[Key]] = {key: set() for key in policy.values}
    for key, definition in policy.values.items():
        context = Context(definition.scope)
        parts = formulas_of(definition)
        match definition:
            case TableValue(table=table):
                graph[key] |= {
                    (None, bound.name)
                    for row in table.rows
                    for cell in row.cells
                    for bound in _bounds(cell)
                    if bound.name is not None
                }
            case WeightedValue(weighted=weighted):
                graph[key] |= {(definition.scope, name) for name in weighted.indicators}
        for formula in parts:
            if formula is not None and formula.node is not None:
                for ref, _ in references(policy, context, formula.node):
                    if ref.kind == "value":
                        graph[key].add((None, ref.name))
                    elif ref.kind == "item_value":
                        graph[key].add((ref.scope, ref.name))
    return graph


def check_cycles(policy: Policy, out: Diagnostics, graph: dict[Key, set[Key]] | None = None) -> None:
    """Values that depend on themselves, reported once per cycle. `graph`: the dependencies, when
    the caller has them already (run computes them once for this pass and check_unused)."""
    graph = dependencies(policy) if graph is None else graph
    index: dict[Key, int] = {}
    low: dict[Key, int] = {}
    stack: list[Key] = []
    on_stack: set[Key] = set()
    counter = itertools.count()

    def strongconnect(root: tuple[Any, ...]) -> None:
        work = [(root, iter(sorted(graph.get(root, ()), key=str)))]
        index[root] = low[root] = next(counter)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in graph:
                    continue
                if succ not in index:
                    index[succ] = low[succ] = next(counter)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph.get(succ, ()), key=str))))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    _report_cycle(policy, sorted(component, key=lambda k: policy.values[k].position), graph, out)

    for key in sorted(graph, key=str):
        if key not in index:
            strongconnect(key)


def _report_cycle(policy: Policy, component: list[Key], graph: dict[Key, set[Key]], out: Diagnostics) -> None:
    members = set(component)
    start = component[0]
    path, current = [start], start
    while True:
        nxt = min((s for s in graph[current] if s in members), key=lambda k: policy.values[k].position)
        if nxt == start or nxt in path:
            path.append(nxt)
            break
        path.append(nxt)
        current = nxt
    names = " -> ".join(k[1] for k in path)
    out.add(
        policy.values[start].position,
        "cycle",
        _("values depend on themselves: {names}", names=names),
        _("a value cannot be computed from its own result; break the loop"),
    )


def check_types(policy: Policy, out: Diagnostics) -> TypeChecker:
    checker = TypeChecker(policy, out)
    for key in policy.values:
        checker.value_type(key)
    for output in policy.outputs.values():
        result = checker.formula(output.value, Context())
        if result.kind in ("list", "record", "number_or_range"):
            out.add(
                output.position,
                "output.type",
                _("output '{name}' is {type}; outputs are numbers, text or true/false", name=output.name, type=result),
            )
        if output.when is not None:
            checker.expect(
                checker.formula(output.when, Context()),
                BOOLEAN,
                output.when,
                output.when.node,
                _("'when' must be true or false"),
            )
    for requirement in policy.requirements.values():
        if requirement.rule is not None:
            checker.expect(
                checker.formula(requirement.rule, Context(requirement.for_each)),
                BOOLEAN,
                requirement.rule,
                requirement.rule.node,
                _("a requirement's rule must be true or false"),
            )
    return checker


def check_weights(policy: Policy, out: Diagnostics) -> None:
    """Every weight set adds up to the declared total and names only known indicators."""
    for definition in policy.values.values():
        if not isinstance(definition, WeightedValue):
            continue
        weighted = definition.weighted
        known = set(weighted.indicators)
        for key, weights in weighted.weights.items():
            position = weighted.weight_positions.get(key, definition.position)
            for name in weights:
                if name not in known:
                    close = difflib.get_close_matches(name, sorted(known), n=1)
                    out.add(
                        position,
                        "weights.unknown_indicator",
                        _("weight for unknown indicator '{name}'", name=name),
                        _("did you mean '{close}'?", close=close[0])
                        if close
                        else _("indicators: {names}", names=", ".join(sorted(known))),
                    )
            total = sum(weights.values(), Fraction(0))
            if total != weighted.total:
                which = _(" for '{key}'", key=key) if len(weighted.weights) > 1 or key != "default" else ""
                parts = ", ".join(f"{name} {_num(weight)}" for name, weight in weights.items())
                out.add(
                    position,
                    "weights.sum",
                    _(
                        "the weights of '{name}'{which} add up to {total} ({parts}), not {wanted}",
                        name=definition.name,
                        which=which,
                        total=_num(total),
                        parts=parts,
                        wanted=_num(weighted.total),
                    ),
                    _("change a weight so they add up, or change 'total'"),
                )
        if not weighted.weights.get("default") and weighted.by is None:
            out.add(
                definition.position,
                "weights.missing",
                _("'{name}' gives no weights", name=definition.name),
                _("give each indicator a weight"),
            )


def check_ranges(policy: Policy, out: Diagnostics, checker: TypeChecker, ranges: RangeAnalysis) -> None:
    """Values and outputs that can leave their declared range; labels no input can reach."""
    for d in policy.values.values():
        if d.range is None:
            continue
        if isinstance(d, WeightedValue) and _check_indicators(policy, d, ranges, out):
            continue
        _check_range(d.name, ranges.value(d.key), d.range, d.position, out)
    for output in policy.outputs.values():
        if output.value is None or output.value.node is None:
            continue
        if output.range is not None:
            _check_range(output.name, ranges.formula(output.value, Context()), output.range, output.position, out)
        if output.labels is not None:
            produced = _labels(policy, output.value, ranges)
            if produced is None:
                continue
            for label in output.labels:
                if label not in produced:
                    out.add(
                        output.position,
                        "range.unreachable_label",
                        _("no input can give '{name}' the value '{label}'", name=output.name, label=label),
                        _("check the rows or cells that should produce it"),
                    )
            for label in produced:
                if label not in output.labels:
                    out.add(
                        output.position,
                        "range.undeclared_label",
                        _("'{name}' can be '{label}', which its labels do not list", name=output.name, label=label),
                        _("add it to labels"),
                    )


def _check_indicators(policy: Policy, d: WeightedValue, ranges: RangeAnalysis, out: Diagnostics) -> bool:
    """A weighted value leaves its range because an indicator does: report at that indicator."""
    assert d.range is not None  # the caller checks a weighted value that declares a range
    wanted = iv.Interval(d.range[0], d.range[1])
    found = False
    for name in d.weighted.indicators:
        indicator = policy.values[(d.scope, name)]
        actual = ranges.value(indicator.key)
        if actual is not None and not actual.within(wanted):
            found = True
            out.add(
                indicator.position,
                "range.exceeds",
                _(
                    "indicator '{name}' can take values in {actual}, outside the declared range {wanted} of '{value}'",
                    name=name,
                    actual=actual,
                    wanted=wanted,
                    value=d.name,
                ),
                _("limit the indicator's formula, for example min(..., {high})", high=_num(d.range[1]))
                if d.range[1] is not None
                else _("limit the indicator's formula"),
            )
    return found


def _check_range(
    name: str, actual: iv.Interval | None, declared: tuple[Any, ...], position: Position, out: Diagnostics
) -> None:
    if actual is None:
        return
    wanted = iv.Interval(declared[0], declared[1])
    if not actual.within(wanted):
        out.add(
            position,
            "range.exceeds",
            _(
                "'{name}' can take values in {actual}, outside its declared range {wanted}",
                name=name,
                actual=actual,
                wanted=wanted,
            ),
            _(
                "limit it, for example clamp(..., {low}, {high})",
                low=_num(declared[0]) if declared[0] is not None else "...",
                high=_num(declared[1]) if declared[1] is not None else "...",
            ),
        )


def _labels(policy: Policy, formula: Formula, ranges: RangeAnalysis) -> list[Any] | None:
    """Labels a table or matrix value can produce, counting only rows that can apply."""
    if not isinstance(formula.node, n.Name):
        return None
    d = policy.values.get((None, formula.node.id))
    if d is None:
        return None
    if isinstance(d, TableValue):
        produced = []
        for row, narrowed in ranges.rows(d, Context(d.scope)):
            if narrowed is not False and isinstance(row.then, str):
                produced.append(row.then)
        return list(dict.fromkeys(produced))
    if isinstance(d, MatrixValue):
        return list(dict.fromkeys(v for v in d.matrix.cells.values() if isinstance(v, str)))
    return None


def check_unit_rules(policy: Policy, out: Diagnostics) -> None:
    """A unit rule counts an output that exists, and labels that output can take."""
    for rule in policy.unit_rules.values():
        output = policy.outputs.get(rule.counts)
        if output is None:
            close = difflib.get_close_matches(rule.counts, list(policy.outputs), n=1)
            out.add(
                rule.position,
                "unit_rule.unknown_output",
                _("unit rule '{name}' counts '{output}', which is not an output", name=rule.name, output=rule.counts),
                _("did you mean '{close}'?", close=close[0]) if close else "",
            )
            continue
        if output.labels is None:
            out.add(
                rule.position,
                "unit_rule.labels",
                _("output '{output}' needs `labels` for unit rules to count them", output=rule.counts),
            )
            continue
        for conditions in rule.cases.values():
            for condition in conditions:
                for label in condition.labels:
                    if label not in output.labels:
                        close = difflib.get_close_matches(str(label), [str(x) for x in output.labels], n=1)
                        out.add(
                            condition.position,
                            "unit_rule.unknown_label",
                            _("'{label}' is not a label of '{output}'", label=label, output=rule.counts),
                            _("did you mean '{close}'?", close=close[0])
                            if close
                            else _("labels: {labels}", labels=", ".join(map(str, output.labels))),
                        )


def check_tests(policy: Policy, out: Diagnostics) -> None:
    for case in policy.tests:
        for key in list(case.expect) + case.expect_absent:
            if key not in policy.outputs:
                out.add(
                    policy.sources.position(case.path + ("expect", key, ""), policy.file),
                    "test.unknown_output",
                    _(
                        "test '{name}' expects output '{output}', which the policy does not have",
                        name=case.name,
                        output=key,
                    ),
                )


def check_unused(policy: Policy, out: Diagnostics, graph: dict[Key, set[Key]] | None = None) -> None:
    """Values no output depends on: dead rules a reviewer would otherwise have to read."""
    graph = dependencies(policy) if graph is None else graph
    used: set[Key] = set()
    todo = []
    roots = [(f, Context()) for o in policy.outputs.values() for f in (o.value, o.when)]
    roots += [(r.rule, Context(r.for_each)) for r in policy.requirements.values()]
    for formula, context in roots:
        if formula is not None and formula.node is not None:
            todo += [
                (r.scope if r.kind == "item_value" else None, r.name)
                for r, _ in references(policy, context, formula.node)
                if r.kind in ("value", "item_value")
            ]
    while todo:
        key = todo.pop()
        if key in used:
            continue
        used.add(key)
        todo.extend(graph.get(key, ()))
    for key, d in policy.values.items():
        if key not in used and not isinstance(d, IndicatorValue):
            out.add(
                d.position,
                "value.unused",
                _("no output uses '{name}'", name=d.name),
                _("remove it or use it in an output"),
                Severity.WARNING,
            )


#: Diagnostics after which the table, matrix and range analyses would only report echoes.
_FOUNDATIONS = ("syntax.", "name.", "function.", "type.", "cycle")


@dataclass(frozen=True)
class Analyses:
    """What the passes found besides diagnostics: the types, and (on a sound policy) each value's
    interval and size. engine.policy.checked attaches them to the CheckedPolicy."""

    types: TypeChecker
    ranges: RangeAnalysis | None
    bounds: BoundAnalysis | None


def run(policy: Policy, out: Diagnostics) -> Analyses:
    """All passes, in order. The analyses that reason about what values can be (gaps, ranges,
    reachable labels) run only on a policy whose names and types are sound: an unknown name
    makes a value 'anything', and reporting what 'anything' can reach would mislead."""
    check_names(policy, out)
    graph = dependencies(policy)
    check_cycles(policy, out, graph)
    checker = check_types(policy, out)
    check_weights(policy, out)
    from engine.policy.keychecks import check_weight_keys

    if not any(d.code.startswith(_FOUNDATIONS) for d in out.errors):
        check_weight_keys(policy, out, checker)
    from engine.policy.raters import check_rater_rule

    check_rater_rule(policy, out)
    check_unit_rules(policy, out)
    ranges: RangeAnalysis | None = None
    bounds: BoundAnalysis | None = None
    if not any(d.code.startswith(_FOUNDATIONS) for d in out.errors):
        ranges = RangeAnalysis(policy)
        check_tables(policy, out, checker, ranges)
        check_matrices(policy, out, checker)
        check_ranges(policy, out, checker, ranges)
        bounds = check_bounds(policy, out, ranges)
    check_tests(policy, out)
    if not out.errors:  # with unknown names, what counts as used is not known yet
        check_unused(policy, out, graph)
    return Analyses(checker, ranges, bounds)


def _num(value: Fraction) -> str:
    from engine.numbers import format_number

    return format_number(value)
