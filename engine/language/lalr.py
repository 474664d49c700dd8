"""A lean driver for the Lark LALR tables: formula text -> nodes in one pass, no parse tree.

Lark's own `parse` then `Transformer` cost about 0.2 ms for a three-token formula (tree,
position propagation, a second walk): a 4,000-value policy spent most of `kinerja check` there.
This driver reads the same tables Lark built from grammar.lark and calls `_ToNodes`' methods
as each rule is reduced, with the positions Lark's `propagate_positions` would have given.

It is only the fast path of the parser: anything it does not follow exactly (a syntax error, a
keyword where the grammar wants a name, too deep a nesting, a number that is out of range,
a rule without a method) raises `Fallback`, and `parser._parse` asks Lark itself, which gives
the same answer or the error in the author's words. So it never decides what is an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from lark import Lark, Token
from lark.grammar import Rule, Terminal
from lark.lexer import PatternStr
from lark.parsers.lalr_analysis import Shift
from lark.visitors import _vargs_meta


class Fallback(Exception):
    """The fast path stepped off what it mirrors exactly: let Lark parse this text."""


#: One value-stack entry: (value, line, column, height of its Lark tree).
_Entry = tuple[Any, "int | None", "int | None", int]


class _Meta(NamedTuple):
    """What `_ToNodes` reads of a rule's meta: the line and column of its first token."""

    line: int
    column: int


@dataclass(frozen=True)
class _Reduce:
    """How to build one rule's value: Lark's child filter, single-child expansion and callback."""

    size: int
    origin: str
    include: tuple[tuple[int, bool, int], ...]  # (index, splice, nones before) per kept child, as Lark's ChildFilter
    nones_after: int
    expand_single: bool
    inline: bool  # a `_rule` whose children are spliced into its parent's
    method: Callable[[_Meta, list[Any]], Any] | None
    unit: bool  # `?a: b`: the child itself is the value, at its own place
    plain: tuple[int, ...] | None  # the kept children's indexes when none is spliced or filled with None


class Driver:
    """The tables and lexer of one Lark parser, and a loop that reduces straight into nodes."""

    def __init__(self, lark: Lark, transformer: object, max_height: int):
        frontend = lark.parser.parser.parser
        self._table = frontend.parse_table
        self._transformer = transformer
        self._max_height = max_height
        rules = {
            id(arg): arg
            for actions in self._table.states.values()
            for action, arg in actions.values()
            if action is not Shift
        }
        self._reduces = {key: self._plan(rule, lark.options.keep_all_tokens) for key, rule in rules.items()}
        self._lexer, self._keywords, self._ignore = self._lexer_for(lark)
        self._units: dict[tuple[Any, Any, str, Any], Any] = {}  # (below, top, token, end) -> top after unit rules

    def _plan(self, rule: Rule, keep_all: bool) -> _Reduce:
        keep_all = keep_all or rule.options.keep_all_tokens
        expansion, empty = rule.expansion, rule.options.empty_indices
        if empty:
            runs = "".join(str(int(b)) for b in empty).split("0")
            nones = [len(ones) for ones in runs]
        else:
            nones = [0] * (len(expansion) + 1)
        include, pending = [], 0
        for index, symbol in enumerate(expansion):
            pending += nones[index]
            if keep_all or not (symbol.is_term and cast(Terminal, symbol).filter_out):
                include.append((index, not symbol.is_term and symbol.name.startswith("_"), pending))
                pending = 0
        name = rule.alias or rule.origin.name
        method = getattr(self._transformer, name, None)
        if method is not None and getattr(method, "visit_wrapper", None) is _vargs_meta:  # v_args(meta=True):
            method = method.base_func  # call the bound method itself, as Lark's wrapper would
        expand_single = bool(rule.options.expand1) and not rule.alias
        after = pending + nones[len(expansion)]
        unit = (
            expand_single and len(expansion) == 1 and len(include) == 1 and include[0][1:] == (False, 0) and not after
        )
        return _Reduce(
            len(expansion),
            rule.origin.name,
            tuple(include),
            after,
            expand_single,
            rule.origin.name.startswith("_"),
            method if callable(method) else None,
            unit,
            tuple(i for i, _, _ in include) if not after and not any(s or k for _, s, k in include) else None,
        )

    @staticmethod
    def _lexer_for(lark: Lark) -> tuple[re.Pattern[str], dict[str, dict[str, str]], set[str]]:
        """One regular expression over every terminal, in the order Lark's lexer tries them; the
        words that a name pattern also matches (`if`, `and`) come back as keywords."""
        ignore = set(lark.lexer_conf.ignore)
        terminals = list(lark.terminals)
        strings = [t for t in terminals if isinstance(t.pattern, PatternStr)]
        keywords: dict[str, dict[str, str]] = {}
        embedded = set()
        for term in terminals:
            if isinstance(term.pattern, PatternStr):
                continue
            compiled = re.compile(term.pattern.to_regexp())
            for word in strings:
                found = compiled.match(word.pattern.value)
                if word.priority == term.priority and found and found.group(0) == word.pattern.value:
                    keywords.setdefault(term.name, {})[word.pattern.value] = word.name
                    # Lark keeps a pattern's flags as a frozenset
                    if cast("frozenset[str]", word.pattern.flags) <= cast("frozenset[str]", term.pattern.flags):
                        embedded.add(word.name)
        kept = [t for t in terminals if t.name not in embedded]
        kept.sort(key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name))
        pattern = "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in kept)
        return re.compile(pattern), keywords, ignore

    def _tokens(self, text: str) -> Iterator[Token]:
        keywords, ignore = self._keywords, self._ignore
        match, pos, end, line, line_start = self._lexer.match, 0, len(text), 1, 0
        while pos < end:
            found = match(text, pos)
            if found is None or found.end() == pos:
                raise Fallback
            kind, value = cast(str, found.lastgroup), found.group(0)  # every alternative is a named group
            if kind not in ignore:
                kind = keywords.get(kind, {}).get(value, kind)
                yield Token(kind, value, pos, line, pos - line_start + 1)
            newlines = value.count("\n")
            if newlines:
                line += newlines
                line_start = pos + value.rindex("\n") + 1
            pos = found.end()

    def parse(self, text: str, start: str) -> Any:
        """The nodes `_ToNodes` would make of Lark's tree for `text`, or Fallback."""
        states, reduces = self._table.states, self._reduces
        end_state = self._table.end_states[start]
        state_stack = [self._table.start_states[start]]
        # one entry per symbol: (value, line, column, height) where height is the Lark tree's
        value_stack: list[_Entry] = []
        for token in self._tokens(text):
            self._feed(
                token.type, (token, token.line, token.column, 0), states, state_stack, value_stack, reduces, None
            )
        result = self._feed("$END", None, states, state_stack, value_stack, reduces, end_state)
        if result is None:
            raise Fallback
        return result

    def _feed(
        self,
        kind: str,
        entry: _Entry | None,
        states: dict[Any, dict[str, tuple[Any, Any]]],
        state_stack: list[Any],
        value_stack: list[_Entry],
        reduces: dict[int, _Reduce],
        end_state: Any,
    ) -> Any:
        while True:
            action, arg = states[state_stack[-1]].get(kind, (None, None))
            if action is None:
                raise Fallback
            if action is Shift:
                state_stack.append(arg)
                value_stack.append(cast(_Entry, entry))  # $END, the one None, is never shifted
                return None
            plan = reduces[id(arg)]
            if plan.unit:  # the value and its place stay; only the state moves on
                # a run of unit rules passes through the same states each time: follow it once
                key = (state_stack[-2], state_stack[-1], kind, end_state)
                after = self._units.get(key)
                if after is None:
                    after = self._units[key] = self._after_units(state_stack[-2], state_stack[-1], kind, end_state)
                state_stack[-1] = after
                if after == end_state:
                    return self._result(value_stack[-1])
                continue
            if plan.size:
                raw = value_stack[-plan.size :]
                del state_stack[-plan.size :]
                del value_stack[-plan.size :]
            else:
                raw = []
            value_stack.append(self._reduce(plan, raw))
            state_stack.append(states[state_stack[-1]][plan.origin][1])
            if end_state is not None and state_stack[-1] == end_state:
                return self._result(value_stack[-1])

    def _after_units(self, below: Any, top: Any, kind: str, end_state: Any) -> Any:
        """The state on top after the unit rules `kind` makes reduce from `top` over `below`:
        where a rule that is not a unit rule, a shift or the end state comes next."""
        states, reduces = self._table.states, self._reduces
        while True:
            action, arg = states[top].get(kind, (None, None))
            if action is None or action is Shift or not reduces[id(arg)].unit:
                return top
            top = states[below][reduces[id(arg)].origin][1]
            if end_state is not None and top == end_state:
                return top

    def _result(self, entry: _Entry) -> Any:
        value, _line, _column, height = entry
        if height > self._max_height:
            raise Fallback  # Lark's tree is too deep: the parser says so, at its place
        return value

    def _reduce(self, plan: _Reduce, raw: list[_Entry]) -> _Entry:
        line = column = None
        for entry in raw:
            if entry[1] is not None:
                line, column = entry[1], entry[2]
                break
        kids: list[tuple[Any, int]]  # (value, height of its Lark tree; 0 for a token or a placeholder)
        if plan.plain is not None:
            kids = [(raw[index][0], raw[index][3]) for index in plan.plain]
        else:
            kids = []
            for index, splice, nones in plan.include:
                kids.extend([(None, 0)] * nones)
                entry = raw[index]
                kids.extend(entry[0] if splice else [(entry[0], entry[3])])
            kids.extend([(None, 0)] * plan.nones_after)
        if plan.expand_single and len(kids) == 1:
            return kids[0][0], line, column, kids[0][1]
        height = max((h for _, h in kids), default=0) + 1
        if height > self._max_height:
            raise Fallback
        if plan.inline:
            return kids, line, column, height
        children = [value for value, _ in kids]
        if plan.method is None:
            if plan.origin in self._table.start_states:
                return _Start(children), line, column, height
            raise Fallback
        try:
            value = plan.method(_Meta(line or 1, column or 1), children)
        except Exception:  # a number out of range, an unknown aggregate: Lark's order of errors decides
            raise Fallback from None
        return value, line, column, height


@dataclass(frozen=True)
class _Start:
    """A start rule without a method: Lark's Tree('start', [expr]) as `_parse` unwraps it."""

    children: list[Any]
