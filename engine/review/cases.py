"""Running a policy's own test cases, and measuring which table rows and matrix cells they reach."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from engine import api
from engine.evaluate.io import decode_json, encode
from engine.i18n import _
from engine.numbers import RoundingMode, is_terminating, round_to, to_decimal


@dataclass
class CaseResult:
    name: str
    line: int
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class TestReport:
    policy: str
    file: str
    cases: list[CaseResult]
    reached: set
    targets: dict  # coverage key -> description

    @property
    def failed(self) -> list[CaseResult]:
        return [c for c in self.cases if not c.passed]

    @property
    def unreached(self) -> list[str]:
        return [text for key, text in self.targets.items() if key not in self.reached]


def run_tests(loaded: api.LoadedPolicy) -> TestReport:
    policy = loaded.policy
    reached: set = set()
    cases = []
    for case in policy.tests:
        result = CaseResult(case.name, case.position.line)
        # The record in YAML holds exact Fractions; pass it through JSON so it is read exactly
        # as a submitted record would be.
        record = decode_json(encode(case.record))
        evaluation = api.evaluate(loaded, record, coverage=reached)
        if "errors" in evaluation:
            _check_errors(result, evaluation["errors"], case.expect_errors)
        elif case.expect_errors:
            result.failures.append(_("expected errors, but the record was evaluated"))
        else:
            _compare(result, _("output"), case.expect, evaluation["outputs"], exact=True)
            for name in case.expect_absent:
                if name in evaluation["outputs"]:
                    result.failures.append(
                        _(
                            "output {name}: expected to be absent, got {got}",
                            name=name,
                            got=_show(evaluation["outputs"][name]),
                        )
                    )
            _compare(result, _("value"), case.expect_values, evaluation["values"], exact=False)
        cases.append(result)
    return TestReport(policy.id, policy.file, cases, reached, api.coverage_targets(policy))


def _check_errors(result: CaseResult, actual: list[dict], expected: list) -> None:
    if not expected:
        result.failures.append(
            _("record was rejected: {errors}", errors="; ".join(f"{e['path']}: {e['message']}" for e in actual))
        )
        return
    for want in expected:
        if not any(e["path"] == want.get("path") and (want.get("code") in (None, e["code"])) for e in actual):
            shown = "; ".join(f"{e['path']} {e['code']}" for e in actual)
            result.failures.append(
                _(
                    "expected error {code} at {path}, got: {errors}",
                    code=want.get("code", ""),
                    path=repr(want.get("path")),
                    errors=shown,
                )
            )


_NOT_FOUND = object()


def _find(values: dict, name: str):
    """A value by name, or an item value by a dotted path such as kegiatan.0.nilai_waktu."""
    if name in values:
        return values[name]
    node = values
    for part in name.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _NOT_FOUND
    return node


def _compare(result: CaseResult, kind: str, expected: dict, actual: dict, exact: bool) -> None:
    for name, want in expected.items():
        got = _find(actual, name)
        if got is _NOT_FOUND:
            result.failures.append(
                _("{kind} {name}: expected {want}, but it was not produced", kind=kind, name=name, want=_show(want))
            )
            continue
        if isinstance(want, Fraction) and isinstance(got, Fraction) and not isinstance(got, bool):
            if exact:
                ok = got == want
            else:
                places = _places(want)
                ok = round_to(got, places, RoundingMode.HALF_UP) == want
            if not ok:
                result.failures.append(
                    _(
                        "{kind} {name}: expected {want}, got {got}",
                        kind=kind,
                        name=name,
                        want=_show(want),
                        got=_show(got),
                    )
                )
        elif want != got or type(want) is not type(got):
            result.failures.append(
                _("{kind} {name}: expected {want}, got {got}", kind=kind, name=name, want=_show(want), got=_show(got))
            )


def _places(value: Fraction) -> int:
    text = str(to_decimal(value)) if is_terminating(value) else "0"
    return len(text.split(".")[1]) if "." in text else 0


def _show(value) -> str:
    from engine.language.printer import value_text

    return value_text(value) if not isinstance(value, str) else repr(value)
