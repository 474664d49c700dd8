"""Static checks on keys chosen by a value: weight sets per position must match the values the
choosing field can take, so that a record which passes input validation never fails because of
the policy ("no surprise after a silent check").

Tables and matrices keyed by an enum are checked by `checks.check_tables` (gaps, cell values
that are not values of the column) and `checks.check_matrices` (unknown keys, missing cells);
this module adds the same guarantee for `weighted.by`.
"""

from __future__ import annotations

import difflib
from typing import Any

from engine.diagnostics import Diagnostics
from engine.i18n import _
from engine.policy.model import Formula, Policy, WeightedValue
from engine.policy.names import Context
from engine.policy.typecheck import TypeChecker


def _domain(checker: TypeChecker, formula: Formula | None, context: Context) -> list[Any] | None:
    kind = checker.formula(formula, context)
    if kind.kind == "text" and kind.values is not None:
        return list(kind.values)
    if kind.kind == "boolean":
        return [True, False]
    return None


def check_weight_keys(policy: Policy, out: Diagnostics, checker: TypeChecker) -> None:
    """Keys of `weights` chosen `by` a field are values of that field; every value has weights.

    Codes: `weights.unknown_key` (a key no record can carry, with "did you mean"),
    `weights.missing_key` (a value with no weight set and no `default`), and
    `weights.open_domain` (the field has no fixed set of values and there is no `default`).
    """
    for d in policy.values.values():
        if not isinstance(d, WeightedValue):
            continue
        weighted = d.weighted
        if weighted.by is None or weighted.by.node is None:
            continue
        by = weighted.by.text
        domain = _domain(checker, weighted.by, Context(d.scope))
        has_default = "default" in weighted.weights
        if domain is None:
            if not has_default:
                out.add(
                    weighted.by.position,
                    "weights.open_domain",
                    _(
                        "the weights of '{name}' are chosen by {by}, which has no fixed set of values, "
                        "and there are no default weights",
                        name=d.name,
                        by=by,
                    ),
                    _("give the input an enum, or add 'default' weights"),
                )
            continue
        shown = [str(v) for v in domain]
        for key in weighted.weights:
            if key == "default" or key in domain:
                continue
            position = weighted.weight_positions.get(key, d.position)
            close = difflib.get_close_matches(str(key), shown, n=1)
            out.add(
                position,
                "weights.unknown_key",
                _("weights for '{key}', which is not a value of {by}", key=key, by=by),
                _("did you mean '{suggestion}'?", suggestion=close[0])
                if close
                else _("values of {by}: {values}", by=by, values=", ".join(shown)),
            )
        if has_default:
            continue
        missing = [v for v in domain if v not in weighted.weights]
        if missing:
            out.add(
                weighted.by.position,
                "weights.missing_key",
                _(
                    "'{name}' has no weights for {by} = {values} and no default weights",
                    name=d.name,
                    by=by,
                    values=", ".join(map(str, missing)),
                ),
                _("add a weight set for each of them, or 'default' weights"),
            )
