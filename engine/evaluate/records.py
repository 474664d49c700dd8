"""Submitted records: the JSON Schema derived from a policy's inputs, validation against it with
every problem at its JSON pointer, and conversion into exact runtime values.

Numbers arrive as text-exact Decimals or ints (never floats: see engine.evaluate.io) and leave here as
Fractions. Absent optional inputs become MISSING (or their declared default), nulls that the
policy declares as 'not applicable' become NOT_APPLICABLE; anything else absent is an error.
"""

from __future__ import annotations

import difflib
import operator
import re
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any

from engine.evaluate.runtime import MISSING, NOT_APPLICABLE, Item, RecordError, pointer
from engine.i18n import N_, _
from engine.numbers import NumberError, read_number, to_decimal
from engine.policy.bounds import MAX_LIST_ITEMS
from engine.policy.functions import TargetRange
from engine.policy.model import InputSpec, PolicyView

#: Longest text value accepted in a record.
MAX_TEXT_LENGTH = 1000
#: Most problems reported for one record; the rest are counted.
MAX_ERRORS = 100
#: Longest record id (a NIP has 18 digits).
MAX_ID_LENGTH = 64
#: Record keys that every policy accepts besides its inputs.
RECORD_META = ("id", "periode")
#: A record's own period (`periode`): a year, a month or a day; it chooses the policy version in force
#: (unless the policy declares an input of that name, which then is the policy's own).
PERIOD_PATTERN = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"


def _is_number(checker: Any, value: object) -> bool:
    return isinstance(value, (int, Decimal, Fraction, float)) and not isinstance(value, bool)


def _is_integer(checker: Any, value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, Decimal):
        return value.is_finite() and value == value.to_integral_value()
    return isinstance(value, Fraction) and value.denominator == 1


@lru_cache(maxsize=1)
def _validator_class() -> Any:
    """jsonschema's validator that takes exact numbers (imported here: only tools use it)."""
    from jsonschema import Draft202012Validator, validators

    return validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator,
        type_checker=Draft202012Validator.TYPE_CHECKER.redefine("number", _is_number).redefine("integer", _is_integer),
    )


def _json_number(value: Fraction) -> int | float | Decimal:
    return int(value) if value.denominator == 1 else Decimal(value.numerator) / Decimal(value.denominator)


def input_schema(policy: PolicyView) -> dict[Any, Any]:
    """The JSON Schema (draft 2020-12) that a record for this policy must satisfy."""
    properties = {
        "id": {
            "type": ["string", "integer"],
            "maxLength": MAX_ID_LENGTH,
            "description": "Echoed back, for example the NIP.",
        },
        "periode": {
            "type": "string",
            "pattern": PERIOD_PATTERN,
            "description": "The period appraised (2023, 2023-07 or 2023-07-15): it chooses the "
            "version of the policy in force.",
        },
    }
    required = []
    for name, spec in policy.inputs.items():
        properties[name] = _spec_schema(spec)
        if spec.required:
            required.append(name)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Record for policy {policy.id}",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _spec_schema(spec: InputSpec) -> dict[Any, Any]:
    schema: dict[Any, Any] = {}
    if spec.description or spec.label:
        schema["description"] = spec.description or spec.label
    kind = spec.type
    if kind in ("number", "integer"):
        schema["type"] = kind
        for key, json_key in (
            ("minimum", "minimum"),
            ("maximum", "maximum"),
            ("exclusive_minimum", "exclusiveMinimum"),
            ("exclusive_maximum", "exclusiveMaximum"),
        ):
            value = getattr(spec, key)
            if value is not None:
                schema[json_key] = _json_number(value)
    elif kind == "text":
        schema["type"] = "string"
        schema["maxLength"] = MAX_TEXT_LENGTH
    elif kind == "boolean":
        schema["type"] = "boolean"
    elif kind == "number_or_range":
        bounds = {
            k: v
            for k, v in _spec_schema(
                InputSpec(
                    spec.name,
                    "number",
                    spec.path,
                    spec.position,
                    minimum=spec.minimum,
                    maximum=spec.maximum,
                    exclusive_minimum=spec.exclusive_minimum,
                    exclusive_maximum=spec.exclusive_maximum,
                )
            ).items()
            if k != "description"
        }
        schema["anyOf"] = [bounds, {"type": "array", "items": bounds, "minItems": 2, "maxItems": 2}]
    elif kind == "list":
        schema["type"] = "array"
        schema["maxItems"] = spec.max_items if spec.max_items is not None else MAX_LIST_ITEMS
        if spec.min_items is not None:
            schema["minItems"] = spec.min_items
        if spec.items is not None:
            schema["items"] = _spec_schema(spec.items)
    elif kind == "record":
        schema["type"] = "object"
        schema["properties"] = {name: _spec_schema(field) for name, field in spec.fields.items()}
        schema["required"] = [name for name, field in spec.fields.items() if field.required]
        schema["additionalProperties"] = False
    if spec.enum is not None:
        schema["enum"] = [_json_number(v) if isinstance(v, Fraction) else v for v in spec.enum]
    if spec.null == "not_applicable":
        schema = {"anyOf": [schema, {"type": "null"}]}
    return schema


class RecordReader:
    """Validates and converts records for one policy, in one pass.

    The rules are those of `input_schema(policy)`, the published contract; they are compiled
    once into closures because a general JSON Schema validator costs more than the evaluation
    itself. tests/test_records.py checks that both accept and reject the same records.
    """

    def __init__(self, policy: PolicyView):
        self.policy = policy
        self.schema = input_schema(policy)
        self._read_record = _record_reader(list(policy.inputs.values()), None, top_level=True)

    def read(self, record: object) -> tuple[dict[str, Any] | None, list[RecordError]]:
        """(runtime inputs, []) for a valid record, or (None, every problem found)."""
        if not isinstance(record, dict):
            return None, [RecordError("", "type", _("a record must be a JSON object, got {got}", got=_got(record)))]
        # No size pre-check is needed: every list is measured before its items are read, text
        # before it is kept, and fields the policy does not declare are reported, never walked.
        problems: list[RecordError] = []
        item = self._read_record(record, "", problems)
        if problems:
            problems.sort(key=lambda e: e.path)
            if len(problems) > MAX_ERRORS:
                more = len(problems) - MAX_ERRORS
                problems = problems[:MAX_ERRORS] + [
                    RecordError("", "too_many_errors", _("and {count} more problems", count=f"{more:,}"))
                ]
            return None, problems
        assert isinstance(item, Item)  # the top-level reader gives an Item when nothing is wrong
        return item.fields, []


def schema_validator(policy: PolicyView) -> Any:
    """A jsonschema validator of the derived schema (exact numbers accepted), for tools and tests."""
    return _validator_class()(input_schema(policy))


_ABSENT = object()
Reader = Callable[[Any, str, list[RecordError]], Any]


def _reader(spec: InputSpec, item_of: str | None = None) -> Reader:
    """A closure that validates one value of this spec and returns its runtime form."""
    kind = spec.type
    if kind in ("number", "integer"):
        read = _number_reader(spec, kind == "integer")
    elif kind == "text":
        read = _text_reader(spec)
    elif kind == "boolean":

        def read(value: Any, path: str, problems: list[RecordError]) -> Any:
            if not isinstance(value, bool):
                problems.append(RecordError(path, "type", _("must be true or false, got {got}", got=_got(value))))
            return value
    elif kind == "number_or_range":
        read = _target_reader(spec)
    elif kind == "list":
        read = _list_reader(spec)
    elif kind == "record":
        read = _record_reader(list(spec.fields.values()), item_of)
    else:
        raise ValueError(f"unknown input type {kind}")
    if spec.null != "not_applicable":
        return read
    strict = read

    def nullable(value: Any, path: str, problems: list[RecordError]) -> Any:
        return NOT_APPLICABLE if value is None else strict(value, path, problems)

    return nullable


def _absent(spec: InputSpec) -> Any:
    if spec.has_default:
        return list(spec.default) if isinstance(spec.default, list) else spec.default
    return MISSING


def _record_reader(specs: list[InputSpec], item_of: str | None, top_level: bool = False) -> Reader:
    fields = [(spec.name, pointer("", spec.name), spec.required, _reader(spec), spec) for spec in specs]
    declared = {spec.name for spec in specs}  # a policy's own input of a reserved name is the policy's
    known = [spec.name for spec in specs] + ([k for k in RECORD_META if k not in declared] if top_level else [])
    known_set = set(known)

    def read(value: Any, path: str, problems: list[RecordError]) -> Any:
        if not isinstance(value, dict):
            problems.append(RecordError(path, "type", _("must be an object, got {got}", got=_got(value))))
            return None
        result = {}
        for name, suffix, required, read_field, spec in fields:
            found = value.get(name, _ABSENT)
            where = path + suffix
            if found is _ABSENT:
                if required:
                    problems.append(RecordError(where, "required", _("{name} is required", name=name)))
                result[name] = _absent(spec)
            else:
                result[name] = read_field(found, where, problems)
        for key in value:
            if key not in known_set:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = (
                    _("did you mean '{close}'?", close=close[0])
                    if close
                    else _("known fields: {names}", names=", ".join(known))
                )
                problems.append(
                    RecordError(
                        pointer(path, key),
                        "unknown_field",
                        _("'{key}' is not a field of this record", key=key) + "; " + hint,
                    )
                )
        if top_level and "id" in value:
            record_id = value["id"]
            if isinstance(record_id, bool) or not isinstance(record_id, (str, int)):
                problems.append(
                    RecordError("/id", "type", _("must be text or a whole number, got {got}", got=_got(record_id)))
                )
            elif not 0 < len(str(record_id)) <= MAX_ID_LENGTH or "\x00" in str(record_id):
                problems.append(
                    RecordError(
                        "/id", "too_long", _("an id is 1 to {limit} characters (a NIP is 18)", limit=MAX_ID_LENGTH)
                    )
                )
        if top_level and "periode" in value and "periode" not in declared and not _is_period(value["periode"]):
            problems.append(
                RecordError(
                    "/periode",
                    "pattern",
                    _(
                        "a period is a year (2023), a month (2023-07) or a day (2023-07-15), got {got}",
                        got=_got(value["periode"]),
                    ),
                )
            )
        return Item(result, path, item_of)

    return read


def _is_period(value: object) -> bool:
    """The pattern of the schema, and beyond it a real month and day (not 2023-13 or 2023-02-30)."""
    if not isinstance(value, str) or re.fullmatch(PERIOD_PATTERN, value) is None:
        return False
    from datetime import date

    year, month, day = (int(p) for p in (value + "-01-01")[:10].split("-"))
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _number_reader(spec: InputSpec, integer: bool) -> Reader:
    # Bounds are compared as Decimals with the value as submitted: exact, and much cheaper than
    # comparing Fractions (a bound in a policy is always a terminating decimal).
    checks = [
        (to_decimal(bound), compare, code, template)
        for bound, compare, code, template in (
            (spec.minimum, operator.ge, "minimum", N_("must be at least {v}, got {i}")),
            (spec.maximum, operator.le, "maximum", N_("must be at most {v}, got {i}")),
            (spec.exclusive_minimum, operator.gt, "exclusive_minimum", N_("must be more than {v}, got {i}")),
            (spec.exclusive_maximum, operator.lt, "exclusive_maximum", N_("must be less than {v}, got {i}")),
        )
        if bound is not None
    ]
    allowed = tuple(v for v in spec.enum if isinstance(v, Fraction)) if spec.enum is not None else None
    words = N_("must be a whole number, got {got}") if integer else N_("must be a number, got {got}")

    def read(value: Any, path: str, problems: list[RecordError]) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            problems.append(RecordError(path, "type", _(words, got=_got(value)) + _number_hint(value)))
            return None
        if integer and isinstance(value, Decimal) and not (value.is_finite() and value == value.to_integral_value()):
            problems.append(RecordError(path, "integer", _("must be a whole number, got {got}", got=_got(value))))
            return None
        try:
            number = read_number(value)
        except NumberError as error:
            problems.append(RecordError(path, "number_range", str(error)))
            return None
        for bound, compare, code, template in checks:
            if not compare(value, bound):
                problems.append(RecordError(path, code, _(template, v=bound, i=_got(value))))
        if allowed is not None and number not in allowed:
            problems.append(
                RecordError(
                    path,
                    "enum",
                    _(
                        "must be one of {allowed}, got {got}",
                        allowed=", ".join(_bound(v) for v in allowed),
                        got=_got(value),
                    ),
                )
            )
        return number

    return read


def _text_reader(spec: InputSpec) -> Reader:
    allowed = tuple(v for v in spec.enum if isinstance(v, str)) if spec.enum is not None else None

    def read(value: Any, path: str, problems: list[RecordError]) -> Any:
        if not isinstance(value, str):
            problems.append(RecordError(path, "type", _("must be text, got {got}", got=_got(value))))
            return None
        if len(value) > MAX_TEXT_LENGTH:
            problems.append(
                RecordError(path, "too_long", _("may be at most {limit} characters long", limit=MAX_TEXT_LENGTH))
            )
        elif allowed is not None and value not in allowed:
            close = difflib.get_close_matches(value, allowed, n=1)
            hint = "; " + _("did you mean '{close}'?", close=close[0]) if close else ""
            problems.append(
                RecordError(
                    path,
                    "enum",
                    _("must be one of {allowed}, got {got}", allowed=", ".join(allowed), got=_got(value)) + hint,
                )
            )
        return value

    return read


def _target_reader(spec: InputSpec) -> Reader:
    number = _number_reader(spec, False)

    def read(value: Any, path: str, problems: list[RecordError]) -> Any:
        if isinstance(value, list):
            if len(value) != 2:
                problems.append(
                    RecordError(path, "type", _("a range has two numbers [low, high], got {count}", count=len(value)))
                )
                return None
            low, high = number(value[0], pointer(path, 0), problems), number(value[1], pointer(path, 1), problems)
            if isinstance(low, Fraction) and isinstance(high, Fraction) and low > high:
                problems.append(
                    RecordError(
                        path,
                        "range_order",
                        _(
                            "range [{low}, {high}] has its low end above its high end",
                            low=_got(value[0]),
                            high=_got(value[1]),
                        ),
                    )
                )
            return TargetRange((low, high))
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            problems.append(
                RecordError(path, "type", _("must be a number or a range [low, high], got {got}", got=_got(value)))
            )
            return None
        return number(value, path, problems)

    return read


def _list_reader(spec: InputSpec) -> Reader:
    element = _reader(spec.items, spec.name) if spec.items is not None else None
    low = spec.min_items
    high = spec.max_items if spec.max_items is not None else MAX_LIST_ITEMS

    def read(value: Any, path: str, problems: list[RecordError]) -> Any:
        if not isinstance(value, list):
            problems.append(RecordError(path, "type", _("must be a list, got {got}", got=_got(value))))
            return None
        if len(value) > high:
            problems.append(
                RecordError(
                    path, "max_items", _("may have at most {limit} items, has {count}", limit=high, count=len(value))
                )
            )
            return None  # its items are not read one by one
        if low is not None and len(value) < low:
            problems.append(
                RecordError(
                    path, "min_items", _("must have at least {limit} item(s), has {count}", limit=low, count=len(value))
                )
            )
        if element is None:
            return list(value)
        return [element(item, f"{path}/{index}", problems) for index, item in enumerate(value)]

    return read


def _number_hint(value: object) -> str:
    """Numbers typed as spreadsheets show them: '3.000.000' or '87,5'."""
    if isinstance(value, str):
        if re.fullmatch(r"\d{1,3}([.,]\d{3})+", value.strip()):
            return "; " + _(
                "write {number} without thousands separators, as a number", number=re.sub(r"[.,]", "", value.strip())
            )
        if re.fullmatch(r"-?\d+,\d+", value.strip()):
            return "; " + _(
                "write {number} with '.' as the decimal mark, as a number", number=value.strip().replace(",", ".")
            )
        if re.fullmatch(r"-?\d+(\.\d+)?", value.strip()):
            return "; " + _("write {number} without quotes", number=value.strip())
    return ""


def _bound(value: Fraction) -> str:
    return str(_json_number(value))


def _got(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f'"{value[:40]}"' + ("…" if len(value) > 40 else "")
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, float):  # only from Python callers: JSON is decoded to Decimal
        return _(
            "the binary float {value} (pass Decimal or int; engine.evaluate.io.decode_json reads JSON exactly)",
            value=repr(value),
        )
    words: dict[type, str] = {dict: _("an object"), list: _("a list")}
    return words.get(type(value), type(value).__name__)
