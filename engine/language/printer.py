"""Syntax tree -> text: the canonical form of a formula (for diffs and renderings), optionally
with the values of its names written in (for explanations: '1 / 1 × 100')."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from engine.language import nodes as n
from engine.numbers import format_number

# Binding strength, loosest first; a child printed inside a tighter parent gets parentheses.
_CONDITIONAL, _OR, _AND, _NOT, _COMPARE, _SUM, _PRODUCT, _UNARY, _ATOM = range(9)


def path_text(node: n.Expr) -> str | None:
    """'perilaku.integritas' for a name or a chain of fields, else None."""
    if isinstance(node, n.Name):
        return node.id
    if isinstance(node, n.Field):
        inner = path_text(node.obj)
        return f"{inner}.{node.name}" if inner is not None else None
    return None


def to_text(node: n.Expr, math: bool = False, values: dict[str, Any] | None = None, decimal_mark: str = ".") -> str:
    """Print a formula. `math` uses × and ÷; `values` maps a name path to the value to show instead."""
    return _Printer(math, values or {}, decimal_mark).print(node, _CONDITIONAL)


def value_text(value: object, decimal_mark: str = ".") -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Fraction):
        return (
            format_number(value, None, decimal_mark) if _short(value) else format_number(value, 4, decimal_mark) + "…"
        )
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, tuple) and len(value) == 2:
        separator = "; " if decimal_mark == "," else ", "
        return f"[{value_text(value[0], decimal_mark)}{separator}{value_text(value[1], decimal_mark)}]"
    return str(value)


def _short(value: Fraction) -> bool:
    from engine.numbers import is_terminating

    return is_terminating(value) and len(format_number(value)) <= 14


class _Printer:
    def __init__(self, math: bool, values: dict[str, Any], decimal_mark: str) -> None:
        self.math, self.values, self.mark = math, values, decimal_mark
        # With ',' as the decimal mark, arguments are separated by ';' (as in Indonesian spreadsheets).
        self.separator = "; " if decimal_mark == "," else ", "

    def print(self, node: n.Expr, context: int) -> str:
        text, strength = self._node(node)
        return f"({text})" if strength < context else text

    def _node(self, node: n.Expr) -> tuple[str, int]:
        path = path_text(node)
        if path is not None and path in self.values:
            return value_text(self.values[path], self.mark), _ATOM
        match node:
            case n.Number(value=value, text=text):
                shown = text if self.mark == "." else text.replace(".", self.mark)
                return shown, _ATOM if value >= 0 else _UNARY
            case n.Text(value=value):
                return f'"{value}"', _ATOM
            case n.Bool(value=value):
                return ("true" if value else "false"), _ATOM
            case n.Name(id=name):
                return name, _ATOM
            case n.Field(obj=obj, name=name):
                return f"{self.print(obj, _ATOM)}.{name}", _ATOM
            case n.Negate(operand=x):
                return f"-{self.print(x, _UNARY)}", _UNARY
            case n.Not(operand=x):
                return f"not {self.print(x, _NOT)}", _NOT
            case n.Binary(op=op, left=a, right=b):
                strength = _SUM if op in (n.BinOp.ADD, n.BinOp.SUB) else _PRODUCT
                symbol = {"*": "×", "/": "÷"}.get(op.value, op.value) if self.math else op.value
                # left-associative: the right side of - and / needs parentheses at equal strength
                return f"{self.print(a, strength)} {symbol} {self.print(b, strength + 1)}", strength
            case n.Compare(op=op, left=a, right=b):
                symbol = {"<=": "≤", ">=": "≥", "!=": "≠", "==": "="}.get(op.value, op.value) if self.math else op.value
                return f"{self.print(a, _SUM)} {symbol} {self.print(b, _SUM)}", _COMPARE
            case n.Logical(op=op, left=a, right=b):
                strength = _AND if op is n.LogicOp.AND else _OR
                return f"{self.print(a, strength)} {op.value} {self.print(b, strength + 1)}", strength
            case n.Member(element=a, container=b, negated=negated):
                return f"{self.print(a, _SUM)} {'not in' if negated else 'in'} {self.print(b, _SUM)}", _COMPARE
            case n.Conditional(test=test, then=then, otherwise=otherwise):
                return (
                    f"if {self.print(test, _CONDITIONAL)} then {self.print(then, _CONDITIONAL)} "
                    f"else {self.print(otherwise, _CONDITIONAL)}"
                ), _CONDITIONAL
            case n.Call(function="present", args=args):
                return f"present({_Printer(self.math, {}, self.mark).print(args[0], _CONDITIONAL)})", _ATOM
            case n.Call(function=function, args=args):
                return f"{function}({self.separator.join(self.print(a, _CONDITIONAL) for a in args)})", _ATOM
            case n.Aggregate(function=function, element=element, var=var, source=source, filter=condition):
                inner = _Printer(self.math, {}, self.mark)  # per-item names are not single values
                text = f"{function}({inner.print(element, _CONDITIONAL)} for {var} in {self.print(source, _OR)}"
                if condition is not None:
                    text += f" if {inner.print(condition, _OR)}"
                return text + ")", _ATOM
            case n.ListExpr(items=items):
                return f"[{self.separator.join(self.print(i, _CONDITIONAL) for i in items)}]", _ATOM
        raise TypeError(f"cannot print {type(node).__name__}")


def cell_text(cell: n.Cell) -> str:
    def bound(b: n.Bound) -> str:
        return b.name if b.name is not None else format_number(b.value) if b.value is not None else "?"

    match cell:
        case n.AnyCell():
            return "-"
        case n.CompareCell(op=op, bound=b):
            return f"{op.value} {bound(b)}"
        case n.IntervalCell(low=lo, high=hi, low_closed=lc, high_closed=hc):
            return f"{'[' if lc else '('}{bound(lo)}, {bound(hi)}{']' if hc else ')'}"
        case n.LiteralsCell(values=values):
            return ", ".join(value_text(v) if not isinstance(v, str) else v for v in values)
    return "?"
