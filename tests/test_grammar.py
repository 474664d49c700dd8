"""The grammar is LALR without a single conflict or terminal collision (Lark's strict mode)."""

from engine.language.parser import build_parser


def test_grammar_builds_in_strict_mode():
    parser = build_parser(strict=True)
    assert parser.parse("a + b * 2", start="start") is not None
    assert parser.parse("[76, 91)", start="cell") is not None
