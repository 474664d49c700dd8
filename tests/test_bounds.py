"""Cost and magnitude are known before anything runs (issue 10, item 1): a policy whose values can
grow past the named limits, or whose records can cost too many steps, is refused by `kinerja check`
at its line with the chain that causes it; what is accepted evaluates in milliseconds."""

from __future__ import annotations

import time
from decimal import Decimal
from fractions import Fraction

import pytest


@pytest.fixture(autouse=True)
def english(monkeypatch):
    monkeypatch.setenv("KINERJA_LANG", "en")


from engine import api
from engine.numbers import RoundingMode, round_to
from engine.policy.bounds import MAX_MAGNITUDE_DIGITS, MAX_RECORD_STEPS


def squaring_chain(length: int) -> str:
    values = "\n".join(f"  v{k}: v{k - 1} * v{k - 1}" for k in range(1, length + 1))
    return (
        f"kinerja: 1\nid: kuadrat\ninputs:\n  v0: {{type: number, minimum: 0, maximum: 1000000}}\n"
        f"values:\n{values}\noutputs:\n  v{length}: {{}}\n"
    )


def if_chain(length: int) -> str:
    values = "\n".join(
        f"  v{k}: if v{k - 1} > {k} then v{k - 1} * 2 - {k} else v{k - 1} + {k} / 3" for k in range(1, length + 1)
    )
    return (
        f"kinerja: 1\nid: bercabang\ninputs:\n  v0: {{type: number, minimum: 0, maximum: 100}}\n"
        f'values:\n{values}\noutputs:\n  hasil: {{value: "round(v{length}, 2)"}}\n'
    )


def nested_aggregate(items: int) -> str:
    return (
        f"kinerja: 1\nid: bersarang\ninputs:\n"
        f"  kegiatan:\n    type: list\n    max_items: {items}\n    items:\n      type: record\n      fields:\n        nilai: {{type: number, minimum: 0, maximum: 100}}\n"
        f"values:\n  total: sum(sum(sum(c.nilai for c in kegiatan) for b in kegiatan) for a in kegiatan)\n"
        f"outputs:\n  total: {{}}\n"
    )


def test_a_squaring_chain_is_refused_at_the_value_that_passes_the_limit(write_policy, run_cli):
    path = write_policy(squaring_chain(20))
    code, out, _ = run_cli("check", path)
    assert code == 1
    lines = [line for line in out.splitlines() if ": bound." in line]
    assert len(lines) == 1, out  # the values after it only echo it
    # v0 has at most 7 digits and 30 places, so v_k at most 7 x 2^k and 30 x 2^k: written out, v7
    # is the first that can pass 4,000 digits; it is on line 5 + 7
    assert lines[0].startswith(f"{path}:12:3: bound.size: 'v7' can reach 10^")
    assert "v7 = v6 * v6; v6 = v5 * v5; v5 = v4 * v4" in lines[0]


def test_a_short_squaring_chain_is_accepted_and_evaluates_at_once(write_policy):
    loaded = api.load(write_policy(squaring_chain(6)))
    began = time.perf_counter()
    result = api.evaluate(loaded, {"v0": Decimal("999999.5")})
    elapsed = time.perf_counter() - began
    assert result["outputs"]["v6"] == round_to(Fraction("999999.5") ** 64, 2, RoundingMode.HALF_UP)
    print(f"squaring chain of 6: {elapsed * 1000:.1f} ms")


def test_a_twenty_level_if_chain_checks_and_evaluates_in_milliseconds(write_policy, run_cli):
    path = write_policy(if_chain(20))
    began = time.perf_counter()
    loaded = api.load(path)
    checked = time.perf_counter() - began
    began = time.perf_counter()
    for value in (0, 7, 55, 100):
        assert "outputs" in api.evaluate(loaded, {"v0": Decimal(value)})
        assert "outputs" in loaded.result({"v0": Decimal(value)})
    evaluated = (time.perf_counter() - began) / 8
    print(f"20-level if chain: check {checked * 1000:.0f} ms, evaluation {evaluated * 1000:.2f} ms")
    assert checked < 5 and evaluated < 0.5  # generous: the point is no exponential blow-up


def test_a_twenty_level_nested_if_in_one_formula_is_cheap(write_policy):
    formula = " ".join(f"if x > {k} then x / {k + 1} else" for k in range(20, 0, -1)) + " 0"
    text = (
        "kinerja: 1\nid: bersarang\ninputs:\n  x: {type: number, minimum: 0, maximum: 100}\n"
        f'values:\n  hasil: "{formula}"\noutputs:\n  hasil: {{}}\n'
    )
    began = time.perf_counter()
    loaded = api.load(write_policy(text))
    assert loaded.result({"x": Decimal(10)})["outputs"]["hasil"] == api.evaluate(loaded, {"x": 10})["outputs"]["hasil"]
    assert time.perf_counter() - began < 10


def test_a_triple_nested_aggregate_over_a_thousand_items_is_refused(write_policy, run_cli):
    path = write_policy(nested_aggregate(1000))
    code, out, _ = run_cli("check", path)
    assert code == 1
    assert f"{path}:12:3: bound.cost: one record can cost 3,00" in out
    assert f"over the limit of {MAX_RECORD_STEPS:,}" in out


def test_a_nested_aggregate_over_short_lists_is_accepted(write_policy):
    loaded = api.load(write_policy(nested_aggregate(20)))
    record = {"kegiatan": [{"nilai": Decimal(k)} for k in range(20)]}
    began = time.perf_counter()
    assert api.evaluate(loaded, record)["outputs"]["total"] == 20 * 20 * sum(range(20))
    print(f"triple aggregate over 20 items: {(time.perf_counter() - began) * 1000:.1f} ms")


def test_the_magnitude_limit_keeps_every_value_writable(write_policy):
    """A value just under the limit is written as text (JSON, explanation) without Python's
    4,300-digit conversion error."""
    loaded = api.load(write_policy(squaring_chain(6)))  # v6: at most 7 x 64 digits and 30 x 64 places
    assert MAX_MAGNITUDE_DIGITS >= (7 + 30) * 2**6
    from engine.evaluate.io import encode
    from engine.review.explain import explain

    record = {"v0": Decimal("0.123456789012345678901234567891")}  # 30 places, all significant
    result = api.evaluate(loaded, record, trace=True)
    assert len(encode(result["values"])) > 1900  # v6 has 1,920 places, written digit for digit
    assert explain(result.pop("trace"))
    assert len(encode(loaded.result(record)["values"])) > 1900


def test_the_bundled_policies_stay_within_the_bounds(run_cli):
    assert run_cli("check")[0] == 0


def test_a_chain_of_values_used_inside_branches_compiles_in_bounded_time(write_policy):
    """Each value is read in both branches of the next: the kernel's generator, which computes a
    value in each branch that first needs it, doubled its output per level (26 s at 16 levels,
    minutes at 20). It now stops after linear work and the exact evaluator answers."""
    values = "\n".join(f"  v{k}: if x > {k} then v{k - 1} + 1 else v{k - 1} - 1" for k in range(1, 21))
    text = (
        f"kinerja: 1\nid: rantai\ninputs:\n  x: {{type: number, minimum: 0, maximum: 100}}\n"
        f"values:\n  v0: x * 2\n{values}\noutputs:\n  v20: {{}}\n"
    )
    loaded = api.load(write_policy(text))
    began = time.perf_counter()
    api.fast(loaded)  # the kernel, generated once
    compiled = time.perf_counter() - began
    began = time.perf_counter()
    result = loaded.result({"x": Decimal("7.5")})
    evaluated = time.perf_counter() - began
    print(f"20-level branch chain: kernel generation {compiled * 1000:.0f} ms, evaluation {evaluated * 1000:.2f} ms")
    assert result["outputs"]["v20"] == api.evaluate(loaded, {"x": Decimal("7.5")})["outputs"]["v20"] == 15 + 7 - 13
    assert compiled < 10
