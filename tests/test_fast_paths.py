"""The fast paths of `kinerja check` (issue 10, item 2) give the reference's answer exactly.

Each fast path answers only when it is sure, and hands everything else to the reference:
  - formulas: the lean LALR driver (engine/language/lalr.py) against Lark's parse + transformer;
  - YAML: libyaml's events against PyYAML's own reader and parser, node by node, mark by mark;
  - the schema: jsonschema-rs's "valid" against jsonschema's error list.
They are compared on every formula, cell and file the project ships and on seeded mutants of
them, so a difference between the two libraries shows here before a user sees it.
"""

from __future__ import annotations

import copy
import os
import random
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fuzz import formulas

from engine.diagnostics import Diagnostics
from engine.language import parser
from engine.language.lalr import Fallback, _Start
from engine.policy import document, source

ROOT = Path(__file__).resolve().parent.parent
YAML_FILES = sorted(
    p
    for folder in ("policies", "docs", "tests", "bench", "examples")
    if (ROOT / folder).is_dir()
    for p in (ROOT / folder).rglob("*.y*ml")
)
TEXTS = [p.read_text("utf-8") for p in YAML_FILES]


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _shipped_strings() -> list[str]:
    found: set[str] = set()
    for text in TEXTS:
        try:
            found.update(_strings(yaml.safe_load(text)))
        except yaml.YAMLError:
            continue
    return sorted(found)


# Formulas --------------------------------------------------------------------------------------


def _by_lark(text: str, start: str):
    try:
        tree = parser._lark().parse(text, start=start)
        parser._check_depth(tree)
        node = parser._ToNodes().transform(tree)
    except parser.UnexpectedInput as error:
        return "error", parser._explain(text, error)
    except parser.FormulaError as error:
        return "error", error
    except parser.VisitError as error:
        return "error", error.orig_exc
    return "ok", node.children[0] if isinstance(node, parser.Tree) else node


def _by_driver(text: str, start: str):
    try:
        node = parser._driver().parse(text, start)
    except Fallback:
        return None
    return "ok", node.children[0] if isinstance(node, _Start) else node


TRICKY = [
    "(a + b) * c",
    "-(a)",
    "- 3",
    "--x",
    "not not a",
    "a not in [1, 2]",
    "if a then b else c",
    "f()",
    "sum(k.n for k in xs if k.n > 1)",
    "[]",
    "a\n  + (b\n* c)",
    "1.",
    "1,5",
    "a < b < c",
    "x = 1",
    "70%",
    "a + if",
    "iffy + 1",
    "Arah indikator",
    ">= 91",
    "[76, 91)",
    "(1, 2]",
    "-",
    '"mahir", "penyelia"',
    "a, b, -3",
    "< -1",
    "1" + " + 1" * 200,
    "(" * 130 + "1" + ")" * 130,
    "-" * 140 + "1",
    "9" * 400,
    "\u0663 + 1",
    "foo(a for x in y)",
    "f(a,)",
    "a..b",
    "true and false or x",
    "a\r\nb",
]


@pytest.mark.parametrize("start", ["start", "cell"])
def test_the_driver_builds_what_lark_builds_for_every_shipped_formula(start):
    answered = 0
    for text in _shipped_strings() + TRICKY:
        fast = _by_driver(text, start)
        if fast is not None:
            answered += 1
            assert fast == _by_lark(text, start), text
    assert answered > 200  # the shipped policies' formulas and cells do take the fast path


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(formulas(), st.integers(0, 10**6), st.sampled_from(["", " ", "\n", "(", ")", ",", "-", "if ", ".", "[", '"']))
def test_the_driver_builds_what_lark_builds_for_generated_formulas(text, where, extra):
    at = where % (len(text) + 1)
    for candidate in (text, text[:at] + extra + text[at:]):
        for start in ("start", "cell"):
            fast = _by_driver(candidate, start)
            if fast is not None:
                assert fast == _by_lark(candidate, start), candidate


def test_a_formula_the_driver_does_not_take_gets_lark_s_words():
    with pytest.raises(parser.FormulaError) as raised:
        parser.parse_formula("a +")
    assert raised.value.code == "syntax.missing_operand"
    assert parser.parse_formula("Arah indikator") == _by_lark("Arah indikator", "start")[1]  # Lark's reading, kept


# YAML ------------------------------------------------------------------------------------------


def _tree(node):
    if node is None:
        return None
    marks = (
        node.start_mark.index,
        node.start_mark.line,
        node.start_mark.column,
        node.end_mark.index,
        node.end_mark.line,
        node.end_mark.column,
    )
    head = (type(node).__name__, node.tag, marks, node.style or None if isinstance(node, yaml.ScalarNode) else None)
    if isinstance(node, yaml.ScalarNode):
        return head + (node.value,)
    flow = bool(node.flow_style)  # an indentless block list: libyaml says False, PyYAML None
    if isinstance(node, yaml.MappingNode):
        return head + (flow, tuple((_tree(k), _tree(v)) for k, v in node.value))
    return head + (flow, tuple(_tree(item) for item in node.value))


def _by_pyyaml(text: str):
    loader = source._Loader(text)
    try:
        return _tree(loader.get_single_node())
    except Exception as error:  # noqa: BLE001 - any refusal counts as "not the same nodes"
        return type(error).__name__
    finally:
        loader.dispose()


PIECES = [
    " ",
    "\n",
    ": ",
    ":",
    "- ",
    "'",
    '"',
    "|",
    ">",
    "#",
    "{",
    "}",
    "[",
    "]",
    ", ",
    ",",
    "  ",
    "é",
    "&a ",
    "*a",
    "!!str ",
    "%",
    "@",
    "\\",
    "\r\n",
    "0,5",
    "~",
    "\n  ",
    "\n- ",
    "{}",
    "[]",
    "''",
    "|-\n  ",
    "...",
    "---",
    "\\x41",
    "1_000",
    "1:30",
    "no",
    "\U0001f600",
    "",
]


#: Mutants per shipped YAML file; KINERJA_FUZZ_EXAMPLES raises it for a longer run (as in test_fuzz).
MUTANTS = max(10, int(os.environ.get("KINERJA_FUZZ_EXAMPLES", "0")) // 20)


def _mutants(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    found = []
    for text in TEXTS:
        for _ in range(count):
            mutant = text
            for _ in range(rng.randint(1, 3)):
                at = rng.randrange(len(mutant) + 1)
                mutant = mutant[:at] + rng.choice(PIECES) + mutant[at + rng.choice([0, 0, 1, 2, 5]) :]
            found.append(mutant)
    return found


def test_libyaml_composes_the_nodes_pyyaml_composes():
    answered = 0
    indentless = [t.replace("extends: contoh-kabupaten\n", "extends:\n- contoh-kabupaten\n") for t in TEXTS]
    for text in TEXTS + [t.replace("\n", "\r\n") for t in TEXTS] + indentless + _mutants(MUTANTS, seed=10):
        fast = source._compose_fast(text)
        if fast is not None:
            answered += 1
            assert _tree(fast) == _by_pyyaml(text), text
    assert answered > len(TEXTS)


@pytest.mark.parametrize(
    "text",
    [
        "{a: }\n",
        "{a: , b: 1}\n",
        "a: {b: }\n",
        "a: 1",
        "a: x\tb\n",
        "{a: 1, b? 2}\n",
        "a: 1\u2028b: 2\n",
        "\ufeffa: 1\n",
    ],
)
def test_where_libyaml_and_pyyaml_differ_pyyaml_reads(text):
    assert source._compose_fast(text) is None


def test_a_policy_read_through_libyaml_gives_the_same_data_places_and_diagnostics(monkeypatch):
    def load(text: str, fast: bool):
        if not fast:
            monkeypatch.setattr(source, "_FastLoader", None)
        out = Diagnostics()
        data, sources = source.load(text, "policy.yaml", out)
        monkeypatch.undo()
        return repr(data), sorted(map(repr, sources.origins.items())), [repr(d) for d in out.sorted()]

    for text in TEXTS + _mutants(5, seed=11):
        assert load(text, True) == load(text, False)


# Schema ----------------------------------------------------------------------------------------


def _documents() -> list[dict]:
    found = []
    for path in YAML_FILES:
        doc = document._read(path, Diagnostics(), [path.parent, document.bundled_dir()], [])
        if doc is not None and isinstance(doc.data, dict) and "kinerja" in doc.data:
            found.append(document._jsonable(doc.data))
    return found


VALUES = [
    None,
    True,
    0,
    -1,
    10**30,
    0.5,
    1e-300,
    "",
    "x",
    "0,5",
    "a b",
    "Ab_1",
    "a\n",
    "2026-01-01",
    "a" * 70,
    [],
    ["a"],
    [{}],
    {},
    {"a": 1},
    {"formula": "x"},
    {"type": "number"},
    {"table": []},
]


def _mutate(rng: random.Random, data: dict) -> dict:
    data = copy.deepcopy(data)
    for _ in range(rng.randint(1, 3)):
        parent, key = None, None
        node = data
        while isinstance(node, (dict, list)) and node and rng.random() < 0.8:
            parent = node
            key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
            node = node[key]
        if parent is None:
            continue
        if isinstance(parent, dict) and rng.random() < 0.3:
            parent[rng.choice(["extra", "Bad-Key", f"{key}s"])] = copy.deepcopy(rng.choice(VALUES))
        elif isinstance(parent, dict) and rng.random() < 0.3:
            del parent[key]
        else:
            parent[key] = copy.deepcopy(rng.choice(VALUES))
    return data


def test_jsonschema_rs_says_valid_only_where_jsonschema_finds_no_error():
    check = document._schema_check()
    if check is None:
        pytest.skip("jsonschema-rs is not installed: jsonschema validates alone")
    reference = document._schema_validator()
    rng = random.Random(12)
    valid = 0
    for data in _documents():
        assert check.is_valid(data) == (not list(reference.iter_errors(data)))
        for _ in range(60):
            mutant = _mutate(rng, data)
            if check.is_valid(mutant):
                valid += 1
                assert not list(reference.iter_errors(mutant))
    assert valid > 10
