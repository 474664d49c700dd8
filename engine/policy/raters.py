"""The `bias_penilai` rule of a policy: read from the document and checked with the policy.

The check belongs to the policy stage (`kinerja check` reports a rule naming an input that does
not exist), so it lives here, below the review layer; the report per unit that uses the rule
(`kinerja distribution --raters`) stays in engine.review.raters.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from engine.diagnostics import Diagnostics
from engine.i18n import _
from engine.policy.model import Policy

#: Points above the unit's mean from which a superior is reported, unless the policy says.
DEFAULT_FAR_ABOVE = Fraction(10)


@dataclass(frozen=True)
class RaterRule:
    atasan: str  # input: the superior's id
    nilai_atasan: str  # value or input: the superior's score of the employee
    penilaian: str | None  # list input of the other raters' ratings
    nilai: str
    jenis: str
    jenis_atasan: str | None  # the superior's own rating in the list, not counted twice
    far_above: Fraction
    label: str


def read_rule(policy: Policy) -> RaterRule | None:
    spec = policy.data.get("bias_penilai")
    if not isinstance(spec, dict):
        return None
    far = spec.get("jauh_di_atas")
    return RaterRule(
        str(spec.get("atasan")),
        str(spec.get("nilai_atasan")),
        spec.get("penilaian"),
        str(spec.get("nilai") or "nilai"),
        str(spec.get("jenis") or "jenis"),
        spec.get("jenis_atasan"),
        Fraction(far) if far is not None else DEFAULT_FAR_ABOVE,
        str(spec.get("label") or ""),
    )


def check_rater_rule(policy: Policy, out: Diagnostics) -> None:
    """`bias_penilai` names an input, a value and a list of ratings that exist (code `raters.unknown`)."""
    rule = read_rule(policy)
    if rule is None:
        return
    path = ("bias_penilai",)
    where = policy.sources.position(path, policy.file)
    if rule.atasan not in policy.inputs:
        out.add(
            policy.sources.position(path + ("atasan",), policy.file),
            "raters.unknown",
            _("'{name}' is not an input of this policy", name=rule.atasan),
            _("name the input that holds each employee's superior"),
        )
    if rule.nilai_atasan not in policy.inputs and (None, rule.nilai_atasan) not in policy.values:
        out.add(
            policy.sources.position(path + ("nilai_atasan",), policy.file),
            "raters.unknown",
            _("'{name}' is neither an input nor a value of this policy", name=rule.nilai_atasan),
            _("name the value that is the superior's score"),
        )
    if rule.penilaian is not None:
        spec = policy.inputs.get(rule.penilaian)
        fields = spec.items.fields if spec is not None and spec.type == "list" and spec.items is not None else None
        if fields is None:
            out.add(
                policy.sources.position(path + ("penilaian",), policy.file),
                "raters.unknown",
                _("'{name}' is not a list input of this policy", name=rule.penilaian),
                _("name the list of individual ratings"),
            )
        else:
            for needed in [rule.nilai] + ([rule.jenis] if rule.jenis_atasan else []):
                if needed not in fields:
                    out.add(
                        where,
                        "raters.unknown",
                        _("the ratings in '{list}' have no field '{name}'", list=rule.penilaian, name=needed),
                        _("fields: {fields}", fields=", ".join(fields)),
                    )
