"""The example data shipped in examples/: good files evaluate cleanly, bad files fail with
located errors, and regional data (with a units file) is large and varied enough to show
every predikat and to exercise the kurva distribusi."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import api
from engine.diagnostics import Diagnostics
from engine.evaluate.io import read_records
from engine.policy.document import available
from engine.review.distribution import read_units

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
POLICIES = set(available())
GOOD = sorted(p for p in EXAMPLES.glob("*.jsonl") if p.stem in POLICIES)
BAD = sorted(p for p in EXAMPLES.glob("*-bad.jsonl") if p.stem[:-4] in POLICIES)
REGIONAL = sorted(p.stem for p in GOOD if (EXAMPLES / f"{p.stem}-units.yaml").exists())


def results(policy_id: str, path: Path) -> list[dict]:
    loaded = api.load(policy_id)
    with path.open("rb") as stream:
        return [
            api.evaluate(loaded, incoming.record)
            if incoming.error is None
            else {"errors": [incoming.error], "line": incoming.line}
            for incoming in read_records(stream, "jsonl", loaded.policy)
        ]


@pytest.mark.parametrize("path", GOOD, ids=[p.name for p in GOOD])
def test_good_example_records_all_evaluate(path):
    evaluated = results(path.stem, path)
    assert evaluated
    assert [r["errors"] for r in evaluated if "errors" in r] == []


@pytest.mark.parametrize("path", BAD, ids=[p.name for p in BAD])
def test_bad_example_records_are_each_located(path):
    evaluated = results(path.stem[:-4], path)
    bad = [r for r in evaluated if "errors" in r]
    assert len(bad) >= 5
    for result in bad:
        for error in result["errors"]:
            assert error["path"] == "" and error["code"] in ("json", "type") or error["path"].startswith("/")
            assert error["message"]


@pytest.mark.parametrize("policy_id", REGIONAL)
def test_regional_example_data_shows_every_predikat_and_belongs_to_units(policy_id):
    loaded = api.load(policy_id)
    evaluated = results(policy_id, EXAMPLES / f"{policy_id}.jsonl")
    assert len(evaluated) >= 300
    seen = {r["outputs"]["predikat"] for r in evaluated}
    assert seen == set(loaded.policy.outputs["predikat"].labels)
    problems = Diagnostics()
    units = read_units(EXAMPLES / f"{policy_id}-units.yaml", problems)
    assert not problems, [d.render() for d in problems.items]
    members = [m for unit in units for m in unit.members]
    assert sorted(members) == sorted(str(r["id"]) for r in evaluated)
    assert len({unit.attributes.get("predikat") for unit in units}) >= 2
