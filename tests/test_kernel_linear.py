"""The fast kernel's code is linear in the policy's size (issue 10, item 1): each named value's code
is written at most twice (in place where first needed, and as its function), never once per branch.

Each family below grows a policy; doubling it must roughly double the generated source, never
square it. Before the kernel was a package, a 20-level `if` chain over a value doubled the kernel
per level and hit MAX_GENERATED (the policy then ran on the exact evaluator only).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from engine import api
from engine.evaluate.io import decode_json, encode
from engine.evaluate.kernel import MAX_SOURCE, FastPolicy, decode_pairs, generate

#: Doubling a policy may at most multiply its generated source by this much.
RATIO = 2.3


def if_chain(size: int) -> dict:
    """v_k is `if a > k then v_(k-1) + b else v_(k-1) - b`: each level reads the one below in both branches."""
    values: dict = {"v0": {"formula": "a + b"}}
    for k in range(1, size + 1):
        values[f"v{k}"] = {"formula": f"if a > {k} then v{k - 1} + b else v{k - 1} - b"}
    return {
        "kinerja": 1,
        "id": "rantai",
        "inputs": {
            "a": {"type": "number", "minimum": 0, "maximum": 100},
            "b": {"type": "number", "minimum": 0, "maximum": 100},
        },
        "values": values,
        "outputs": {f"v{size}": {"round": {"places": 2, "mode": "half_up"}}},
    }


def shared_value(size: int) -> dict:
    """One costly value read, under a condition, by every other value and by a table."""
    values: dict = {"dasar": {"formula": "capaian(a, b) * 2 + min(a, b) / (b + 1) - max(a, 3)"}}
    for k in range(1, size + 1):
        values[f"w{k}"] = {"formula": f"if a > {k} then dasar + {k} else dasar - {k}"}
    values["label"] = {
        "table": {
            "on": "dasar",
            "hit": "unique",
            "rows": [{"when": "> 100", "then": "tinggi"}, {"when": "<= 100", "then": "rendah"}],
        }
    }
    outputs: dict = {f"w{k}": {} for k in range(1, size + 1)}
    outputs["label"] = {}
    return {
        "kinerja": 1,
        "id": "bersama",
        "inputs": {
            "a": {"type": "number", "minimum": 0, "maximum": 100},
            "b": {"type": "number", "exclusive_minimum": 0, "maximum": 100},
        },
        "values": values,
        "outputs": outputs,
    }


def nested_aggregates(size: int) -> dict:
    """Item values in a chain, each read by an aggregate nested in another, over a list."""
    items: dict = {"x0": {"formula": "nilai + 1"}}
    for k in range(1, size + 1):
        items[f"x{k}"] = {"formula": f"if nilai > {k} then x{k - 1} + 1 else x{k - 1} * 2"}
    values: dict = {}
    for k in range(1, size + 1):
        values[f"s{k}"] = {
            "formula": f"sum(k.x{k} + count(j for j in kegiatan if j.x{k} > k.x{k - 1}) "
            f"for k in kegiatan if k.nilai > {k})"
        }
    return {
        "kinerja": 1,
        "id": "bersarang",
        "inputs": {
            "kegiatan": {
                "type": "list",
                "min_items": 1,
                "max_items": 20,
                "items": {"type": "record", "fields": {"nilai": {"type": "number", "minimum": 0, "maximum": 100}}},
            }
        },
        "item_values": {"kegiatan": items},
        "values": values,
        "outputs": {f"s{k}": {} for k in range(1, size + 1)},
    }


FAMILIES: dict[str, tuple[Callable[[int], dict], list[dict]]] = {
    "if_chain": (if_chain, [{"a": 7, "b": Decimal("2.5")}, {"a": 0, "b": 0}, {"a": 100, "b": Decimal("0.01")}]),
    "shared_value": (shared_value, [{"a": 7, "b": Decimal("2.5")}, {"a": 100, "b": Decimal("0.5")}]),
    "nested_aggregates": (
        nested_aggregates,
        [{"kegiatan": [{"nilai": 3}, {"nilai": Decimal("7.5")}, {"nilai": 30}]}, {"kegiatan": [{"nilai": 0}]}],
    ),
}


def _source_size(write_policy: Callable[..., Path], document: dict, name: str) -> int:
    policy = api.load(write_policy(document, name))
    text, _ = generate(policy.policy)
    return len(text)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_generated_source_grows_linearly_with_the_policy(write_policy, family):
    build, _ = FAMILIES[family]
    sizes = {size: _source_size(write_policy, build(size), f"{family}-{size}.yaml") for size in (5, 10, 20, 40)}
    for size in (5, 10, 20):
        assert sizes[2 * size] <= RATIO * sizes[size], f"{family}: {sizes}"
    assert sizes[40] < MAX_SOURCE / 2, f"{family}: {sizes}"


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_grown_policies_run_on_the_kernel_and_agree_with_the_exact_evaluator(write_policy, family):
    build, records = FAMILIES[family]
    loaded = api.load(write_policy(build(20), f"{family}.yaml"))
    kernel = FastPolicy(loaded)
    assert kernel.reason is None and kernel.kernel is not None
    for record in records:
        raw = encode(record)
        decoded = decode_json(raw)
        assert kernel.try_fast(decode_pairs(raw)) is not None, json.dumps(record, default=str)
        assert encode(loaded.result(decoded, decode_pairs(raw))) == encode(api.evaluate(loaded, decoded))
