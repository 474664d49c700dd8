"""Starting points for a policy author: a new regional policy that extends a parent
(`kinerja init`), and a copy of a bundled policy to edit (`kinerja export`).

A new regional policy is written with the parts a region usually changes, copied from the
parent so that it checks and tests green as it is: the thresholds (values that are just a number,
such as `batas_sesuai`), the weight sets per jabatan, and the parent's own test cases (tests are
never inherited). The author then changes numbers and sees, with `kinerja test`, which cases move.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import yaml

from engine import api
from engine.i18n import _
from engine.numbers import exact_text
from engine.policy import document as policyfile
from engine.policy.model import ComputedValue, IndicatorValue, WeightedValue

#: Where editors find the schema of policy files: `kinerja schema --policy-file > THIS`.
SCHEMA_FILE = "kinerja-policy.schema.json"
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


class AuthoringError(Exception):
    """A refusal to write (an existing file, an id that is not an id), said in words."""


class _Dumper(yaml.SafeDumper):
    pass


def _fraction(dumper: yaml.SafeDumper, value: Fraction):
    text = exact_text(value)
    if "/" in text:  # not a terminating decimal: keep it exact as a formula would
        return dumper.represent_str(text)
    tag = "int" if value.denominator == 1 else "float"
    return dumper.represent_scalar(f"tag:yaml.org,2002:{tag}", format(Decimal(text), "f"))


_Dumper.add_representer(Fraction, _fraction)


def _dump(value, indent: int) -> str:
    text = yaml.dump(value, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000, default_flow_style=None)
    pad = " " * indent
    return "".join(pad + line + "\n" for line in text.splitlines())


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def new_regional_policy(policy_id: str, parent: str) -> str:
    """The text of a new policy `policy_id` that extends `parent` (an id on the search path)."""
    if not ID_PATTERN.fullmatch(policy_id):
        raise AuthoringError(
            _(
                "'{id}' is not a policy id: use lower case letters, digits and dashes, for example kabupaten-contoh",
                id=policy_id,
            )
        )
    loaded = api.load(parent)
    policy = loaded.policy
    lines = [
        f"# yaml-language-server: $schema={SCHEMA_FILE}",
        "# "
        + _(
            "Made with: kinerja init {id} --extends {parent}. The schema for the editor: "
            "kinerja schema --policy-file > {schema}",
            id=policy_id,
            parent=parent,
            schema=SCHEMA_FILE,
        ),
        "# " + _("Only what is written here changes the parent; `name: ~` removes the parent's entry."),
        "kinerja: 1",
        f"id: {policy_id}",
        f"extends: {policy.id}",
        "title: " + _quoted(_("{title} (region: change this title)", title=policy.title)),
        'version: "1"',
        "description: |",
        "  "
        + _(
            "What this policy changes from {parent}, and every reading taken where the rules are silent.",
            parent=policy.id,
        ),
        "legal_basis:",
        *[f"  - {_quoted(basis)}" for basis in policy.legal_basis],
        "  - " + _quoted(_("the region's own regulation (Peraturan Bupati/Wali Kota): write its number and year")),
    ]
    if policy.berlaku_mulai:
        lines.append(f"berlaku_mulai: {policy.berlaku_mulai}")
    values = []
    for (scope, name), d in policy.values.items():
        if scope is not None:
            continue
        if (
            isinstance(d, (ComputedValue, IndicatorValue))
            and d.formula is not None
            and d.formula.node is not None
            and type(d.formula.node).__name__ == "Number"
        ):
            values.append(f"  {name}: {{formula: {_quoted(d.formula.text)}}}" + (f"  # {d.label}" if d.label else ""))
        elif isinstance(d, WeightedValue) and d.weighted.weights and d.weighted.by is not None:
            values.append(f"  {name}:" + (f"  # {d.label}" if d.label else ""))
            values.append("    weighted:")
            values.append("      weights:")
            for key, weights in d.weighted.weights.items():
                values.append(_dump({key: dict(weights)}, 8).rstrip("\n"))
    if values:
        lines += [
            "",
            "# " + _("Thresholds and weights per jabatan, as in {parent}: change the numbers.", parent=policy.id),
            "values:",
            *values,
        ]
    else:
        lines += [
            "",
            "# "
            + _(
                "{parent} has no thresholds or weights of its own to copy: add values here "
                "(see docs/panduan-kebijakan.md).",
                parent=policy.id,
            ),
        ]
    tests = policy.data.get("tests") or []
    lines += [
        "",
        "# "
        + _(
            "The parent's own cases, copied: they pass as long as nothing is changed. "
            "Correct the expectations that your changes move."
        ),
    ]
    lines.append("tests:" if tests else "tests: []")
    if tests:
        lines.append(_dump(tests, 2).rstrip("\n"))
    return "\n".join(lines) + "\n"


def bundled_text(policy_id: str) -> tuple[Path, bytes]:
    """The file of a bundled (or search-path) policy and its exact bytes, comments included."""
    path = policyfile.resolve(policy_id)
    return path, Path(path).read_bytes()


def write_new(path: Path, content: bytes, force: bool = False) -> None:
    """Write a file that does not exist yet (never overwrite an author's work unasked)."""
    if path.exists() and not force:
        raise AuthoringError(_("{path} already exists; choose another name with -o, or add --force", path=path))
    path.write_bytes(content)
