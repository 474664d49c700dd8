"""Why not better? For one record, the smallest change of a single input that reaches the next
better predikat, found by evaluating the policy itself (never by knowledge of a policy).

Readings (decisions, so a reviewer can check them):
- The predikat is the output named `predikat` when it declares `labels`, else the last output
  that declares `labels`. "Better" is the order of those `labels`, which a policy lists best
  first (docs/policy-format.md); no label is known here by name.
- The goal is any predikat at least as good as the one just above the record's own.
- Candidates are the inputs the record has: every number (top level, in nested records, in list
  items, each end of a target range), every choice (an `enum`, numeric or text) and every
  true/false. Absent optional inputs are not invented.
- Granularity: an integer input moves by 1; a number by 10^-p where p is the number of decimal
  places the record's own value of that input has, at least 2 (80 moves by 0.01, 77.4875 by
  0.0001). Every value tried lies on that grid and within the input's declared bounds; where an
  input has no bound in a direction, the search stops at SEARCH_FACTOR times the largest of the
  value, its sibling numbers (the target beside a realisasi) and 1.
- The size of a change is |new - old| / max(|old|, 1) for numbers (numeric choices too); a text
  choice counts one per step through its declared `enum` list, and flipping a true/false counts 1.
  Changes are ranked smallest first; one, the smallest, is kept per input.
- Search, per input and direction: evaluate points from near (1, 2, 4, ... steps) to far (evenly
  spaced up to the bound); add the points where a table's column value crosses one of its row
  bounds (a policy's bands are where outcomes change, including in inputs whose effect is not
  monotone, such as realisasi waktu around efficiency 24%); then bisect, exactly on the grid,
  between the last point that does not reach the goal and the first that does. The found value
  is evaluated (it reaches the goal) and so is the value one step nearer (it does not): nothing
  unverified is reported. Between two sampled points the outcome is assumed monotone; when the
  samples show it is not, the change is marked `monotone: false`, because a narrower window
  between samples that no table bound marks could in principle hold a smaller change.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from typing import cast

from engine.i18n import N_, _, decimal_mark, language, using
from engine.language import nodes as n
from engine.language.printer import path_text
from engine.numbers import MAX_MAGNITUDE, RoundingMode, format_number, round_to, to_decimal
from engine.policy.model import TableValue

#: Where an input has no declared bound, the search reaches this many times its scale.
SEARCH_FACTOR = 10
#: Evenly spaced points tried between the value and the end of its range, per direction.
EVEN_POINTS = 16
#: Most work spent on one record, in evaluations x inputs of the record (a record with many list
#: items costs more to evaluate); past it the remaining inputs are not searched.
MAX_WORK = 150_000


@dataclass
class Change:
    """One input changed, and the predikat it reaches (verified by evaluation)."""

    path: tuple  # into the record: ("kegiatan", 1, "kuantitas", "realisasi")
    old: object
    new: object
    reached: str
    size: Fraction  # relative change, or steps for a text choice
    kind: str  # number | choice
    monotone: bool = True
    range_end: int | None = None  # 0 or 1 when the input is one end of a target range

    @property
    def pointer(self) -> str:
        return "".join(f"/{part}" for part in self.path)


@dataclass
class WhatIf:
    output: str
    current: str
    goal: str | None  # None: already the best
    changes: list[Change] = field(default_factory=list)  # best per input, smallest first
    examined: int = 0  # inputs searched
    candidates: int = 0  # inputs that could be searched
    complete: bool = True  # False when MAX_WORK stopped the search

    @property
    def best(self) -> Change | None:
        return self.changes[0] if self.changes else None


def predikat_output(policy):
    """The policy's final categorical output (see the module docstring), or None."""
    labelled = [o for o in policy.outputs.values() if o.labels]
    named = [o for o in labelled if o.name == "predikat"]
    return (named or labelled[-1:] or [None])[0]


def what_if(loaded, record) -> WhatIf | None:
    """The what-if report of one record; None when the policy has no predikat or the record
    cannot be evaluated (its errors say why)."""
    from engine.api import evaluate

    output = predikat_output(loaded.policy)
    if output is None:
        return None
    base = evaluate(loaded, record)
    labels = list(output.labels)
    if "errors" in base or base["outputs"].get(output.name) not in labels:
        return None
    current = base["outputs"][output.name]
    rank = labels.index(current)
    if rank == 0:
        return WhatIf(output.name, current, None)
    report = WhatIf(output.name, current, labels[rank - 1])
    search = _Search(loaded, record, output.name, labels, rank - 1, base["values"])
    leaves = list(_leaves(loaded.policy.inputs, record))
    report.candidates = len(leaves)
    for leaf in leaves:
        if search.evaluations * len(leaves) > MAX_WORK:
            report.complete = False
            break
        report.examined += 1
        found = search.choice(leaf) if leaf.choices is not None else search.number(leaf)
        if found is not None:
            report.changes.append(found)
    report.changes.sort(key=lambda c: (c.size, c.kind != "number"))  # stable: ties in the policy's order
    return report


# Candidates ------------------------------------------------------------------------------------


@dataclass
class _Leaf:
    path: tuple
    value: object  # as in the record: int, Decimal, str or bool
    integer: bool = False
    low: tuple | None = None  # (bound, exclusive)
    high: tuple | None = None
    choices: list | None = None  # the allowed values of a choice, in declared order
    scale: Fraction = Fraction(1)
    range_end: int | None = None


def _number(value) -> Fraction | None:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return None
    return Fraction(value) if not isinstance(value, Decimal) or value.is_finite() else None


def _leaves(specs: dict, data: dict, path: tuple = ()):
    """Every input the record has that a single change could move, in the policy's order."""
    siblings = [abs(v) for v in (_number(x) for x in data.values()) if v is not None]
    for name, spec in specs.items():
        if name not in data:
            continue
        yield from _leaf(spec, data[name], path + (name,), siblings)


def _leaf(spec, value, path: tuple, siblings: list):
    kind = spec.type
    if kind == "record" and isinstance(value, dict):
        yield from _leaves(spec.fields, value, path)
    elif kind == "list" and isinstance(value, list) and spec.items is not None:
        for index, item in enumerate(value):
            yield from _leaf(spec.items, item, path + (index,), [])
    elif kind == "boolean" and isinstance(value, bool):
        yield _Leaf(path, value, choices=[value, not value])
    elif kind == "text" and isinstance(value, str) and spec.enum is not None:
        yield _Leaf(path, value, choices=[v for v in spec.enum if isinstance(v, str)])
    elif kind in ("number", "integer", "number_or_range"):
        if kind == "number_or_range" and isinstance(value, list):
            ends = [abs(v) for v in map(_number, value) if v is not None]
            for index, end in enumerate(value):
                for leaf in _leaf(spec, end, path + (index,), siblings + ends):
                    leaf.range_end = index
                    yield leaf
            return
        number = _number(value)
        if number is None:
            return
        if spec.enum is not None:
            yield _Leaf(path, value, choices=[v for v in spec.enum if isinstance(v, Fraction)])
            return
        low = (spec.minimum, False) if spec.minimum is not None else None
        if spec.exclusive_minimum is not None and (low is None or spec.exclusive_minimum >= low[0]):
            low = (spec.exclusive_minimum, True)
        high = (spec.maximum, False) if spec.maximum is not None else None
        if spec.exclusive_maximum is not None and (high is None or spec.exclusive_maximum <= high[0]):
            high = (spec.exclusive_maximum, True)
        yield _Leaf(
            path, value, integer=kind == "integer", low=low, high=high, scale=max([abs(number), Fraction(1)] + siblings)
        )


def _places(value) -> int:
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return max(0, -exponent) if isinstance(exponent, int) else 0
    return 0


# Search ----------------------------------------------------------------------------------------


class _Search:
    """Evaluations of one record with one input changed, and the searches over them."""

    def __init__(self, loaded, record: dict, output: str, labels: list, goal: int, values: dict):
        self.loaded, self.record, self.output, self.labels, self.goal = loaded, record, output, labels, goal
        self.values = values
        self.evaluations = 0
        self.thresholds = _thresholds(loaded.policy, record, values)

    def evaluate(self, path: tuple, value) -> tuple[dict, dict]:
        """(the changed record, its result)."""
        from engine.api import evaluate

        self.evaluations += 1
        changed = copy.deepcopy(self.record)
        node = changed
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
        return changed, evaluate(self.loaded, changed)

    def rank(self, result: dict) -> int | None:
        label = None if "errors" in result else result["outputs"].get(self.output)
        return self.labels.index(label) if label in self.labels else None

    def reaches(self, result: dict) -> bool:
        rank = self.rank(result)
        return rank is not None and rank <= self.goal

    def choice(self, leaf: _Leaf) -> Change | None:
        """Every other allowed value; the nearest that reaches the goal."""
        best = None
        old = _fraction(leaf.value)
        assert leaf.choices is not None  # called for a choice only
        shown: object
        for option in leaf.choices:
            if (
                option == leaf.value
                and type(option) is type(leaf.value)
                or (isinstance(option, Fraction) and option == old)
            ):
                continue
            if isinstance(option, bool):
                size, shown = Fraction(1), option
            elif isinstance(option, str):
                size, shown = Fraction(abs(leaf.choices.index(option) - leaf.choices.index(leaf.value))), option
            else:  # a numeric choice: the record holds a number too
                old_number = cast(Fraction, old)
                size, shown = abs(option - old_number) / max(abs(old_number), Fraction(1)), _json_value(option, False)
            if best is not None and size >= best.size:
                continue
            _, result = self.evaluate(leaf.path, shown)
            if self.reaches(result):
                best = Change(
                    leaf.path,
                    leaf.value,
                    shown,
                    result["outputs"][self.output],
                    size,
                    "choice",
                    range_end=leaf.range_end,
                )
        return best

    def number(self, leaf: _Leaf) -> Change | None:
        """The nearest grid value, up or down, that reaches the goal."""
        old = cast(Fraction, _fraction(leaf.value))  # a number leaf holds a number
        step = Fraction(1) if leaf.integer else Fraction(1, 10 ** max(2, _places(leaf.value)))
        start = old / step
        if start.denominator != 1:  # an integer input holding a fraction: the reader refused it
            return None
        found = [c for c in (self.direction(leaf, old, step, int(start), sign) for sign in (1, -1)) if c is not None]
        return min(found, key=lambda c: c.size) if found else None

    def direction(self, leaf: _Leaf, old: Fraction, step: Fraction, start: int, sign: int) -> Change | None:
        limit = _steps_to_bound(leaf, old, step, sign)
        if limit < 1:
            return None
        cache: dict[int, tuple] = {
            0: (self.record, {"outputs": {self.output: self.labels[self.goal + 1]}, "values": self.values})
        }

        def at(k: int) -> tuple[dict, dict]:
            if k not in cache:
                cache[k] = self.evaluate(leaf.path, _json_value((start + sign * k) * step, leaf.integer))
            return cache[k]

        points = (
            {1, limit}
            | {2**e for e in range(1, limit.bit_length())}
            | {limit * i // EVEN_POINTS for i in range(1, EVEN_POINTS)}
        )
        for k in sorted(p for p in points if 1 <= p <= limit):
            at(k)
        for k in self.crossings(cache, at):
            at(k)
            at(k - 1)
        ordered = sorted(cache)
        ranks = [r for r in (self.rank(cache[k][1]) for k in ordered) if r is not None]
        monotone = all(a >= b for a, b in pairwise(ranks))
        first = next((k for k in ordered if k > 0 and self.reaches(cache[k][1])), None)
        if first is None:
            return None
        below = max(k for k in ordered if k < first)
        while first - below > 1:  # below never reaches the goal, first always does
            middle = (first + below) // 2
            if self.reaches(at(middle)[1]):
                first = middle
            else:
                below = middle
        new = (start + sign * first) * step
        return Change(
            leaf.path,
            leaf.value,
            _json_value(new, leaf.integer),
            at(first)[1]["outputs"][self.output],
            abs(new - old) / max(abs(old), Fraction(1)),
            "number",
            monotone,
            leaf.range_end,
        )

    def crossings(self, cache: dict, at) -> list[int]:
        """Grid points (in steps) where a table column first passes one of its row bounds."""
        found = []
        for read, bound in self.thresholds:
            sides = [(k, _side(read(*cache[k]), bound)) for k in sorted(cache)]
            sides = [(k, side) for k, side in sides if side is not None]
            for (near, side), (far, other) in pairwise(sides):
                if side == other:
                    continue
                while far - near > 1:
                    middle = (near + far) // 2
                    if _side(read(*at(middle)), bound) == side:
                        near = middle
                    else:
                        far = middle
                found.append(far)
        return found


def _steps_to_bound(leaf: _Leaf, old: Fraction, step: Fraction, sign: int) -> int:
    """How many steps the value may move in this direction and stay allowed."""
    bound = leaf.high if sign > 0 else leaf.low
    if bound is None:
        far, exclusive = old + sign * SEARCH_FACTOR * leaf.scale, False
        far = max(-MAX_MAGNITUDE, min(MAX_MAGNITUDE, far))
    else:
        far, exclusive = bound
    steps = sign * (far - old) / step
    whole = steps.numerator // steps.denominator
    if exclusive and whole == steps:
        whole -= 1
    return max(0, whole)


def _side(quantity, bound: Fraction) -> int | None:
    if not isinstance(quantity, Fraction):
        return None
    return (quantity > bound) - (quantity < bound)


def _thresholds(policy, record: dict, values: dict) -> list[tuple]:
    """(read, bound) for each numeric row bound of each table column that names a value or an
    input; `read(changed record, result)` gives that column's value (one reader per list item)."""
    found = []
    for d in policy.values.values():
        if not isinstance(d, TableValue):
            continue
        for column, formula in enumerate(d.table.on):
            name = path_text(formula.node) if formula is not None and formula.node is not None else None
            if name is None:
                continue
            bounds = set()
            for row in d.table.rows:
                cell = row.cells[column] if column < len(row.cells) else None
                for bound in _cell_bounds(cell):
                    value = bound.value if bound.value is not None else values.get(bound.name)
                    if isinstance(value, Fraction):
                        bounds.add(value)
            if d.scope is None:
                readers = [_reader(name, None, None)]
            else:
                items = record.get(d.scope)
                readers = [_reader(name, d.scope, i) for i in range(len(items) if isinstance(items, list) else 0)]
            found += [(read, bound) for read in readers for bound in sorted(bounds)]
    return found


def _cell_bounds(cell) -> list:
    if isinstance(cell, n.CompareCell):
        return [cell.bound]
    if isinstance(cell, n.IntervalCell):
        return [cell.low, cell.high]
    if isinstance(cell, n.LiteralsCell):
        return [n.Bound(v, None, cell.loc) for v in cell.values if isinstance(v, Fraction)]
    return []


def _reader(name: str, scope: str | None, index: int | None):
    parts = name.split(".")

    def read(changed: dict, result: dict):
        computed = result.get("values") or {}
        if scope is not None:
            assert index is not None  # a scoped reader is made for one item
            items = computed.get(scope)
            computed = items[index] if isinstance(items, list) and index < len(items) else {}
            data = changed.get(scope)
            data = data[index] if isinstance(data, list) and index < len(data) else {}
        else:
            data = changed
        if len(parts) == 1 and parts[0] in computed:
            return _fraction(computed[parts[0]])
        for part in parts:
            data = data.get(part) if isinstance(data, dict) else None
        return _fraction(data)

    return read


def _fraction(value) -> Fraction | None:
    if isinstance(value, Fraction):
        return value
    return _number(value)


def _json_value(value: Fraction, integer: bool):
    """A value as a record carries it: an int, or an exact Decimal (never a float)."""
    if integer or value.denominator == 1:
        return int(value)
    return to_decimal(value)


# Rendering -------------------------------------------------------------------------------------

#: Most changes listed per record in text; the rest are counted.
MAX_SHOWN = 10

_WORDS: dict[str, str | tuple[str, ...]] = {  # English message ids; the Indonesian texts are in the catalogue
    "header": N_("To do better: {output} is now {current}; one level up is {goal}."),
    "best": N_("Smallest single-input change: {change}."),
    "each": N_("Per input (smallest change first):"),
    "more": N_("and {n} more inputs"),
    "top": N_("{output} {current} is already the best; there is no level above it."),
    "none": N_("No change of a single input reaches {goal} or better ({n} inputs examined)."),
    "stopped": N_("The search stopped at its work limit: {n} of {total} inputs examined."),
    "change": N_("{where} from {old} to {new} ({how}) → {reached}"),
    "item": N_("{list} {n}"),
    "in": N_("{field} of {item}"),
    "ends": (N_("low end"), N_("high end")),
    "up": N_("up"),
    "down": N_("down"),
    "steps": (N_("{n} step"), N_("{n} steps")),
    "flip": N_("flipped"),
    "yes": N_("yes"),
    "no": N_("no"),
    "uneven": N_("* not monotone: a smaller change may lie between the values tried."),
}


def _words() -> dict:
    """The words in the language in force."""
    return {key: tuple(_(t) for t in text) if isinstance(text, tuple) else _(text) for key, text in _WORDS.items()}


def render(report: WhatIf, lang: str | None = None) -> list[str]:
    """Sentences for one record's what-if report (in `lang`, else the language in force)."""
    with using(lang or language()):
        return _render(report)


def _render(report: WhatIf) -> list[str]:
    words, lang = _words(), language()
    if report.goal is None:
        return [words["top"].format(output=report.output, current=report.current)]
    lines = [words["header"].format(output=report.output, current=report.current, goal=report.goal)]
    if report.best is None:
        lines.append(words["none"].format(goal=report.goal, n=report.examined))
    else:
        lines.append(words["best"].format(change=change_text(report.best, lang)))
        lines.append(words["each"])
        lines += [f"  {i}. {change_text(c, lang)}" for i, c in enumerate(report.changes[:MAX_SHOWN], start=1)]
        if len(report.changes) > MAX_SHOWN:
            lines.append("  " + words["more"].format(n=len(report.changes) - MAX_SHOWN))
        if any(not c.monotone for c in report.changes[:MAX_SHOWN]):
            lines.append(words["uneven"])
    if not report.complete:
        lines.append(words["stopped"].format(n=report.examined, total=report.candidates))
    return lines


def change_text(change: Change, lang: str | None = None) -> str:
    with using(lang or language()):
        return _change_text(change)


def _change_text(change: Change) -> str:
    words, mark, lang = _words(), decimal_mark(), language()
    old, new = _fraction(change.old), _fraction(change.new)
    if isinstance(change.new, bool):
        how = words["flip"]
    elif isinstance(change.new, str):
        how = words["steps"][change.size != 1].format(n=change.size)
    else:
        percent = format_number(round_to(change.size * 100, 2, RoundingMode.HALF_UP), None, mark)
        old, new = cast(Fraction, old), cast(Fraction, new)  # a number changed: both are numbers
        how = f"{words['up'] if new > old else words['down']} {format_number(abs(new - old), None, mark)}; {percent}%"
    return words["change"].format(
        where=where_text(change.path, change.range_end, lang),
        old=_shown(change.old, words, mark),
        new=_shown(change.new, words, mark),
        how=how,
        reached=change.reached,
    ) + ("*" if not change.monotone else "")


def where_text(path: tuple, range_end: int | None = None, lang: str | None = None) -> str:
    """'kuantitas.realisasi pada kegiatan ke-2' for ("kegiatan", 1, "kuantitas", "realisasi")."""
    with using(lang or language()):
        words = _words()
    parts = list(path[:-1]) if range_end is not None else list(path)
    item: str | None = None
    names: list[str] = []
    for part in parts:
        if isinstance(part, int):
            inner = words["item"].format(list=".".join(names), n=part + 1)
            item = inner if item is None else words["in"].format(field=inner, item=item)
            names = []
        else:
            names.append(part)
    field_text = ".".join(names) + (f" ({words['ends'][range_end]})" if range_end is not None else "")
    return field_text if item is None else words["in"].format(field=field_text, item=item)


def _shown(value, words: dict, mark: str) -> str:
    if isinstance(value, bool):
        return words["yes"] if value else words["no"]
    if isinstance(value, str):
        return value
    return format_number(cast(Fraction, _fraction(value)), None, mark)


def whatif_json(report: WhatIf) -> dict:
    """The report as data (numbers as Fractions; engine.evaluate.io.encode writes them exactly)."""

    def change(c: Change) -> dict:
        return {
            "path": c.pointer,
            "old": _fraction(c.old) if not isinstance(c.old, (str, bool)) else c.old,
            "new": _fraction(c.new) if not isinstance(c.new, (str, bool)) else c.new,
            "reached": c.reached,
            "size": c.size,
            "kind": c.kind,
            "monotone": c.monotone,
        }

    return {
        "output": report.output,
        "current": report.current,
        "goal": report.goal,
        "best": change(report.best) if report.best else None,
        "changes": [change(c) for c in report.changes],
        "examined": report.examined,
        "candidates": report.candidates,
        "complete": report.complete,
    }
