"""One meaning: the fast kernel (engine.evaluate.kernel, used by `kinerja eval`, the HTTP evaluate endpoint and
submissions) gives byte for byte the result of the exact evaluator (engine.evaluate.exact, which keeps
the trace), and both agree with plain `Fraction` arithmetic written here by hand.

Hypothesis generates records for every bundled policy and small random policies, leaning on the
values where floats go wrong: band edges, exact ties after a division, rounding midpoints.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine import api
from engine.evaluate import batch
from engine.evaluate.io import decode_json, encode
from engine.evaluate.kernel import FastPolicy, decode_pairs
from engine.policy.document import available
from engine.policy.model import TableValue

#: The assertions below read the English texts; Indonesian is the default (tests/test_language.py).
pytestmark = pytest.mark.usefixtures("english")

ROOT = Path(__file__).resolve().parent.parent
POLICIES = sorted(available())


def both(loaded, record: dict) -> tuple[bytes, bytes, bool]:
    """(exact result, fast result, whether the fast kernel decided it) for a record as JSON decodes it."""
    raw = json.dumps(record).encode()
    decoded = decode_json(raw)
    exact = encode(api.evaluate(loaded, decoded))
    kernel = api.fast(loaded)
    decided = kernel.try_fast(decode_pairs(raw)) is not None
    return exact, encode(loaded.result(decoded, decode_pairs(raw))), decided


@pytest.mark.parametrize("policy_id", POLICIES)
def test_every_bundled_policy_compiles_to_the_fast_kernel(policy_id):
    kernel = FastPolicy(api.load(policy_id))
    assert kernel.reason is None and kernel.kernel is not None


@pytest.mark.parametrize("policy_id", POLICIES)
def test_fast_and_exact_agree_on_each_policys_cases_and_example_data(policy_id):
    loaded = api.load(policy_id)
    lines = [_dumps(case.record) for case in loaded.policy.tests]
    for file in sorted((ROOT / "examples").glob(f"{policy_id}*.jsonl")):
        lines += [line for line in file.read_bytes().splitlines() if line.strip()]
    evaluator = api.LineEvaluator(lambda record: loaded, loaded)
    decided = 0
    for number, raw in enumerate(lines, start=1):
        try:
            record = decode_json(raw)
        except ValueError:
            continue  # a malformed line: both paths report it the same way (test_cli)
        if isinstance(record, dict):
            record = {k: _decimals(v) for k, v in record.items()}
        exact = api.evaluate(loaded, record)
        if "errors" in exact:
            exact["line"] = number
        written, failed = evaluator.line(raw, number)
        assert written == encode(exact) + b"\n", f"line {number} of {policy_id}"
        assert failed == ("errors" in exact)
        decided += "errors" not in exact and api.fast(loaded).try_fast(decode_pairs(raw)) is not None
    good = sum(1 for raw in lines if b'"errors"' not in raw)
    assert decided >= 0.9 * good - 5, f"the fast kernel decided only {decided} of about {good} good records"


def _decimals(value):
    """Case records hold Fractions for exact numbers; JSON-decoded records hold Decimals."""
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    return value


# Records generated from a policy's own input declarations -------------------------------------


def _bounds(policy) -> list[Fraction]:
    """Every threshold written in the policy's tables: where a flip would show."""
    from engine.language import nodes as n
    from engine.policy.ranges import constants

    known = constants(policy)
    found = set()
    for definition in policy.values.values():
        for row in definition.table.rows if isinstance(definition, TableValue) else ():
            for cell in row.cells:
                bounds = (
                    [cell.bound]
                    if isinstance(cell, n.CompareCell)
                    else [cell.low, cell.high]
                    if isinstance(cell, n.IntervalCell)
                    else []
                )
                found.update(b.value if b.value is not None else known[b.name] for b in bounds)
                if isinstance(cell, n.LiteralsCell):
                    found.update(v for v in cell.values if isinstance(v, Fraction))
    return sorted(found)


def _number(spec, interesting):
    low = spec.minimum if spec.minimum is not None else spec.exclusive_minimum
    high = spec.maximum if spec.maximum is not None else spec.exclusive_maximum
    low = Fraction(0) if low is None else low
    high = low + 200 if high is None else high
    if spec.type == "integer":
        values = st.integers(int(low) + (spec.exclusive_minimum is not None), int(high))
    else:
        decimal_places = st.integers(0, 3).flatmap(
            lambda places: st.decimals(
                Decimal(str(float(low))),
                Decimal(str(float(high))),
                places=places,
                allow_nan=False,
                allow_infinity=False,
            )
        )
        near = [v for v in interesting if low <= v <= high] + [low, high]
        values = st.one_of(decimal_places, st.sampled_from([Decimal(str(float(v))) for v in near]))
    if spec.enum is not None:
        values = st.sampled_from(list(spec.enum))
    return values.filter(
        lambda v: (
            (spec.exclusive_minimum is None or v > spec.exclusive_minimum)
            and (spec.exclusive_maximum is None or v < spec.exclusive_maximum)
        )
    )


def _value(spec, interesting):
    kind = spec.type
    if kind in ("number", "integer"):
        strategy = _number(spec, interesting)
    elif kind == "number_or_range":
        number = _number(spec, interesting)
        strategy = st.one_of(number, st.tuples(number, number).map(lambda pair: sorted(pair)))
    elif kind == "text":
        strategy = st.sampled_from(list(spec.enum)) if spec.enum else st.text(max_size=8)
    elif kind == "boolean":
        strategy = st.booleans()
    elif kind == "record":
        strategy = _record(spec.fields, interesting)
    elif kind == "list":
        low = spec.min_items or 0
        strategy = st.lists(_value(spec.items, interesting), min_size=low, max_size=max(low, 4))
    else:
        raise AssertionError(kind)
    if spec.null == "not_applicable":
        strategy = st.one_of(strategy, st.none())
    return strategy


def _record(specs: dict, interesting):
    required = {name: _value(spec, interesting) for name, spec in specs.items() if spec.required}
    optional = {name: _value(spec, interesting) for name, spec in specs.items() if not spec.required}
    return st.fixed_dictionaries(required, optional=optional)


def _dumps(record) -> bytes:
    """JSON text with every number written exactly (engine.evaluate.io.encode)."""
    return encode(record)


@pytest.mark.parametrize("policy_id", POLICIES)
def test_fast_equals_exact_on_generated_records(policy_id):
    loaded = api.load(policy_id)
    api.fast(loaded)  # generated before the examples, so each one times only evaluation
    strategy = _record(loaded.policy.inputs, _bounds(loaded.policy))

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(strategy)
    def check(record):
        raw = _dumps(record)
        decoded = decode_json(raw)
        assert encode(loaded.result(decoded, decode_pairs(raw))) == encode(api.evaluate(loaded, decoded))

    check()


# A hand-written Fraction reference for pp-46-2011 ----------------------------------------------


def _pp46_reference(record: dict) -> dict:
    """PP 46/2011 with Perka BKN 1/2013, written directly from DOMAIN.md in Fractions."""
    F = Fraction

    def aspect(target, realisasi):
        efisiensi = 100 - F(realisasi) / F(target) * 100
        value = (F(176, 100) * F(target) - F(realisasi)) / F(target) * 100
        return value if efisiensi <= 24 else 76 - (value - 100)

    nilai_kegiatan = []
    for k in record["kegiatan"]:
        parts = [
            F(k["kuantitas"]["realisasi"]) / F(k["kuantitas"]["target"]) * 100,
            F(k["kualitas"]["realisasi"]) / F(k["kualitas"]["target"]) * 100,
            aspect(k["waktu"]["target"], k["waktu"]["realisasi"]),
        ]
        if k.get("biaya") and F(k["biaya"]["target"]) > 0:
            parts.append(aspect(k["biaya"]["target"], k["biaya"]["realisasi"]))
        nilai_kegiatan.append(sum(parts) / len(parts))
    tambahan = record["tugas_tambahan"]
    nilai_tambahan = 0 if tambahan == 0 else 1 if tambahan <= 3 else 2 if tambahan <= 6 else 3
    skp = sum(nilai_kegiatan) / len(nilai_kegiatan) + nilai_tambahan + F(record["kreativitas"])
    aspects = [F(v) for v in record["perilaku"].values()]
    perilaku = sum(aspects) / len(aspects)
    prestasi = skp * F(6, 10) + perilaku * F(4, 10)

    def half_up(x):  # 2 places
        scaled = x * 100
        whole = scaled.numerator // scaled.denominator
        return F(whole + (scaled - whole >= F(1, 2)), 100)

    shown = half_up(prestasi)
    predikat = (
        "Sangat Baik"
        if shown >= 91
        else "Baik"
        if shown >= 76
        else "Cukup"
        if shown >= 61
        else "Kurang"
        if shown >= 51
        else "Buruk"
    )
    return {
        "nilai_skp": half_up(skp),
        "nilai_perilaku": half_up(perilaku),
        "nilai_prestasi_kerja": shown,
        "predikat": predikat,
    }


_target = st.sampled_from([1, 4, 6, 12, 15, 95, 100, 250])
_perilaku_score = st.one_of(st.integers(50, 100), st.decimals(50, 100, places=2))


@st.composite
def _kegiatan(draw):
    def pair(boundary_ratio):
        target = draw(_target)
        ratio = draw(st.one_of(st.decimals(Decimal("0.5"), Decimal("1.3"), places=2), st.just(boundary_ratio)))
        return {"target": target, "realisasi": Decimal(target) * ratio}

    item = {"kuantitas": pair(Decimal(1)), "kualitas": pair(Decimal(1)), "waktu": pair(Decimal("0.76"))}
    if draw(st.booleans()):
        item["biaya"] = pair(Decimal("0.76"))  # efisiensi exactly 24: the band edge floats miss
    return item


_pp46_record = st.fixed_dictionaries(
    {
        "kegiatan": st.lists(_kegiatan(), min_size=1, max_size=3),
        "tugas_tambahan": st.integers(0, 8),
        "kreativitas": st.sampled_from([0, 3, 6, 12]),
        "perilaku": st.fixed_dictionaries(
            {k: _perilaku_score for k in ("orientasi_pelayanan", "integritas", "komitmen", "disiplin", "kerja_sama")}
        ),
    }
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(_pp46_record)
def test_pp46_fast_exact_and_plain_fractions_agree(record):
    loaded = api.load("pp-46-2011")
    raw = _dumps(record)
    decoded = decode_json(raw)
    exact = api.evaluate(loaded, decoded)
    fast = loaded.result(decoded, decode_pairs(raw))
    assert encode(fast) == encode(exact)
    reference = _pp46_reference(decoded)
    assert {k: Fraction(str(v)) if not isinstance(v, str) else v for k, v in exact["outputs"].items()} == reference


# Small random policies: formulas the bundled policies do not have ------------------------------

_leaf = st.sampled_from(["a", "b", "c", "2", "0.5", "100", "1.76", "3"])


def _formula(depth: int):
    if depth == 0:
        return _leaf
    inner = _formula(depth - 1)
    return st.one_of(
        _leaf,
        st.tuples(inner, st.sampled_from(["+", "-", "*"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda x: f"({x}) / c"),
        st.tuples(inner, inner).map(lambda t: f"min({t[0]}, {t[1]})"),
        st.tuples(inner, inner).map(lambda t: f"max({t[0]}, {t[1]})"),
        inner.map(lambda x: f"round({x}, 1)"),
        inner.map(lambda x: f"floor({x})"),
        st.just("capaian(a, c)"),
        st.just("capaian_terbalik(b, c)"),
        st.tuples(inner, inner).map(lambda t: f"(if a > b then {t[0]} else {t[1]})"),
    )


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    formula=_formula(3),
    threshold=st.sampled_from(["90", "100", "0.5", "110"]),
    a=st.one_of(st.decimals(0, 200, places=2), st.just(Decimal(90)), st.just(Decimal("0.5"))),
    b=st.one_of(st.decimals(0, 200, places=1), st.just(Decimal(100))),
    c=st.one_of(st.decimals(Decimal("0.5"), 50, places=1), st.just(Decimal(3))),
)
def test_random_policies_fast_and_exact_agree(tmp_path_factory, formula, threshold, a, b, c):
    text = f"""kinerja: 1
id: acak
inputs:
  a: {{type: number, minimum: 0, maximum: 1000}}
  b: {{type: number, minimum: 0, maximum: 1000}}
  c: {{type: number, exclusive_minimum: 0, maximum: 1000}}
values:
  x:
    formula: "{formula}"
  label:
    table:
      on: x
      hit: unique
      rows:
        - {{when: "> {threshold}", then: di_atas}}
        - {{when: "<= {threshold}", then: lainnya}}
outputs:
  x: {{round: {{places: 2, mode: half_up}}}}
  label: {{}}
"""
    path = tmp_path_factory.mktemp("acak") / "acak.yaml"
    path.write_text(text, encoding="utf-8")
    policy, diagnostics = api.check(path)
    assume(not any(d.severity.value == "error" for d in diagnostics))  # e.g. a table row it makes unreachable
    loaded = api.load(path)
    raw = _dumps({"a": a, "b": b, "c": c})
    decoded = decode_json(raw)
    assert encode(loaded.result(decoded, decode_pairs(raw))) == encode(api.evaluate(loaded, decoded))


# Edges of the fast path ---------------------------------------------------------------------


def test_numbers_with_many_digits_take_the_exact_path_and_keep_its_errors():
    loaded = api.load("pp-46-2011")
    record = json.loads((ROOT / "examples" / "pp-46-2011-contoh.json").read_text())
    record["kreativitas"] = 0
    long = json.dumps(record).replace('"kreativitas": 0', '"kreativitas": 0.0000000000000000000000000000001')
    evaluator = api.LineEvaluator(lambda r: loaded, loaded)
    written, failed = evaluator.line(long.encode(), 1)
    result = json.loads(written)
    assert failed and result["errors"][0]["path"] == "/kreativitas"
    assert "decimal places" in result["errors"][0]["message"]
    exactly_zero = long.replace("0.0000000000000000000000000000001", "0.000000000000000000000000000000")
    written, failed = evaluator.line(exactly_zero.encode(), 1)
    expected = api.evaluate(loaded, decode_json(exactly_zero.encode()))
    assert not failed and written == encode(expected) + b"\n"


def test_policy_text_reaches_the_generated_kernel_only_as_data(write_policy):
    hostile = "'); import os; os.system('echo pwned') #\"\\n"
    path = write_policy(
        {
            "kinerja": 1,
            "id": "jahat",
            "inputs": {"x": {"type": "number", "minimum": 0, "maximum": 100}},
            "values": {
                "label": {
                    "table": {
                        "on": "x",
                        "hit": "unique",
                        "rows": [{"when": ">= 50", "then": hostile}, {"when": "< 50", "then": "rendah"}],
                    }
                }
            },
            "outputs": {"label": {}},
        }
    )
    loaded = api.load(path)
    kernel = api.fast(loaded)
    assert kernel.reason is None
    assert "import os" not in kernel.source.replace(repr(hostile), "")
    assert loaded.result({"x": 60})["outputs"] == {"label": hostile}


def test_progress_bar_only_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    quiet, shown = io.StringIO(), Terminal()
    for stream in (quiet, shown):
        progress = batch.Progress(1000, stream)
        progress.shown = 0  # draw at the next advance
        progress.advance(10, 500)
        progress.close()
    assert quiet.getvalue() == ""
    assert "10 records" in shown.getvalue() and "50%" in shown.getvalue()


def test_parallel_workers_write_the_same_file_in_order(tmp_path):
    loaded = api.load("pp-46-2011")
    lines = (ROOT / "examples" / "pp-46-2011-mixed.jsonl").read_bytes().splitlines(keepends=True)
    path = tmp_path / "many.jsonl"
    path.write_bytes(b"".join(lines * 3000))
    evaluator = api.LineEvaluator(lambda r: loaded, loaded)
    one = io.BytesIO()
    with open(path, "rb") as stream:
        counted = batch.run_jsonl([stream], one, evaluator)
    both = io.BytesIO()
    assert batch.run_file(str(path), both, evaluator, 2) == counted
    assert both.getvalue() == one.getvalue()
    assert counted[0] == len(lines) * 3000 == one.getvalue().count(b"\n")
    numbers = [json.loads(line).get("line") for line in one.getvalue().splitlines()]
    assert max(n for n in numbers if n) > 4000 * 3  # line numbers run on across chunks and parts
