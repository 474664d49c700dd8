"""The registry of built-in functions (engine.policy.functions): one entry per function, read by
the checks, the analyses, the exact evaluator, the kernel and the rulebook.

`median` is the proof that adding a function is adding one entry: the cases in
tests/cases/aggregates.yaml and record_errors.yaml cover its values, and these tests its use in
a 360-feedback policy through the public interfaces.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest

from engine import api
from engine.diagnostics import PolicyError
from engine.i18n import _
from engine.policy.functions import AGGREGATES, FUNCTIONS

FEEDBACK = """\
kinerja: 1
id: umpan-balik-360
title: Umpan balik 360
inputs:
  umpan_balik:
    type: list
    items:
      type: record
      fields:
        jenis: {type: text, enum: [atasan, rekan_sejawat, bawahan]}
        nilai: {type: number, minimum: 0, maximum: 100}
values:
  nilai_tengah_rekan: median(r.nilai for r in umpan_balik if r.jenis == "rekan_sejawat")
outputs:
  nilai_tengah_rekan: {}
  predikat:
    value: if nilai_tengah_rekan >= 80 then "Baik" else "Cukup"
"""


def _feedback(*scores):
    return {"umpan_balik": [{"jenis": jenis, "nilai": nilai} for jenis, nilai in scores]}


@pytest.fixture
def feedback(tmp_path):
    path = tmp_path / "umpan-balik.yaml"
    path.write_text(FEEDBACK, encoding="utf-8")
    return api.load(path)


def test_median_of_a_360_feedback_list_is_exact_on_odd_and_even_counts(feedback):
    odd = api.evaluate(
        feedback,
        _feedback(("rekan_sejawat", 70), ("atasan", 10), ("rekan_sejawat", Decimal("85.5")), ("rekan_sejawat", 90)),
    )
    assert odd["values"]["nilai_tengah_rekan"] == Fraction("85.5")
    assert odd["outputs"] == {"nilai_tengah_rekan": Fraction("85.5"), "predikat": "Baik"}
    even = api.evaluate(
        feedback,
        _feedback(
            ("rekan_sejawat", 70),
            ("rekan_sejawat", 85),
            ("bawahan", 100),
            ("rekan_sejawat", Decimal("79.99")),
            ("rekan_sejawat", 90),
        ),
    )
    assert even["values"]["nilai_tengah_rekan"] == Fraction("82.495")
    assert even["outputs"] == {"nilai_tengah_rekan": Fraction("82.50"), "predikat": "Baik"}


def test_median_of_no_items_is_a_record_error_as_for_mean(feedback):
    result = api.evaluate(feedback, _feedback(("atasan", 80)))
    assert result["errors"] == [
        {
            "path": "/umpan_balik",
            "code": "empty",
            "message": _("{function}() of {list} has no items to work on", function="median", list="umpan_balik"),
        }
    ]


def test_the_batch_path_gives_what_the_exact_evaluator_gives(feedback):
    records = [_feedback(("rekan_sejawat", 70), ("rekan_sejawat", 81)), _feedback(("atasan", 1))]
    assert api.evaluate_records(lambda record: feedback, records) == [api.evaluate(feedback, r) for r in records]


def test_median_of_text_is_a_type_error(tmp_path):
    path = tmp_path / "salah.yaml"
    path.write_text(FEEDBACK.replace("median(r.nilai", "median(r.jenis"), encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        api.load(path)
    assert [d.code for d in raised.value.diagnostics] == ["type.mismatch"]


def test_the_checked_policy_knows_the_median_is_within_its_values(feedback):
    value = feedback.policy.value("nilai_tengah_rekan")
    assert (value.interval.lo, value.interval.hi) == (0, 100)
    assert str(value.type) == str(feedback.policy.outputs["nilai_tengah_rekan"].type)


def test_every_function_and_aggregate_has_its_words_and_a_description():
    for entry in [*FUNCTIONS.values(), *AGGREGATES.values()]:
        assert entry.words and entry.description.startswith(entry.name + "(")


@pytest.mark.parametrize("name", sorted(AGGREGATES))
@pytest.mark.parametrize(
    "values",
    [
        [Fraction(3)],
        [Fraction(1, 3), Fraction(5), Fraction(-2, 7)],
        [Fraction(9), Fraction(1, 2), Fraction(9), Fraction(4), Fraction(-1)],
    ],
)
def test_an_aggregate_emission_computes_what_its_implementation_does(name, values):
    aggregate = AGGREGATES[name]
    if len(values) < aggregate.least:
        return
    if aggregate.result.kind == "boolean":
        values = [v > 0 for v in values]
        scope: dict = {"c": values}
        exec(aggregate.kernel("r", "c", "n"), scope)
        assert scope["r"] == aggregate.implementation(values)
        return
    scope = {"c": [(v.numerator, v.denominator) for v in values], "n": len(values), "_gcd": math.gcd}
    exec(aggregate.kernel("r", "c", "n"), scope)
    assert Fraction(scope["r"], scope["rd"]) == aggregate.implementation(values)


@pytest.mark.parametrize(
    "name, args",
    [
        ("min", [Fraction(1, 3), Fraction(-2), Fraction(7, 2)]),
        ("max", [Fraction(1, 3), Fraction(-2), Fraction(7, 2)]),
        ("clamp", [Fraction(7, 2), Fraction(0), Fraction(3)]),
        ("abs", [Fraction(-7, 2)]),
        ("floor", [Fraction(-7, 2)]),
        ("ceil", [Fraction(-7, 2)]),
    ],
)
def test_a_function_emission_computes_what_its_implementation_does(name, args):
    scope: dict = {}
    code = FUNCTIONS[name].kernel("r", *[(str(a.numerator), str(a.denominator)) for a in args])
    exec(code, scope)
    assert Fraction(scope["r"], scope["rd"]) == FUNCTIONS[name].implementation(*args)
