"""Formula text -> syntax tree (engine.language.nodes), with errors in the policy author's words.

The Lark grammar lives in grammar.lark and is built once, LALR, strict. The parse tree never
leaves this module: `_ToNodes` turns it into typed nodes at the edge.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from importlib import resources
from typing import Any, TypeAlias, cast

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError
from lark.tree import Meta

from engine.i18n import N_, _
from engine.language import nodes as n
from engine.language.lalr import Driver, _Start
from engine.numbers import NumberError, parse_number

#: Longest formula text accepted; a real formula is a line or two.
MAX_FORMULA_CHARS = 4000
#: Deepest nesting of a formula's syntax tree (parentheses, operators, calls); a sum of n
#: terms is n deep. Well inside Python's recursion limit for every stage that walks the tree.
MAX_DEPTH = 128

KEYWORDS = frozenset({"if", "then", "else", "and", "or", "not", "in", "for", "true", "false"})


@dataclass(frozen=True)
class FormulaError(Exception):
    """A formula that cannot be read, at a line and column of the formula's own text."""

    code: str
    message: str
    line: int
    column: int
    hint: str = ""

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.code}: {self.message}"


def build_parser(strict: bool = False) -> Lark:
    """The LALR parser. `strict` also proves the grammar free of conflicts and terminal collisions
    (slow: a test does it once); at run time the analysis comes from Lark's on-disk cache."""
    grammar = resources.files(__package__).joinpath("grammar.lark").read_text(encoding="utf-8")
    return Lark(
        grammar, parser="lalr", start=["start", "cell"], propagate_positions=True, strict=strict, cache=not strict
    )


@lru_cache(maxsize=1)
def _lark() -> Lark:
    return build_parser()


@lru_cache(maxsize=1)
def _driver() -> Driver:
    return Driver(_lark(), _ToNodes(), MAX_DEPTH)


def parse_formula(text: str) -> n.Expr:
    """Parse one formula, raising FormulaError with a location and a hint."""
    return cast("n.Expr", _parse(text, "start"))


def parse_cell(text: str) -> n.Cell:
    """Parse one decision-table cell such as `>= 91`, `[76, 91)`, `-` or `"mahir", "penyelia"`."""
    return cast("n.Cell", _parse(text, "cell"))


def _parse(text: str, start: str) -> n.Expr | n.Cell:
    if not isinstance(text, str):
        raise FormulaError("syntax.type", _("a formula must be text"), 1, 1)
    if len(text) > MAX_FORMULA_CHARS:
        raise FormulaError(
            "syntax.too_long",
            _("formula is {length} characters long (at most {limit})", length=len(text), limit=MAX_FORMULA_CHARS),
            1,
            1,
            _("split it into named values"),
        )
    if not text.strip():
        raise FormulaError("syntax.empty", _("the formula is empty"), 1, 1, _("write an expression, such as 'a + b'"))
    return _parsed(text, start)


@lru_cache(maxsize=4096)
def _parsed(text: str, start: str) -> n.Expr | n.Cell:
    """The nodes of a formula, by its text (nodes are frozen: a table repeats its cells)."""
    try:
        node = _driver().parse(text, start)
    except Exception:  # lalr.Fallback, or anything else the fast path did not foresee: Lark decides
        pass
    else:
        fast: n.Expr | n.Cell = node.children[0] if isinstance(node, _Start) else node
        return fast
    try:
        tree = _lark().parse(text, start=start)
    except UnexpectedInput as error:
        raise _explain(text, error) from None
    _check_depth(tree)
    try:
        node = _ToNodes().transform(tree)
    except VisitError as error:
        if isinstance(error.orig_exc, FormulaError):
            raise error.orig_exc from None
        raise
    result: n.Expr | n.Cell = cast("n.Expr | n.Cell", node.children[0]) if isinstance(node, Tree) else node
    return result


def _check_depth(tree: Tree[Token]) -> None:
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            line, column = (node.meta.line, node.meta.column) if not node.meta.empty else (1, 1)
            raise FormulaError(
                "syntax.too_deep",
                _("formula is nested more than {limit} levels deep", limit=MAX_DEPTH),
                line,
                column,
                _("split it into named values"),
            )
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))


# Turning a Lark failure into the author's words ----------------------------------------------

_TOKEN_NAMES = {
    "RPAR": "')'",
    "LPAR": "'('",
    "RSQB": "']'",
    "LSQB": "'['",
    "COMMA": "','",
    "DOT": "'.'",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "STAR": "'*'",
    "SLASH": "'/'",
    "COMP_OP": N_("a comparison"),
    "NUMBER": N_("a number"),
    "STRING": N_("a text in quotes"),
    "NAME": N_("a name"),
    "$END": N_("the end"),
    "IF": "'if'",
    "THEN": "'then'",
    "ELSE": "'else'",
    "FOR": "'for'",
    "IN": "'in'",
    "AND": "'and'",
    "OR": "'or'",
    "NOT": "'not'",
    "TRUE": "'true'",
    "FALSE": "'false'",
}
_OPERATORS = {"+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", "and", "or", "not", "in"}
_PREVIOUS = re.compile(r"(\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*|==|!=|<=|>=|[-+*/<>(),.\[\]]|\S)\s*$")


def _previous_token(text: str, pos: int) -> str:
    match = _PREVIOUS.search(text[:pos])
    return match.group(1) if match else ""


def _explain(text: str, error: UnexpectedInput) -> FormulaError:
    line, column = getattr(error, "line", 1) or 1, getattr(error, "column", 1) or 1
    pos = getattr(error, "pos_in_stream", None)
    if isinstance(error, UnexpectedToken) and error.token.type == "$END":
        pos, line, column = len(text), *_end_position(text)
    if pos is None:
        pos = _offset(text, line, column)
    before = _previous_token(text, pos)
    here = text[pos : pos + 1]

    if isinstance(error, UnexpectedCharacters):
        if here == "," and before[-1:].isdigit() and text[pos + 1 : pos + 2].isdigit():
            return FormulaError(
                "syntax.decimal_comma",
                _("use '.' as the decimal mark"),
                line,
                column,
                _(
                    "write {right} instead of {wrong}",
                    right=f"{before}.{_digits(text, pos + 1)}",
                    wrong=f"{before},{_digits(text, pos + 1)}",
                ),
            )
        if here == "%":
            return FormulaError(
                "syntax.percent",
                _("'%' is not an operator"),
                line,
                column,
                _("write a percentage as a number: 70% is 0.7 or 70 / 100"),
            )
        if here == "=":
            return FormulaError(
                "syntax.equals",
                _("use '==' to compare two values"),
                line,
                column,
                _('for example: jenjang == "ahli_muda"'),
            )
        if here == ";":
            return FormulaError(
                "syntax.semicolon",
                _("use ',' between arguments, not ';'"),
                line,
                column,
                _("Excel in Indonesian separates arguments with ';'; Kinerja uses ',' and '.' for decimals"),
            )
        if here in "×x·":
            return FormulaError("syntax.times", _("use '*' to multiply, not '{found}'", found=here), line, column)
        if here in "\"'":
            return FormulaError("syntax.unclosed_text", _("text is missing its closing quote"), line, column)
        return FormulaError(
            "syntax.character",
            _("unexpected character {found}", found=repr(here)),
            line,
            column,
            _("formulas use names, numbers, + - * /, comparisons and parentheses"),
        )

    token = getattr(error, "token", None)
    token_type = getattr(token, "type", "$END")
    expected = set(getattr(error, "expected", ()) or ())
    if token_type == "COMMA" and before.replace(".", "").isdigit() and text[pos + 1 : pos + 2].isdigit():
        return FormulaError(
            "syntax.decimal_comma",
            _("use '.' as the decimal mark"),
            line,
            column,
            _(
                "write {right} instead of {wrong}",
                right=f"{before}.{_digits(text, pos + 1)}",
                wrong=f"{before},{_digits(text, pos + 1)}",
            ),
        )
    if before in _OPERATORS and ({"NUMBER", "NAME"} & expected):
        return FormulaError(
            "syntax.missing_operand",
            _("missing operand after '{operator}'", operator=before),
            line,
            column,
            _("write a value after '{operator}'", operator=before),
        )
    if before == "(" and token_type == "RPAR" and "NAME" in expected:
        return FormulaError("syntax.empty_parentheses", _("nothing inside '()'"), line, column)
    if token_type == "COMP_OP" and "COMP_OP" not in expected and before not in _OPERATORS:
        return FormulaError(
            "syntax.chained_comparison", _("comparisons cannot be chained"), line, column, _("write 'a <= x and x < b'")
        )
    if token_type == "$END":
        if "RPAR" in expected:
            return FormulaError("syntax.unclosed", _("missing ')' at the end"), line, column)
        if "RSQB" in expected:
            return FormulaError("syntax.unclosed", _("missing ']' at the end"), line, column)
        if "ELSE" in expected:
            return FormulaError("syntax.incomplete_if", _("'if ... then ...' needs an 'else' part"), line, column)
        if "THEN" in expected:
            return FormulaError("syntax.incomplete_if", _("'if' needs 'then' and 'else' parts"), line, column)
        return FormulaError("syntax.incomplete", _("the formula ends too early"), line, column)
    found = token.value if token is not None else here
    if (
        token_type in {"NAME", "NUMBER", "STRING", "LPAR", "TRUE", "FALSE"}
        and before
        and before not in _OPERATORS
        and before not in {"(", "[", ","}
    ):
        return FormulaError(
            "syntax.missing_operator",
            _("missing operator between '{left}' and '{right}'", left=before, right=found),
            line,
            column,
            _("join values with + - * / or a comparison"),
        )
    wanted = sorted({_(_TOKEN_NAMES[e]) if e in _TOKEN_NAMES else e for e in expected if not e.startswith("__")})
    hint = _("expected {tokens}", tokens=", ".join(wanted[:8])) if wanted else ""
    return FormulaError("syntax.unexpected", _("unexpected '{found}'", found=found), line, column, hint)


def _digits(text: str, pos: int) -> str:
    match = re.match(r"\d+", text[pos:])
    return match.group(0) if match else ""


def _end_position(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


def _offset(text: str, line: int, column: int) -> int:
    lines = text.split("\n")
    return sum(len(x) + 1 for x in lines[: line - 1]) + column - 1


# Parse tree -> nodes --------------------------------------------------------------------------


def _loc(meta_or_token: object) -> n.Loc:
    return n.Loc(getattr(meta_or_token, "line", 1) or 1, getattr(meta_or_token, "column", 1) or 1)


def _number(token: Token) -> Fraction:
    try:
        return parse_number(str(token))
    except NumberError as error:
        # a token from either lexer carries its place
        raise FormulaError("syntax.number", str(error), cast(int, token.line), cast(int, token.column)) from None


#: A rule's children: tokens and the nodes already made of its subrules.
_Children: TypeAlias = list[Any]


@v_args(meta=True)
class _ToNodes(Transformer[Token, Any]):
    # `meta` is Lark's Meta, or on the fast path lalr._Meta, which has the same line and column.
    def number(self, meta: Meta, children: _Children) -> n.Number:
        (token,) = children
        return n.Number(_number(token), str(token), _loc(token))

    def negative(self, meta: Meta, children: _Children) -> n.Number:
        (token,) = children
        return n.Number(-_number(token), "-" + str(token), _loc(meta))

    def string(self, meta: Meta, children: _Children) -> n.Text:
        (token,) = children
        return n.Text(str(token)[1:-1], _loc(token))

    def true(self, meta: Meta, children: _Children) -> n.Bool:
        return n.Bool(True, _loc(meta))

    def false(self, meta: Meta, children: _Children) -> n.Bool:
        return n.Bool(False, _loc(meta))

    def name(self, meta: Meta, children: _Children) -> n.Name:
        (token,) = children
        return n.Name(str(token), _loc(token))

    def field(self, meta: Meta, children: _Children) -> n.Field:
        obj, token = children
        return n.Field(obj, str(token), _loc(token))

    def neg(self, meta: Meta, children: _Children) -> n.Number | n.Negate:
        (operand,) = children
        if isinstance(operand, n.Number):
            return n.Number(-operand.value, "-" + operand.text, _loc(meta))
        return n.Negate(operand, _loc(meta))

    def not_(self, meta: Meta, children: _Children) -> n.Not:
        return n.Not(children[0], _loc(meta))

    @staticmethod
    def _binary(op: n.BinOp) -> Callable[[_ToNodes, Meta, _Children], n.Binary]:
        """A small factory used at class creation."""

        def build(self: _ToNodes, meta: Meta, children: _Children) -> n.Binary:
            left, right = children
            return n.Binary(op, left, right, _loc(meta))

        return build

    add, sub, mul, div = _binary(n.BinOp.ADD), _binary(n.BinOp.SUB), _binary(n.BinOp.MUL), _binary(n.BinOp.DIV)

    def compare(self, meta: Meta, children: _Children) -> n.Compare:
        left, op, right = children
        return n.Compare(n.CmpOp(str(op)), left, right, _loc(op))

    def and_(self, meta: Meta, children: _Children) -> n.Logical:
        return n.Logical(n.LogicOp.AND, children[0], children[1], _loc(meta))

    def or_(self, meta: Meta, children: _Children) -> n.Logical:
        return n.Logical(n.LogicOp.OR, children[0], children[1], _loc(meta))

    def member(self, meta: Meta, children: _Children) -> n.Member:
        return n.Member(children[0], children[1], False, _loc(meta))

    def not_member(self, meta: Meta, children: _Children) -> n.Member:
        return n.Member(children[0], children[1], True, _loc(meta))

    def conditional(self, meta: Meta, children: _Children) -> n.Conditional:
        test, then, otherwise = children
        return n.Conditional(test, then, otherwise, _loc(meta))

    def arguments(self, meta: Meta, children: _Children) -> tuple[Any, ...]:
        return tuple(children)

    def call(self, meta: Meta, children: _Children) -> n.Call:
        token, args = children
        return n.Call(str(token), args or (), _loc(token))

    def filter(self, meta: Meta, children: _Children) -> Any:
        return children[0]

    def aggregate(self, meta: Meta, children: _Children) -> n.Aggregate:
        token, element, var, source, condition = children
        # which names are aggregates is the function registry's to say (the names check)
        return n.Aggregate(sys.intern(str(token)), element, str(var), source, condition, _loc(token))

    def list(self, meta: Meta, children: _Children) -> n.ListExpr:
        (args,) = children
        return n.ListExpr(args or (), _loc(meta))

    # cells
    def any(self, meta: Meta, children: _Children) -> n.AnyCell:
        return n.AnyCell(_loc(meta))

    def cell_compare(self, meta: Meta, children: _Children) -> n.CompareCell:
        op, bound = children
        return n.CompareCell(n.CmpOp(str(op)), _bound(bound), _loc(meta))

    @staticmethod
    def _interval(low_closed: bool, high_closed: bool) -> Callable[[_ToNodes, Meta, _Children], n.IntervalCell]:
        def build(self: _ToNodes, meta: Meta, children: _Children) -> n.IntervalCell:
            low, high = children
            return n.IntervalCell(_bound(low), _bound(high), low_closed, high_closed, _loc(meta))

        return build

    closed, closed_open, open_closed, open = (
        _interval(True, True),
        _interval(True, False),
        _interval(False, True),
        _interval(False, False),
    )

    def literals(self, meta: Meta, children: _Children) -> n.LiteralsCell:
        return n.LiteralsCell(tuple(child.value for child in children), _loc(meta))

    def word(self, meta: Meta, children: _Children) -> n.Text:
        (token,) = children
        return n.Text(str(token), _loc(token))


def _bound(node: n.Number | n.Name) -> n.Bound:
    if isinstance(node, n.Number):
        return n.Bound(node.value, None, node.loc)
    return n.Bound(None, node.id, node.loc)
