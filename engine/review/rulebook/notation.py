"""How the rulebook writes numbers and formulas in Indonesian notation: decimal commas, the
registry's words for functions, and each formula as plain-text math or MathML (one walk, two
notations)."""

from __future__ import annotations

import html
from fractions import Fraction

from engine.language import nodes as n
from engine.language.printer import path_text
from engine.numbers import RoundingMode, exact_text, format_number, is_terminating
from engine.policy.functions import AGGREGATES, FUNCTIONS

ROUNDING_WORDS = {
    RoundingMode.HALF_UP: "setengah ke atas",
    RoundingMode.HALF_EVEN: "setengah ke genap",
    RoundingMode.HALF_DOWN: "setengah ke bawah",
    RoundingMode.UP: "selalu menjauhi nol",
    RoundingMode.DOWN: "selalu mendekati nol (dipotong)",
    RoundingMode.CEILING: "selalu ke atas",
    RoundingMode.FLOOR: "selalu ke bawah",
}
#: The rulebook's words for aggregates and functions: the registry's notation (engine.policy.functions).
AGGREGATE_WORDS = {name: a.words for name, a in AGGREGATES.items()}
FUNCTION_WORDS = {name: f.words for name, f in FUNCTIONS.items()}
COMPARE_SIGNS = {"==": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥"}


def number(value) -> str:
    """'1,76', '12.500.000', '2/3' (exact when the decimal does not end)."""
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if not isinstance(value, Fraction):
        return str(value)
    if not is_terminating(value):
        return exact_text(value)
    text = format_number(value, None, ",")
    sign = "−" if text.startswith("-") else ""
    whole, _, decimals = text.lstrip("-").partition(",")
    if len(whole) > 4:
        whole = f"{int(whole):,}".replace(",", ".")
    return sign + whole + ("," + decimals if decimals else "")


def literal(value) -> str:
    if isinstance(value, (Fraction, bool)):
        return number(value)
    return "—" if value is None else str(value)


# Formulas: plain-text math and MathML --------------------------------------------------------

_CONDITIONAL, _OR, _AND, _NOT, _COMPARE, _SUM, _PRODUCT, _UNARY, _ATOM = range(9)


class _Notation:
    """Walks a formula once for both writers; subclasses say how each piece looks."""

    # What each subclass writes (_PlainMath, _MathML); declared here for the walk's types.
    def name(self, text: str) -> str:
        raise NotImplementedError

    def num(self, text: str) -> str:
        raise NotImplementedError

    def text(self, text: str) -> str:
        raise NotImplementedError

    def op(self, symbol: str) -> str:
        raise NotImplementedError

    def word(self, word: str) -> str:
        raise NotImplementedError

    def row(self, *parts: str) -> str:
        raise NotImplementedError

    def parens(self, text: str) -> str:
        raise NotImplementedError

    def call(self, name: str, args: list[str]) -> str:
        raise NotImplementedError

    def bracket(self, items: list[str]) -> str:
        raise NotImplementedError

    def divide(self, a: n.Expr, b: n.Expr) -> tuple[str, int]:
        raise NotImplementedError

    def cases(self, cases: list[tuple[str, str]], otherwise: str) -> str:
        raise NotImplementedError

    def show(self, node: n.Expr, context: int = _CONDITIONAL) -> str:
        text, strength = self.node(node)
        return self.parens(text) if strength < context else text

    def node(self, node: n.Expr) -> tuple[str, int]:
        path = path_text(node)
        if path is not None:
            return self.name(path), _ATOM
        match node:
            case n.Number(value=value):
                return self.num(number(value)), _ATOM if value >= 0 else _UNARY
            case n.Text(value=value):
                return self.text(f"“{value}”"), _ATOM
            case n.Bool(value=value):
                return self.text("ya" if value else "tidak"), _ATOM
            case n.Negate(operand=x):
                return self.row(self.op("−"), self.show(x, _UNARY)), _UNARY
            case n.Not(operand=x):
                return self.row(self.word("bukan"), self.show(x, _NOT)), _NOT
            case n.Binary(op=n.BinOp.DIV, left=a, right=b):
                return self.divide(a, b)
            case n.Binary(op=op, left=a, right=b):
                strength = _SUM if op in (n.BinOp.ADD, n.BinOp.SUB) else _PRODUCT
                symbol = {"+": "+", "-": "−", "*": "×"}[op.value]
                return self.row(self.show(a, strength), self.op(symbol), self.show(b, strength + 1)), strength
            case n.Compare(op=op, left=a, right=b):
                return self.row(self.show(a, _SUM), self.op(COMPARE_SIGNS[op.value]), self.show(b, _SUM)), _COMPARE
            case n.Logical(op=op, left=a, right=b):
                strength = _AND if op is n.LogicOp.AND else _OR
                word = "dan" if op is n.LogicOp.AND else "atau"
                return self.row(self.show(a, strength), self.word(word), self.show(b, strength + 1)), strength
            case n.Member(element=a, container=b, negated=negated):
                word = "tidak termasuk" if negated else "termasuk"
                return self.row(self.show(a, _SUM), self.word(word), self.show(b, _SUM)), _COMPARE
            case n.Conditional():
                cases: list[tuple[str, str]] = []
                otherwise: n.Expr = node
                while isinstance(otherwise, n.Conditional):
                    cases.append((self.show(otherwise.then, _OR), self.show(otherwise.test, _OR)))
                    otherwise = otherwise.otherwise
                return self.cases(cases, self.show(otherwise, _OR)), _CONDITIONAL
            case n.Call(function="present", args=args):
                return self.row(self.show(args[0], _ATOM), self.word(FUNCTION_WORDS["present"])), _COMPARE
            case n.Call(function="round", args=args):
                parts = [self.show(args[0]), self.row(self.show(args[1]), self.word("desimal"))]
                mode = args[2].value if len(args) > 2 and isinstance(args[2], n.Text) else "half_up"
                known = mode in {m.value for m in RoundingMode}
                parts.append(self.text(ROUNDING_WORDS[RoundingMode(mode)] if known else mode))
                return self.call(FUNCTION_WORDS["round"], parts), _ATOM
            case n.Call(function=function, args=args):
                return self.call(FUNCTION_WORDS.get(function, function), [self.show(a) for a in args]), _ATOM
            case n.Aggregate(function=function, element=element, var=var, source=source, filter=condition):
                inner = [
                    self.show(element, _OR),
                    self.word("untuk setiap"),
                    self.name(var),
                    self.word("dalam"),
                    self.show(source, _OR),
                ]
                if condition is not None:
                    inner += [self.word("yang memenuhi"), self.show(condition, _OR)]
                return self.call(AGGREGATE_WORDS[function], [self.row(*inner)]), _ATOM
            case n.ListExpr(items=items):
                return self.bracket([self.show(i) for i in items]), _ATOM
        raise TypeError(f"cannot show {type(node).__name__}")


class _PlainMath(_Notation):
    """`(1,76 × waktu.target − waktu.realisasi) ÷ waktu.target × 100`."""

    def name(self, text):
        return text

    def num(self, text):
        return text

    def text(self, text):
        return text

    def op(self, symbol):
        return symbol

    def word(self, word):
        return word

    def row(self, *parts):
        return " ".join(p for p in parts if p)

    def parens(self, text):
        return f"({text})"

    def call(self, name, args):
        return f"{name}({'; '.join(args)})"

    def bracket(self, items):
        return f"[{'; '.join(items)}]"

    def divide(self, a, b):
        return f"{self.show(a, _PRODUCT)} ÷ {self.show(b, _PRODUCT + 1)}", _PRODUCT

    def cases(self, cases, otherwise):
        return "; ".join(f"jika {test} maka {value}" for value, test in cases) + f"; selain itu {otherwise}"


def _x(text: str) -> str:
    return html.escape(text, quote=True)


class _MathML(_Notation):
    """Presentation MathML: real fractions, a brace for cases; Chromium and Firefox draw it natively."""

    def name(self, text):
        return f"<mi>{_x(text)}</mi>"

    def num(self, text):
        return f"<mn>{_x(text)}</mn>"

    def text(self, text):
        return f"<mtext>{_x(text)}</mtext>"

    def op(self, symbol):
        return f"<mo>{_x(symbol)}</mo>"

    def word(self, word):
        return f"<mtext>\u00a0{_x(word)}\u00a0</mtext>"

    def row(self, *parts):
        return "<mrow>" + "".join(parts) + "</mrow>"

    def parens(self, text):
        return f"<mrow><mo>(</mo>{text}<mo>)</mo></mrow>"

    def call(self, name, args):
        separated = '<mo separator="true">;</mo>'.join(args)
        return f"<mrow><mi>{_x(name)}</mi><mo>(</mo>{separated}<mo>)</mo></mrow>"

    def bracket(self, items):
        return "<mrow><mo>[</mo>" + '<mo separator="true">;</mo>'.join(items) + "<mo>]</mo></mrow>"

    def divide(self, a, b):
        return f"<mfrac>{self.row(self.show(a))}{self.row(self.show(b))}</mfrac>", _ATOM

    def cases(self, cases, otherwise):
        cell = '<mtd displaystyle="true">'
        rows = "".join(f"<mtr>{cell}{value}</mtd>{cell}{self.word('jika')}{test}</mtd></mtr>" for value, test in cases)
        rows += f"<mtr>{cell}{otherwise}</mtd>{cell}{self.word('selain itu')}</mtd></mtr>"
        return f'<mrow><mo stretchy="true">{{</mo><mtable columnalign="left left">{rows}</mtable></mrow>'


def plain_math(node: n.Expr) -> str:
    return _PlainMath().show(node)
