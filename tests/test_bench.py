"""The benchmark's own correctness, on a few hundred generated policy P records: the Fraction peer
is the reference, Kinerja must agree with it exactly, and the float peer may only disagree where
floats are known to fail (a band edge or a rounding midpoint). Timing lives in bench/run.py; here
nothing is timed and zen-engine is not needed."""

from __future__ import annotations

import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from engine import api
from engine.review.cases import run_tests

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import data as bench_data
import exactness
import kinerja_p
from peers import float_p, fraction_p

RECORDS = 1_000  # enough for the float peer to go wrong at least once


@pytest.fixture(scope="module")
def lines() -> list[bytes]:
    return bench_data.p_records(RECORDS)


@pytest.fixture(scope="module")
def reference(lines) -> list[str]:
    return [exactness.line(fraction_p.evaluate(fraction_p.parse(line))) for line in lines]


def _on_edge_or_midpoint(line: bytes) -> bool:
    hasil = fraction_p.hasil_kerja(fraction_p.parse(line))
    scaled = hasil * 1000
    return hasil in (90, 110) or (scaled.denominator == 1 and scaled.numerator % 10 == 5)


def test_policy_p_is_clean_and_its_hand_computed_cases_pass():
    _, diagnostics = api.check(kinerja_p.POLICY)
    assert [d.render() for d in diagnostics] == []
    report = run_tests(api.load(kinerja_p.POLICY))
    assert len(report.cases) >= 10
    assert [(c.name, c.failures) for c in report.failed] == []
    assert report.unreached == []


def test_generated_data_is_deterministic_and_has_edges_and_midpoints(lines):
    assert bench_data.p_records(RECORDS) == lines
    total, edges, midpoints = bench_data.p_rates(lines)
    assert total == RECORDS
    assert edges >= 1 and midpoints >= 1
    for line in lines:
        record = fraction_p.parse(line)
        for i in range(1, 7):
            assert (record[f"iki_{i}"]["realisasi"] * 100).denominator == 1  # two decimals at most
            assert record[f"iki_{i}"]["target"] in bench_data.P_TARGETS


@pytest.mark.parametrize(
    "make, parse",
    [
        ("make_exact", "parse"),
        ("make_fast", "parse_pairs"),
        ("make_outputs", "parse_pairs"),
        ("make_batch", "parse_pairs"),
        ("make_columns", "parse_keep"),
        ("make_columns_compute", "parse_keep"),
    ],
)
def test_kinerja_agrees_with_the_fraction_reference_on_every_record(make, parse, lines, reference):
    evaluate_all = getattr(kinerja_p, make)()
    results = evaluate_all([getattr(kinerja_p, parse)(line) for line in lines])
    mine = [exactness.line(kinerja_p.outputs(result)) for result in results]
    comparison = exactness.compare(reference, mine)
    assert comparison.records == RECORDS
    assert comparison.examples == []


def test_the_float_peer_disagrees_only_on_edges_and_midpoints(lines, reference):
    floats = [exactness.line(float_p.evaluate(float_p.parse(line))) for line in lines]
    comparison = exactness.compare(reference, floats)
    assert comparison.records == RECORDS
    differing = [line for line, want, got in zip(lines, reference, floats) if want != got]
    assert differing, "the data should catch floats out somewhere"
    assert all(_on_edge_or_midpoint(line) for line in differing)


def test_outputs_compare_as_exact_two_decimal_numerals():
    assert exactness.numeral(100.01) == exactness.numeral(Decimal("100.01")) == exactness.numeral(Fraction(10001, 100))
    assert exactness.numeral(90) == "90.00"
    assert exactness.numeral(Fraction(1, 3)) == "1/3"  # not a two-decimal number: never equal to one
    assert exactness.numeral(0.1 + 0.2) != exactness.numeral(0.3)
