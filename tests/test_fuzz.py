"""Fuzz targets (issue 10, item 8): the policy parser and checker, and the record reader, fed
generated input for a bounded time. Each run must end in diagnostics or results, never in an
exception. The default budget is small (a few seconds in CI); KINERJA_FUZZ_EXAMPLES raises it,
for example KINERJA_FUZZ_EXAMPLES=5000 for a long run. A crash found becomes a case in the
test file of the part it concerns (the long runs so far found none)."""

from __future__ import annotations

import json
import os
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from engine import api
from engine.evaluate.io import encode, read_records
from engine.language.parser import FormulaError, parse_cell, parse_formula

EXAMPLES = int(os.environ.get("KINERJA_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))

INPUTS = ("skor", "target", "realisasi", "kegiatan", "jenjang")
VALUES = ("nilai", "capaian", "total")
NAMES = INPUTS + VALUES + ("k", "tidak_ada", "if", "sum", "IF")
FUNCTIONS = (
    "capaian",
    "capaian_terbalik",
    "clamp",
    "round",
    "min",
    "max",
    "abs",
    "floor",
    "ceil",
    "present",
    "len",
    "SUM",
    "rata",
)
AGGREGATES = ("sum", "mean", "count", "min", "max", "any", "all")


def formulas() -> st.SearchStrategy[str]:
    """Formulas from the language's grammar, with mistakes mixed in (unknown names and functions,
    wrong arity, text where numbers belong, huge and tiny numbers)."""
    numbers = st.one_of(
        st.integers(0, 10**6).map(str),
        st.decimals(0, 1000, places=3).map(str),
        st.sampled_from(["1e999", "0.000000000000000000000000000000001", "99999999999999999999"]),
    )
    leaves = st.one_of(numbers, st.sampled_from(NAMES), st.sampled_from(['"di_atas"', "true", "false", "k.nilai"]))

    def grow(inner):
        return st.one_of(
            st.tuples(
                inner, st.sampled_from(["+", "-", "*", "/", "<", "<=", "==", "!=", "and", "or", "in"]), inner
            ).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(inner, inner, inner).map(lambda t: f"if {t[0]} then {t[1]} else {t[2]}"),
            st.tuples(st.sampled_from(FUNCTIONS), st.lists(inner, max_size=4)).map(
                lambda t: f"{t[0]}({', '.join(t[1])})"
            ),
            st.tuples(
                st.sampled_from(AGGREGATES),
                inner,
                st.sampled_from(["kegiatan", "skor", "[1, 2]"]),
                st.one_of(st.none(), inner),
            ).map(lambda t: f"{t[0]}({t[1]} for k in {t[2]}{'' if t[3] is None else ' if ' + t[3]})"),
            inner.map(lambda x: f"-{x}"),
            inner.map(lambda x: f"not {x}"),
            st.lists(inner, max_size=3).map(lambda xs: f"[{', '.join(xs)}]"),
        )

    return st.recursive(leaves, grow, max_leaves=12)


def numeric_formulas() -> st.SearchStrategy[str]:
    """Well-typed numeric formulas, so that many generated policies pass the checks and are
    evaluated (exact evaluator against the kernel)."""
    leaves = st.one_of(
        st.integers(0, 1000).map(str),
        st.decimals(0, 100, places=2).map(str),
        st.sampled_from(
            [
                "skor",
                "target",
                "realisasi",
                "sum(k.nilai for k in kegiatan)",
                "count(k for k in kegiatan if k.nilai > 50)",
            ]
        ),
    )

    def grow(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(inner, st.sampled_from(["<", "<=", ">", ">=", "=="]), inner, inner, inner).map(
                lambda t: f"(if {t[0]} {t[1]} {t[2]} then {t[3]} else {t[4]})"
            ),
            st.tuples(st.sampled_from(["min", "max"]), inner, inner).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
            st.tuples(inner, st.integers(0, 4)).map(lambda t: f"round({t[0]}, {t[1]})"),
            inner.map(lambda x: f"capaian({x}, target)"),
            inner.map(lambda x: f"({x}) / (target + 1)"),
            inner.map(lambda x: f"mean(k.nilai * {x} for k in kegiatan if k.nilai >= 0)"),
        )

    return st.recursive(leaves, grow, max_leaves=10)


def policy_text(values: dict[str, str], output: str, extra: str) -> str:
    document = {
        "kinerja": 1,
        "id": "fuzz",
        "inputs": {
            "skor": {"type": "number", "minimum": 0, "maximum": 100},
            "target": {"type": "number", "exclusive_minimum": 0},
            "realisasi": {"type": "number", "minimum": 0},
            "jenjang": {"type": "text", "enum": ["ahli_muda", "ahli_madya"], "required": False},
            "kegiatan": {
                "type": "list",
                "max_items": 50,
                "items": {"type": "record", "fields": {"nilai": {"type": "number", "minimum": 0, "maximum": 100}}},
            },
        },
        "values": values,
        "outputs": {output: {}},
    }
    return json.dumps(document, ensure_ascii=False) + extra  # JSON is YAML


@FUZZ
@given(st.text(max_size=200))
def test_any_text_parses_to_a_formula_or_a_located_error(text):
    for parse in (parse_formula, parse_cell):
        try:
            parse(text)
        except FormulaError as error:
            assert error.line >= 1 and error.column >= 1 and error.code


@FUZZ
@given(
    st.fixed_dictionaries(
        {"total": st.one_of(numeric_formulas(), numeric_formulas(), formulas())},
        optional={
            "nilai": st.one_of(numeric_formulas(), formulas()),
            "capaian": st.one_of(numeric_formulas(), formulas()),
        },
    ),
    st.sampled_from(["total", "total", "total", "nilai", "skor"]),
    st.sampled_from(["", "", "", "\n", "\n#\ud800", "\n\x00", "\nx: [", "\n  - 1"]),
)
def test_generated_policies_check_without_crashing(values, output, extra):
    policy, diagnostics = api.check_text(policy_text(values, output, extra))
    for diagnostic in diagnostics:
        assert diagnostic.code and diagnostic.position.file and diagnostic.message
    if policy is not None and not any(d.severity.value == "error" for d in diagnostics):
        record = {
            "skor": Decimal("50"),
            "target": Decimal("3"),
            "realisasi": Decimal("2.5"),
            "kegiatan": [{"nilai": Decimal("70")}, {"nilai": Decimal("0")}],
        }
        loaded = api.load_document(policy.data, "fuzz.yaml")
        if loaded is not None:
            event("checked clean and evaluated, exact against the kernel")
            exact = api.evaluate(loaded, record)
            fast = loaded.result(record)
            assert ("errors" in exact) == ("errors" in fast)
            if "outputs" in exact:
                assert encode(exact["outputs"]) == encode(fast["outputs"])


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**20), 10**20),
        st.text(max_size=20),
        st.decimals(allow_nan=False, allow_infinity=False).filter(lambda d: abs(d.adjusted()) < 400),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=5)),
    max_leaves=20,
)


def record_strategy():
    """pp-46-2011 records with every part replaceable by any JSON value."""
    number = st.one_of(
        *[st.integers(1, 200 + k) for k in range(12)],
        st.decimals(1, 200, places=3),
        st.decimals(1, 10**14, places=15),
        st.integers(0, 0),
        json_values,
    )
    aspect = st.fixed_dictionaries({"target": number, "realisasi": number})
    kegiatan = st.fixed_dictionaries(
        {"kuantitas": aspect, "kualitas": aspect, "waktu": aspect}, optional={"biaya": aspect}
    )
    perilaku = st.fixed_dictionaries(
        {
            k: st.one_of(*[st.integers(k, 100) for k in range(6)], json_values)
            for k in ("orientasi_pelayanan", "integritas", "komitmen", "disiplin", "kerja_sama")
        }
    )
    return st.fixed_dictionaries(
        {
            "kegiatan": st.one_of(
                st.lists(kegiatan, min_size=1, max_size=3), st.lists(kegiatan, min_size=1, max_size=3), json_values
            ),
            "tugas_tambahan": st.one_of(st.integers(0, 3), st.integers(0, 3), json_values),
            "kreativitas": st.sampled_from([0, 3, 6, 12, 0, 3, 5]),
            "perilaku": st.one_of(perilaku, json_values),
        },
        optional={
            "id": st.one_of(st.text(min_size=1, max_size=20), st.integers(0, 10**18), json_values),
            "periode": st.one_of(st.sampled_from(["2013", "2014-03"]), json_values),
        },
    )


def _text(value) -> bytes:
    return encode(value)


@FUZZ
@given(record_strategy())
def test_generated_records_are_evaluated_or_refused_at_their_pointer(record):
    loaded = api.load("pp-46-2011")
    raw = _text(record)
    line, failed = api.LineEvaluator(lambda r: loaded, loaded).line(raw, 1)
    result = json.loads(line)
    assert ("errors" in result) == failed
    event("refused" if failed else "evaluated")
    for error in result.get("errors", ()):
        assert error["path"] == "" or error["path"].startswith("/")
    [incoming] = list(read_records(__import__("io").BytesIO(raw + b"\n"), "jsonl"))
    if incoming.error is None:
        exact = api.evaluate(loaded, incoming.record)
        assert ("errors" in exact) == failed


@FUZZ
@given(st.binary(max_size=300), st.sampled_from(["jsonl", "json"]))
def test_any_bytes_are_read_as_records_or_errors(data, fmt):
    import io

    for incoming in read_records(io.BytesIO(data), fmt):
        if incoming.error is not None:
            assert incoming.error["code"] and incoming.error["message"]
