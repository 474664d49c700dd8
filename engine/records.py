"""Submitted records: the JSON Schema derived from a policy's inputs, validation against it with
every problem at its JSON pointer, and conversion into exact runtime values.

Numbers arrive as text-exact Decimals or ints (never floats: see engine.io) and leave here as
Fractions. Absent optional inputs become MISSING (or their declared default), nulls that the
policy declares as 'not applicable' become NOT_APPLICABLE; anything else absent is an error.
"""
from __future__ import annotations

import difflib
from decimal import Decimal
from fractions import Fraction

from jsonschema import Draft202012Validator, validators

from .model import InputSpec, Policy
from .numbers import NumberError, from_decimal, from_int
from .runtime import MISSING, NOT_APPLICABLE, Item, RecordError, TargetRange, pointer

#: Most items a list input may hold unless the policy says fewer.
MAX_LIST_ITEMS = 1000
#: Longest text value accepted in a record.
MAX_TEXT_LENGTH = 1000
#: Most JSON values (objects, arrays, scalars) in one record; beyond it nothing is validated.
MAX_RECORD_NODES = 100_000
#: Record keys that every policy accepts besides its inputs.
RECORD_META = ("id",)


def _is_number(checker, value) -> bool:
    return isinstance(value, (int, Decimal, Fraction, float)) and not isinstance(value, bool)


def _is_integer(checker, value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, Decimal):
        return value.is_finite() and value == value.to_integral_value()
    return isinstance(value, Fraction) and value.denominator == 1


_Validator = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("number", _is_number).redefine("integer", _is_integer),
)


def _json_number(value: Fraction):
    return int(value) if value.denominator == 1 else Decimal(value.numerator) / Decimal(value.denominator)


def input_schema(policy: Policy) -> dict:
    """The JSON Schema (draft 2020-12) that a record for this policy must satisfy."""
    properties = {"id": {"type": ["string", "integer"], "description": "Echoed back, for example the NIP."}}
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


def _spec_schema(spec: InputSpec) -> dict:
    schema: dict = {}
    if spec.description or spec.label:
        schema["description"] = spec.description or spec.label
    kind = spec.type
    if kind in ("number", "integer"):
        schema["type"] = kind
        for key, json_key in (("minimum", "minimum"), ("maximum", "maximum"),
                              ("exclusive_minimum", "exclusiveMinimum"), ("exclusive_maximum", "exclusiveMaximum")):
            value = getattr(spec, key)
            if value is not None:
                schema[json_key] = _json_number(value)
    elif kind == "text":
        schema["type"] = "string"
        schema["maxLength"] = MAX_TEXT_LENGTH
    elif kind == "boolean":
        schema["type"] = "boolean"
    elif kind == "number_or_range":
        bounds = {k: v for k, v in _spec_schema(InputSpec(spec.name, "number", spec.path, spec.position,
                                                          minimum=spec.minimum, maximum=spec.maximum,
                                                          exclusive_minimum=spec.exclusive_minimum,
                                                          exclusive_maximum=spec.exclusive_maximum)).items()
                  if k != "description"}
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
    """Validates and converts records for one policy."""

    def __init__(self, policy: Policy):
        self.policy = policy
        self.schema = input_schema(policy)
        self.validator = _Validator(self.schema)

    def read(self, record) -> tuple[dict | None, list[RecordError]]:
        """(runtime inputs, []) for a valid record, or (None, every problem found)."""
        if not isinstance(record, dict):
            return None, [RecordError("", "type", "a record must be a JSON object")]
        if _too_large(record):
            return None, [RecordError("", "too_large", f"the record holds more than {MAX_RECORD_NODES:,} values")]
        errors = sorted((_to_record_error(e) for e in self.validator.iter_errors(record)), key=lambda e: e.path)
        errors = [e for group in errors for e in (group if isinstance(group, list) else [group])]
        if errors:
            return None, _unique(errors)
        problems: list[RecordError] = []
        inputs = {}
        for name, spec in self.policy.inputs.items():
            inputs[name] = _convert(spec, record.get(name, _ABSENT), "/" + name, problems)
        return (None, problems) if problems else (inputs, [])


_ABSENT = object()


def _convert(spec: InputSpec, value, path: str, problems: list, item_of: str | None = None):
    """Runtime value of one input; `item_of` names the list input whose element this is."""
    if value is _ABSENT:
        return _default(spec) if spec.has_default else MISSING
    if value is None:
        return NOT_APPLICABLE  # the schema admitted null only where the policy allows it
    kind = spec.type
    if kind in ("number", "integer"):
        return _number(value, path, problems)
    if kind == "number_or_range":
        if isinstance(value, list):
            low, high = _number(value[0], path + "/0", problems), _number(value[1], path + "/1", problems)
            if isinstance(low, Fraction) and isinstance(high, Fraction) and low > high:
                problems.append(RecordError(path, "range_order", f"range [{value[0]}, {value[1]}] has its low end above its high end"))
            return TargetRange((low, high))
        return _number(value, path, problems)
    if kind == "list":
        items = []
        for index, element in enumerate(value):
            items.append(_convert(spec.items, element, pointer(path, index), problems, item_of=spec.name))
        return items
    if kind == "record":
        fields = {name: _convert(field, value.get(name, _ABSENT), pointer(path, name), problems)
                  for name, field in spec.fields.items()}
        return Item(fields, path, item_of)
    return value


def _number(value, path: str, problems: list):
    try:
        if isinstance(value, Decimal):
            return from_decimal(value)
        if isinstance(value, int):
            return from_int(value)
        if isinstance(value, Fraction):
            return value
    except NumberError as error:
        problems.append(RecordError(path, "number_range", str(error)))
        return None
    problems.append(RecordError(path, "type", "must be a number"))
    return None


def _default(spec: InputSpec):
    value = spec.default
    if spec.type == "list" and isinstance(value, list):
        return list(value)
    return value


def _too_large(record) -> bool:
    count, stack = 0, [record]
    while stack:
        value = stack.pop()
        count += 1
        if count > MAX_RECORD_NODES:
            return True
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            if len(value) > MAX_RECORD_NODES:
                return True
            stack.extend(value)
    return False


def _unique(errors: list[RecordError]) -> list[RecordError]:
    seen, result = set(), []
    for e in errors:
        if (e.path, e.code) not in seen:
            seen.add((e.path, e.code))
            result.append(e)
    return result


def _path(error) -> str:
    return "".join(pointer("", p) for p in error.absolute_path)


def _got(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f'"{value[:40]}"' + ("…" if len(value) > 40 else "")
    if isinstance(value, (int, Decimal)):
        return str(value)
    return {dict: "an object", list: "a list"}.get(type(value), type(value).__name__)


_TYPE_WORDS = {"number": "a number", "integer": "a whole number", "string": "text", "boolean": "true or false",
               "array": "a list", "object": "an object", "null": "null"}


def _to_record_error(error):
    path, validator, value = _path(error), error.validator, error.validator_value
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        return RecordError(pointer(path, missing), "required", f"{missing} is required")
    if validator == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        found = []
        for key in extra:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; known fields: {', '.join(allowed)}"
            found.append(RecordError(pointer(path, key), "unknown_field", f"'{key}' is not a field of this record{hint}"))
        return found
    if validator == "type":
        wanted = value if isinstance(value, list) else [value]
        words = " or ".join(_TYPE_WORDS.get(w, w) for w in wanted)
        code = "integer" if wanted == ["integer"] and isinstance(error.instance, Decimal) else "type"
        return RecordError(path, code, f"must be {words}, got {_got(error.instance)}")
    if validator == "enum":
        allowed = ", ".join(str(v) for v in value)
        close = difflib.get_close_matches(str(error.instance), [str(v) for v in value], n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return RecordError(path, "enum", f"must be one of {allowed}, got {_got(error.instance)}{hint}")
    words = {
        "minimum": ("minimum", "must be at least {v}, got {i}"),
        "maximum": ("maximum", "must be at most {v}, got {i}"),
        "exclusiveMinimum": ("exclusive_minimum", "must be more than {v}, got {i}"),
        "exclusiveMaximum": ("exclusive_maximum", "must be less than {v}, got {i}"),
        "minItems": ("min_items", "must have at least {v} item(s), has {n}"),
        "maxItems": ("max_items", "may have at most {v} items, has {n}"),
        "maxLength": ("too_long", "may be at most {v} characters long"),
    }.get(str(validator))
    if words is not None:
        code, template = words
        size = len(error.instance) if isinstance(error.instance, (list, str)) else 0
        return RecordError(path, code, template.format(v=value, i=_got(error.instance), n=size))
    if validator == "anyOf":
        return RecordError(path, "type", f"must be a number or a range [low, high], got {_got(error.instance)}")
    return RecordError(path, str(validator), error.message)
