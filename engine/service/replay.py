"""Replay: evaluate a stored evaluation again under the exact policy version it used, and compare.

PRODUCT.md promises that replaying an evaluation gives the same result. The policy is rebuilt
from the document stored under the evaluation's hash (never from today's file, which may have
changed since) through the same checks and compiler as any policy; the stored inputs are
evaluated again and the outputs and values compared, exactly, with the stored ones. Every
difference is reported at its place, a JSON pointer into the evaluation (`/outputs/predikat`),
with both sides; nothing is hidden or repaired, and a stored row that cannot even be read is a
difference too, never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import cast

from sqlalchemy import select

from engine import api
from engine.diagnostics import PolicyError
from engine.evaluate.io import decode_json, encode
from engine.evaluate.runtime import pointer
from engine.i18n import _
from engine.service.store import STORED_ORDER, Evaluation, PolicyVersion, Store

#: Rows read from the database at a time when replaying many.
BATCH = 500
_ABSENT = object()


@dataclass
class Difference:
    """One place where the replayed evaluation is not the stored one; a side absent there is left out."""

    path: str
    stored: object = _ABSENT
    replayed: object = _ABSENT
    message: str = ""

    def as_json(self) -> dict:
        result: dict = {"path": self.path}
        if self.stored is not _ABSENT:
            result["stored"] = self.stored
        if self.replayed is not _ABSENT:
            result["replayed"] = self.replayed
        if self.message:
            result["message"] = self.message
        return result

    def render(self) -> str:
        text = f"{self.path}: " + _(
            "stored {stored}, replayed {replayed}", stored=_text(self.stored), replayed=_text(self.replayed)
        )
        return text + (f" ({self.message})" if self.message else "")


@dataclass
class Replay:
    """The outcome of replaying one stored evaluation."""

    evaluation_id: str
    policy_id: str
    policy_hash: str
    differences: list[Difference] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not self.differences

    def as_json(self) -> dict:
        return {
            "evaluation_id": self.evaluation_id,
            "policy_id": self.policy_id,
            "policy_hash": self.policy_hash,
            "same": self.same,
            "differences": [d.as_json() for d in self.differences],
        }


def _text(value) -> str:
    return "absent" if value is _ABSENT else encode(value).decode("utf-8")


# The stored policy --------------------------------------------------------------------------


def document_data(text: str):
    """The stored canonical document back as policy data: {"$number": "88.5"} -> Fraction(177, 2).

    The inverse of engine.policy.document.canonical, so the data hashes as the policy did when stored.
    """
    return _numbers(decode_json(text.encode("utf-8")))


def _numbers(value):
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get("$number"), str):
            try:
                return Fraction(value["$number"])
            except (ValueError, ZeroDivisionError):
                return value  # not a number written by canonical(): the hash check will say so
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return value


class StoredPolicies:
    """Stored policy versions rebuilt by hash, each once: a stored version never changes."""

    def __init__(self, session):
        self.session = session
        self._built: dict[str, tuple[api.LoadedPolicy | None, list[Difference]]] = {}

    def get(self, policy_hash: str) -> tuple[api.LoadedPolicy | None, list[Difference]]:
        """The rebuilt policy (None if it cannot be) and what is wrong with it as stored."""
        if policy_hash not in self._built:
            self._built[policy_hash] = self._build(policy_hash)
        return self._built[policy_hash]

    def _build(self, policy_hash: str) -> tuple[api.LoadedPolicy | None, list[Difference]]:
        row = self.session.get(PolicyVersion, policy_hash)
        if row is None:
            return None, [
                Difference("/policy/hash", policy_hash, message=_("no policy version is stored under this hash"))
            ]
        try:
            loaded = api.load_document(document_data(row.document), f"stored policy {policy_hash}")
        except ValueError as error:
            return None, [
                Difference(
                    "/policy/hash", policy_hash, message=_("the stored policy is not JSON: {problem}", problem=error)
                )
            ]
        except PolicyError as error:
            first = error.diagnostics[0]
            more = _(" (and {count} more)", count=len(error.diagnostics) - 1) if len(error.diagnostics) > 1 else ""
            return None, [
                Difference(
                    "/policy/hash",
                    policy_hash,
                    message=_(
                        "the stored policy no longer passes its checks: {problem}",
                        problem=f"{first.code}: {first.message}{more}",
                    ),
                )
            ]
        if loaded.policy.hash != policy_hash:
            return loaded, [
                Difference(
                    "/policy/hash",
                    policy_hash,
                    loaded.policy.hash,
                    _("the stored policy document does not have the hash it is stored under"),
                )
            ]
        return loaded, []


def load_stored(store: Store, policy_hash: str) -> api.LoadedPolicy | None:
    """A stored policy version ready to evaluate, or None if none is stored under the hash or it
    does not rebuild to that very hash."""
    with store.session() as session:
        loaded, problems = StoredPolicies(session).get(policy_hash)
    return loaded if not problems else None


# Replaying ------------------------------------------------------------------------------------


def replay(row: Evaluation, policies: StoredPolicies) -> Replay:
    """Evaluate one stored row again and compare it with what was stored."""
    report = Replay(row.id, row.policy_id, row.policy_hash)
    loaded, problems = policies.get(row.policy_hash)
    report.differences += problems
    stored = {}
    for name in ("inputs", "outputs", "values"):
        try:
            stored[name] = decode_json(getattr(row, name).encode("utf-8"))
        except ValueError as error:
            report.differences.append(
                Difference(f"/{name}", message=_("the stored {part} are not JSON: {problem}", part=name, problem=error))
            )
    if loaded is None or "inputs" not in stored:
        return report
    result = cast(dict, decode_json(encode(api.evaluate(loaded, stored["inputs"]))))  # an evaluation's JSON object
    if "errors" in result:
        report.differences.append(
            Difference("/errors", replayed=result["errors"], message=_("the stored inputs no longer evaluate"))
        )
    for name in ("outputs", "values"):
        if name in stored:
            _compare(stored[name], result.get(name, _ABSENT), f"/{name}", report.differences)
    return report


def _compare(stored, replayed, path: str, differences: list[Difference]) -> None:
    """Every leaf where the two differ; numbers compare by their exact JSON text (85.20 is not 85.2)."""
    if isinstance(stored, dict) and isinstance(replayed, dict):
        for key in list(stored) + [k for k in replayed if k not in stored]:
            _compare(stored.get(key, _ABSENT), replayed.get(key, _ABSENT), pointer(path, key), differences)
        return
    if isinstance(stored, list) and isinstance(replayed, list):
        for index in range(max(len(stored), len(replayed))):
            _compare(
                stored[index] if index < len(stored) else _ABSENT,
                replayed[index] if index < len(replayed) else _ABSENT,
                f"{path}/{index}",
                differences,
            )
        return
    if stored is _ABSENT or replayed is _ABSENT or encode(stored) != encode(replayed):
        differences.append(Difference(path, stored, replayed))


def selection(ids=(), submission: str | None = None, policy: str | None = None, period: str | None = None):
    """The query for the stored evaluations to replay, in the order they were stored."""
    query = select(Evaluation).order_by(*STORED_ORDER)
    if ids:
        query = query.where(Evaluation.id.in_(list(ids)))
    if submission:
        query = query.where(Evaluation.submission_id == submission)
    if policy:
        query = query.where(Evaluation.policy_id == policy)
    if period:
        query = query.where(Evaluation.period == period)
    return query


def replay_stored(store: Store, query=None):
    """Replay every evaluation the query selects (all of them by default), a batch of rows at a time."""
    with store.session() as session:
        policies = StoredPolicies(session)
        rows = session.scalars((query if query is not None else selection()).execution_options(yield_per=BATCH))
        for row in rows:
            yield replay(row, policies)
