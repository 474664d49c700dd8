"""The formula language and the static checks, as data: every case in tests/cases/*.yaml.

One runner (after OPA's v1/test/cases): each case builds a small policy, writes it to a file
and goes through engine.api like any policy would. A case has a `name` and either

- `formula` (shorthand for `values: {result: FORMULA}`) or `values`, with optional `inputs`,
  `item_values`, `outputs` (default: every named value), or a whole `policy` text;
- `record` (default `{}`), the submitted data;

and what it expects:

- `expect` (the value of `result`), `expect_values`, `expect_outputs`: exact. Numbers are
  read from their text; `!frac 600/7` writes a value with no finite decimal form;
- `expect_errors`: the record's errors as `{path, code}`, all of them, in any order;
- `only_these_outputs: true`: no output besides those in `expect_outputs` is reported;
- `expect_diagnostics`: each `{code, at | line+column | anywhere, message?, hint?}` must be
  reported. `at` is a snippet of the policy file with `>>` where the diagnostic must point,
  for example `at: "a + >>bb"`, so the expected line and column are found in the file itself.
  A case with diagnostics must also fail to load.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from engine import api
from engine.diagnostics import PolicyError
from engine.evaluate.io import encode

#: The assertions below read the English texts; Indonesian is the default (tests/test_language.py).
pytestmark = pytest.mark.usefixtures("english")

CASES = Path(__file__).parent / "cases"
MARK = ">>"


class _CaseLoader(yaml.SafeLoader):
    """Case files: decimals stay exact (Decimal, as JSON decoding gives them), `!frac p/q`."""


_CaseLoader.add_constructor(
    "tag:yaml.org,2002:float", lambda loader, node: Decimal(loader.construct_scalar(node).replace("_", ""))
)
_CaseLoader.add_constructor("!frac", lambda loader, node: Fraction(loader.construct_scalar(node)))


def _cases():
    for file in sorted(CASES.glob("*.yaml")):
        cases = yaml.load(file.read_text(encoding="utf-8"), Loader=_CaseLoader)
        names = set()
        for case in cases:
            assert case["name"] not in names, f"{file.name}: two cases named {case['name']!r}"
            names.add(case["name"])
            yield pytest.param(case, id=f"{file.stem}: {case['name']}")


def _policy(case: dict) -> str | dict:
    if "policy" in case:
        return case["policy"]
    values = case.get("values") or {"result": case["formula"]}
    document = {"kinerja": 1, "id": "case", "inputs": case.get("inputs") or {}}
    if case.get("item_values"):
        document["item_values"] = case["item_values"]
    document["values"] = values
    document["outputs"] = case.get("outputs") or {name: {} for name in values}
    return document


def _exact(value):
    """Expected numbers as exact fractions; text and booleans as they are."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, Decimal, Fraction)):
        return Fraction(value)
    if isinstance(value, list):
        return [_exact(v) for v in value]
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    raise TypeError(f"cannot expect {value!r}")


def _same(actual, expected) -> bool:
    if isinstance(expected, Fraction):
        return (
            not isinstance(actual, bool)
            and isinstance(actual, (int, Decimal, Fraction))
            and Fraction(actual) == expected
        )
    if isinstance(expected, bool):
        return actual is expected
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(map(_same, actual, expected))
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(_same(actual[k], expected[k]) for k in expected)
        )
    return actual == expected


def _locate(text: str, snippet: str) -> tuple[int, int]:
    """(line, column), 1-based, of the `>>` mark in the one place `snippet` occurs in `text`."""
    assert snippet.count(MARK) == 1, f"put exactly one {MARK} in {snippet!r}"
    before, after = snippet.split(MARK)
    plain = before + after
    start = text.find(plain)
    assert start >= 0, f"{plain!r} is not in the policy:\n{text}"
    assert text.find(plain, start + 1) < 0, f"{plain!r} occurs more than once in the policy:\n{text}"
    offset = start + len(before)
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


@pytest.mark.parametrize("case", list(_cases()))
def test_case(case, write_policy):
    path = write_policy(_policy(case))
    text = path.read_text(encoding="utf-8")
    _, diagnostics = api.check(path)
    errors = [d for d in diagnostics if d.severity.value == "error"]
    shown = "\n".join(d.render() for d in diagnostics)

    if "expect_diagnostics" in case:
        for expected in case["expect_diagnostics"]:
            _expect_diagnostic(expected, diagnostics, text, shown)
        for d in errors:
            assert d.position.line > 0 and d.position.column > 0, f"diagnostic without a place: {d.render()}"
        with pytest.raises(PolicyError):
            api.load(path)
        return

    assert not errors, f"the case's policy should be clean:\n{shown}\n---\n{text}"
    loaded = api.load(path)
    result = api.evaluate(loaded, case.get("record") or {})
    # One meaning: the fast kernel (engine.evaluate.kernel) writes the same result, errors included.
    assert encode(loaded.result(case.get("record") or {})) == encode(result)

    if "expect_errors" in case:
        assert "outputs" not in result, f"a record with errors has no outputs: {result}"
        actual = sorted((e["path"], e["code"]) for e in result.get("errors", []))
        wanted = sorted((e["path"], e["code"]) for e in case["expect_errors"])
        assert actual == wanted, f"errors: {result.get('errors')}"
        for error in result["errors"]:
            assert error["message"], f"an error needs a message: {error}"
        return

    assert "errors" not in result, f"unexpected record errors: {result['errors']}"
    expectations = dict(case.get("expect_values") or {})
    if "expect" in case:
        expectations["result"] = case["expect"]
    assert expectations or case.get("expect_outputs"), f"case {case['name']!r} expects nothing"
    for name, wanted in expectations.items():
        assert name in result["values"], f"no value {name!r} in {result['values']}"
        actual = result["values"][name]
        assert _same(actual, _exact(wanted)), f"{name} = {actual!r}, expected {wanted!r}"
    for name, wanted in (case.get("expect_outputs") or {}).items():
        assert name in result["outputs"], f"no output {name!r} in {result['outputs']}"
        actual = result["outputs"][name]
        assert _same(actual, _exact(wanted)), f"output {name} = {actual!r}, expected {wanted!r}"
    if case.get("only_these_outputs"):
        assert set(result["outputs"]) == set(case["expect_outputs"]), result["outputs"]


def _expect_diagnostic(expected: dict, diagnostics, text: str, shown: str) -> None:
    candidates = [d for d in diagnostics if d.code == expected["code"]]
    assert candidates, f"no {expected['code']} diagnostic; got:\n{shown}\n---\n{text}"
    if expected.get("anywhere"):
        placed = candidates
    elif "at" in expected:
        snippets = expected["at"] if isinstance(expected["at"], list) else [expected["at"]]
        placed = _placed(candidates, [_locate(text, s) for s in snippets], text, shown, expected["code"])
    elif "line" in expected:
        placed = _placed(candidates, [(expected["line"], expected["column"])], text, shown, expected["code"])
    else:
        raise AssertionError(f"say where {expected['code']} should point: 'at', 'line' and 'column', or 'anywhere'")
    for key in ("message", "hint"):
        if key in expected:
            assert any(expected[key] in getattr(d, key) for d in placed), (
                f"{expected['code']} {key} should contain {expected[key]!r}; got:\n{shown}"
            )


def _placed(candidates, places: list[tuple[int, int]], text: str, shown: str, code: str) -> list:
    placed = [d for d in candidates if (d.position.line, d.position.column) in places]
    lines = text.split("\n")
    wanted = " or ".join(
        f"{line}:{column} ({lines[line - 1] if line <= len(lines) else '?'!r})" for line, column in places
    )
    assert placed, f"{code} should point at {wanted}, got:\n{shown}"
    return placed
