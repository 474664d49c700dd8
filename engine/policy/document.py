"""Finding a policy, reading it, merging its `extends` chain and validating it against the schema.

Merge rules (docs/policy-format.md, "extends"):
1. Mappings merge key by key, recursively: a child changes one weight or one threshold by
   writing just that key.
2. Lists and single values in the child replace the parent's whole (table rows, legal_basis).
3. A key set to null (`~`) in the child removes the parent's entry.
4. `id`, `extends`, `tests` and the validity (`berlaku_mulai`, `berlaku_sampai`) are never
   inherited: every policy tests itself, and each version is in force for the dates it states.
Every merged node keeps the file and line it came from, so a diagnostic on an inherited rule
points into the parent's file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from engine.diagnostics import Diagnostic, Diagnostics, PolicyError, Position
from engine.i18n import N_, _
from engine.policy import source
from engine.policy.source import SourceMap

if TYPE_CHECKING:
    import jsonschema
    from jsonschema import Draft202012Validator

#: Longest chain of `extends`.
MAX_EXTENDS_DEPTH = 8
NOT_INHERITED = ("id", "extends", "tests", "berlaku_mulai", "berlaku_sampai")


@dataclass
class PolicyDocument:
    """A policy's merged data, where each part came from, and its content hash."""

    data: dict[str, Any]
    sources: SourceMap
    file: str
    chain: list[str] = field(default_factory=list)  # ids from this policy up to the root
    hash: str = ""


def bundled_dir() -> Path:
    """The built-in policies: `policies/` beside the package in a checkout, or inside the wheel."""
    checkout = Path(__file__).resolve().parents[2] / "policies"
    if checkout.is_dir():
        return checkout
    return Path(str(resources.files("engine").joinpath("policies")))


def search_dirs(extra: list[Path] | None = None) -> list[Path]:
    dirs = list(extra or [])
    for entry in os.environ.get("KINERJA_POLICY_PATH", "").split(os.pathsep):
        if entry:
            dirs.append(Path(entry))
    dirs.append(bundled_dir())
    return dirs


def available(extra: list[Path] | None = None) -> dict[str, Path]:
    """Policy id -> file, the first directory on the search path winning."""
    found: dict[str, Path] = {}
    for directory in search_dirs(extra):
        if directory.is_dir():
            for path in sorted(directory.glob("*.yaml")):
                found.setdefault(path.stem, path)
    return found


def resolve(target: str, extra: list[Path] | None = None) -> Path:
    """A policy id or a file path -> the file."""
    path = Path(target)
    if target.endswith((".yaml", ".yml")) or os.sep in target or path.is_file():
        return path
    files = available(extra)
    if target in files:
        return _relative(files[target])
    import difflib

    close = difflib.get_close_matches(target, list(files), n=1)
    hint = _("did you mean '{close}'?", close=close[0]) if close else _("run 'kinerja policies' to list them")
    raise PolicyError([_diag(Position(target), "policy.unknown", _("no policy with id '{id}'", id=target), hint)])


def _relative(path: Path) -> Path:
    """Shown relative to the working directory when it lies below it (shorter messages)."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


@lru_cache(maxsize=1)
def _schema_validator() -> Draft202012Validator:
    """jsonschema, imported only to word the errors of a policy found invalid (a tenth of a
    second of every command's start otherwise)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(policy_schema(), format_checker=None)


@lru_cache(maxsize=1)
def _schema_check() -> Any:
    """A compiled validator that only answers "valid or not", in microseconds, or None.

    jsonschema walks a 4,000-value policy in half a second; jsonschema-rs says "valid" in a few
    milliseconds. Only jsonschema's errors are shown (their paths and wording are the contract),
    so a policy jsonschema-rs finds invalid, or any doubt, is validated again by jsonschema."""
    try:
        import jsonschema_rs

        return jsonschema_rs.Draft202012Validator(policy_schema(), validate_formats=False)
    except Exception:  # not installed, or a schema it cannot compile: jsonschema alone
        return None


@lru_cache(maxsize=1)
def policy_schema() -> dict[str, Any]:
    text = resources.files("engine").joinpath("schemas/policy.schema.json").read_text("utf-8")
    return cast("dict[str, Any]", json.loads(text))  # the schema file holds an object


def read_document(
    path: Path, diagnostics: Diagnostics, extra: list[Path] | None = None, extends_ids_only: bool = False
) -> PolicyDocument | None:
    """Read a policy file and its parents, merge them, and validate the result against the schema.

    The schema applies to the merged policy, not to each file: a child that changes one weight
    is not a complete policy on its own, and need not be. With `extends_ids_only` (text sent to
    the service), `extends` names a built-in policy by id and never a file on the server.
    """
    extra = list(extra or []) if extends_ids_only else list(extra or []) + [path.parent]
    doc = _read(path, diagnostics, extra, [], extends_ids_only)
    if doc is not None:
        _validate_schema(doc.data, doc.sources, doc.file, diagnostics)
    return doc


def _read(
    path: Path, diagnostics: Diagnostics, extra: list[Path], seen: list[str], extends_ids_only: bool = False
) -> PolicyDocument | None:
    file = str(path)
    try:
        if not path.is_file():  # a device such as /dev/zero reports size 0 and never ends
            diagnostics.add(Position(file), "policy.read", _("not a policy file (a regular file is needed)"))
            return None
        size = path.stat().st_size
        if size > source.MAX_POLICY_BYTES:
            diagnostics.add(
                Position(file, 1, 1),
                "yaml.too_large",
                _(
                    "policy file is {size} bytes; the limit is {limit}",
                    size=f"{size:,}",
                    limit=f"{source.MAX_POLICY_BYTES:,}",
                ),
                _("a policy is a few kilobytes of YAML; check that this is the right file"),
            )
            return None
        raw = path.read_bytes()
    except OSError as error:
        diagnostics.add(Position(file), "policy.read", _("cannot read the file: {reason}", reason=error.strerror))
        return None
    data, sources = source.load(raw, file, diagnostics)
    if data is None:
        return None
    if not isinstance(data, dict):
        diagnostics.add(Position(file, 1, 1), "schema.type", _("a policy must be a mapping of keys to values"))
        return None
    doc = PolicyDocument(data, sources, file, [str(data.get("id", path.stem))])
    parent_id = data.get("extends")
    if isinstance(parent_id, str):
        position = sources.position(("extends",), file)
        if parent_id in seen or parent_id == data.get("id"):
            diagnostics.add(
                position,
                "extends.cycle",
                _("'{id}' extends itself through {chain}", id=parent_id, chain=" -> ".join(seen)),
            )
            return doc
        if len(seen) >= MAX_EXTENDS_DEPTH:
            diagnostics.add(
                position, "extends.depth", _("more than {limit} levels of extends", limit=MAX_EXTENDS_DEPTH)
            )
            return doc
        if extends_ids_only and parent_id not in available(extra):
            diagnostics.add(
                position,
                "extends.unknown",
                _("no built-in policy with id '{id}' to extend", id=parent_id),
                _("here `extends` names a built-in policy by its id"),
            )
            return doc
        try:
            parent_path = resolve(parent_id, extra)
        except PolicyError:
            files = available(extra)
            import difflib

            close = difflib.get_close_matches(parent_id, list(files), n=1)
            diagnostics.add(
                position,
                "extends.unknown",
                _("no policy with id '{id}' to extend", id=parent_id),
                _("did you mean '{close}'?", close=close[0]) if close else _("run 'kinerja policies' to list them"),
            )
            return doc
        parent = _read(parent_path, diagnostics, extra, seen + [str(data.get("id"))], extends_ids_only)
        if parent is not None:
            doc = _merge_documents(parent, doc)
    doc.hash = content_hash(doc.data)
    return doc


def _merge_documents(parent: PolicyDocument, child: PolicyDocument) -> PolicyDocument:
    base = {k: v for k, v in parent.data.items() if k not in NOT_INHERITED}
    sources = SourceMap()
    for path, origin in parent.sources.origins.items():
        if not path or path[0] not in NOT_INHERITED:
            sources.origins[path] = origin
    data = merge(base, child.data, (), child.sources, sources)
    return PolicyDocument(data, sources, child.file, child.chain + parent.chain)


def merge(base: Any, overlay: Any, path: source.Path, overlay_sources: SourceMap, sources: SourceMap) -> Any:
    """Merge `overlay` onto `base` by the documented rules, recording origins into `sources`."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        result = dict(base)
        for key, value in overlay.items():
            key_path = path + (key,)
            if value is None:
                result.pop(key, None)
                _drop(sources, key_path)
                continue
            if key in result and isinstance(result[key], dict) and isinstance(value, dict):
                result[key] = merge(result[key], value, key_path, overlay_sources, sources)
            else:
                _drop(sources, key_path)
                result[key] = value
                _copy(overlay_sources, sources, key_path)
        return result
    _drop(sources, path)
    _copy(overlay_sources, sources, path)
    return overlay


def _drop(sources: SourceMap, prefix: source.Path) -> None:
    for path in [p for p in sources.origins if p[: len(prefix)] == prefix]:
        del sources.origins[path]


def _copy(origin: SourceMap, target: SourceMap, prefix: source.Path) -> None:
    for path, where in origin.origins.items():
        if path[: len(prefix)] == prefix:
            target.origins[path] = where


def _validate_schema(data: dict[str, Any], sources: SourceMap, file: str, diagnostics: Diagnostics) -> None:
    instance = _jsonable(data)
    check = _schema_check()
    try:
        if check is not None and check.is_valid(instance):
            return
    except Exception:  # a value it cannot take (an integer past 64 bits): jsonschema decides
        pass
    validator = _schema_validator()
    for error in validator.iter_errors(instance):
        for leaf in _leaves(error):
            path = tuple(leaf.absolute_path)
            if leaf.validator == "additionalProperties":
                _unknown_keys(leaf, path, sources, file, diagnostics)
                continue
            position = sources.position(path, file)
            if _number_as_text(leaf, position, diagnostics):
                continue
            diagnostics.add(position, f"schema.{_code(leaf)}", _schema_message(leaf, path))


_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")
_THOUSANDS_DOTS = re.compile(r"[+-]?\d{1,3}(\.\d{3})+(,\d+)?")


def _number_as_text(error: jsonschema.ValidationError, position: Position, diagnostics: Diagnostics) -> bool:
    """A number written the Indonesian way (0,5 or 3.000.000) where a number is expected: said so."""
    expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
    if error.validator != "type" or not isinstance(error.instance, str) or not {"number", "integer"} & set(expected):
        return False
    text = error.instance.strip()
    if _THOUSANDS_DOTS.fullmatch(text):
        fixed = text.replace(".", "").replace(",", ".")
        diagnostics.add(
            position,
            "yaml.thousands_dot",
            _("'{text}' has dots between the thousands", text=text),
            _("write {fixed}: no thousands separator, and '.' only as the decimal mark", fixed=fixed),
        )
        return True
    if _DECIMAL_COMMA.fullmatch(text):
        diagnostics.add(
            position,
            "yaml.decimal_comma",
            _("'{text}' uses a comma as the decimal mark", text=text),
            _("write {fixed}: policies use '.' as the decimal mark", fixed=text.replace(",", ".")),
        )
        return True
    return False


def _unknown_keys(
    error: jsonschema.ValidationError, path: source.Path, sources: SourceMap, file: str, diagnostics: Diagnostics
) -> None:
    """One diagnostic per unknown key, at the key itself, with the closest known key."""
    import difflib

    # additionalProperties fails only on an object, against an object schema
    known = sorted(cast("dict[str, Any]", error.schema).get("properties", {}))
    unknown = set(cast("dict[str, Any]", error.instance)) - set(known)
    for key in sorted(unknown, key=lambda k: sources.position(path + (k, ""), file)):
        close = difflib.get_close_matches(key, known, n=1)
        diagnostics.add(
            sources.position(path + (key, ""), file),
            "schema.unknown_key",
            _("unknown key '{key}' in {where}", key=key, where=_where(path)),
            _("did you mean '{close}'?", close=close[0])
            if close
            else _("allowed here: {names}", names=", ".join(known)),
        )


def _leaves(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """For a oneOf/anyOf failure, the errors of the alternative whose type the value has.

    A value written as a mapping is reported against the mapping alternative ("unknown key
    'fromula'"), not against the text alternative ("must be string").
    """
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return [error]
    branches: dict[str | int, list[jsonschema.ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    fitting = [
        subs
        for subs in branches.values()
        if not any(s.validator == "type" and len(s.relative_schema_path) == 2 for s in subs)
    ]
    if len(fitting) == 1:
        return [leaf for sub in fitting[0] for leaf in _leaves(sub)]
    if not fitting:  # a value of a type no alternative allows
        return [error]
    return [error]  # several alternatives fit, each for another reason: say what is expected


def _code(error: jsonschema.ValidationError) -> str:
    return {
        "additionalProperties": "unknown_key",
        "required": "required",
        "type": "type",
        "enum": "enum",
        "pattern": "pattern",
        "oneOf": "one_of",
        "const": "const",
    }.get(str(error.validator), str(error.validator))


def _where(path: source.Path) -> str:
    return ".".join(str(p) for p in path) or _("the policy")


def _schema_message(error: jsonschema.ValidationError, path: source.Path) -> str:
    where = _where(path)
    if error.validator == "required":
        return _("{where} needs {key}", where=where, key=error.message.split(" is a required")[0])
    if error.validator == "enum":
        return _(
            "{where} is {value}; allowed: {allowed}",
            where=where,
            value=repr(error.instance),
            allowed=", ".join(map(str, cast("list[Any]", error.validator_value))),
        )
    if error.validator == "pattern":
        return _("{where} {value} is not a valid name", where=where, value=repr(error.instance))
    if error.validator == "oneOf" and isinstance(error.instance, dict):
        return _(
            "{where} must have exactly one of formula, table, matrix, weighted (or then/formula for a row)", where=where
        )
    if error.validator == "type":
        value = error.validator_value
        types = [value] if isinstance(value, str) else cast("list[str]", value)
        expected = _(" or ").join(_(_TYPE_NAMES[t]) if t in _TYPE_NAMES else t for t in types)
        return _("{where} must be {expected}", where=where, expected=expected)
    bounds = {
        "minimum": N_("{where} must be at least {limit}"),
        "maximum": N_("{where} must be at most {limit}"),
        "exclusiveMinimum": N_("{where} must be more than {limit}"),
        "minItems": N_("{where} needs at least {limit} item(s)"),
        "maxItems": N_("{where} takes at most {limit} item(s)"),
        "minLength": N_("{where} must not be empty"),
        "minProperties": N_("{where} must not be empty"),
    }
    if error.validator in bounds:
        return _(bounds[error.validator], where=where, limit=error.validator_value)
    if error.validator == "propertyNames":
        return _("{where}: {value} is not a valid name", where=where, value=repr(error.instance))
    return f"{where}: {error.message}"  # a rule the schema rarely breaks: jsonschema's own words


_TYPE_NAMES = {
    "number": N_("number"),
    "integer": N_("integer"),
    "string": N_("string"),
    "boolean": N_("boolean"),
    "object": N_("object"),
    "array": N_("array"),
    "null": N_("null"),
}


def _jsonable(value: Any) -> Any:
    """Exact numbers are shown to jsonschema as ints or floats: only their type and rough size matter there."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else float(value)
    return value


def canonical(value: Any) -> Any:
    """Canonical JSON-ready form: exact numbers as their exact decimal or p/q text."""
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    if isinstance(value, Fraction):
        from engine.numbers import exact_text

        return {"$number": exact_text(value)}
    return value


def content_hash(data: dict[str, Any]) -> str:
    text = json.dumps(canonical(data), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _diag(position: Position, code: str, message: str, hint: str = "") -> Diagnostic:
    return Diagnostic(position, code, message, hint)
