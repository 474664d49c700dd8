"""The compiled record reader enforces exactly the published, derived JSON Schema.

Records are generated from each built-in policy's input declarations, then mutated (wrong
types, nulls, missing and unknown fields, out-of-range numbers); jsonschema and the reader must
agree on accepting or rejecting each one, and on where the problems are.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import api
from engine.evaluate.records import schema_validator

POLICIES = ["pp-46-2011", "pp-30-2019", "permenpanrb-6-2022"]
WRONG = st.sampled_from(["teks", True, None, [], {}, Decimal("-1"), 0, Decimal("1e3")])


def value_for(spec, depth=0):
    """A strategy for values of an input spec: mostly valid, sometimes wrong."""
    kind = spec.type
    if kind in ("number", "integer"):
        if spec.enum:
            good = st.sampled_from([int(v) for v in spec.enum])
        elif kind == "integer":
            good = st.integers(-2, 30)
        else:
            good = st.one_of(st.integers(-5, 130), st.decimals(Decimal("-5"), Decimal("130"), places=2))
    elif kind == "text":
        good = st.sampled_from(list(spec.enum)) if spec.enum else st.text(max_size=5)
    elif kind == "boolean":
        good = st.booleans()
    elif kind == "number_or_range":
        number = st.one_of(st.integers(-1, 50), st.decimals(Decimal("0"), Decimal("50"), places=2))
        good = st.one_of(number, st.lists(number, min_size=2, max_size=2), st.lists(number, min_size=1, max_size=3))
    elif kind == "list":
        good = st.lists(value_for(spec.items, depth + 1), min_size=0, max_size=3)
    elif kind == "record":
        good = record_for(spec.fields, depth + 1)
    else:
        raise AssertionError(kind)
    return st.one_of(good, good, good, WRONG)


def record_for(fields: dict, depth=0):
    @st.composite
    def build(draw):
        record = {}
        for name, spec in fields.items():
            if draw(st.integers(0, 9)) > 0:  # sometimes leave a field out
                record[name] = draw(value_for(spec, depth))
        if draw(st.integers(0, 14)) == 0:
            record["kolom_asing"] = 1
        return record

    return build()


@pytest.mark.parametrize("policy_id", POLICIES)
def test_reader_agrees_with_the_published_schema(policy_id):
    loaded = api.load(policy_id)
    validator = schema_validator(loaded.policy)

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(record_for(loaded.policy.inputs))
    def check(record):
        schema_errors = list(validator.iter_errors(record))
        inputs, reader_errors = loaded.reader.read(record)
        # Beyond what JSON Schema can say, the reader also refuses a range whose low end is
        # above its high end; such records are compared on the schema's part only.
        reader_errors = [e for e in reader_errors if e.code != "range_order"]
        assert (not schema_errors) == (not reader_errors), (record, schema_errors, reader_errors)
        if not schema_errors:
            assert inputs is not None or all(e.code == "range_order" for e in loaded.reader.read(record)[1])
        reader_paths = [e.path for e in reader_errors]
        for error in schema_errors:
            where = "".join(f"/{p}" for p in error.absolute_path)
            assert any(
                p == where or p.startswith(where + "/") or where.startswith(p + "/") or p.startswith(where)
                for p in reader_paths
            ), (where, reader_paths)

    check()


def test_reader_also_refuses_numbers_the_schema_cannot_bound():
    """Beyond the schema, the reader enforces the engine's number limits (1e999 is not a score)."""
    loaded = api.load("pp-30-2019")
    record = {"iki": [{"target": Decimal("1e999"), "realisasi": 5}], "nilai_perilaku": 80}
    inputs, errors = loaded.reader.read(record)
    assert inputs is None
    assert [(e.path, e.code) for e in errors] == [("/iki/0/target", "number_range")]
