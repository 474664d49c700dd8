"""Impact: whom changing from one policy to another would move, over the stored evaluations."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import select

from engine import api
from engine.errors import FieldError
from engine.evaluate.io import decode_json
from engine.i18n import _
from engine.service.common import Caller, ServiceError, _fits, require
from engine.service.policies import load_policy
from engine.service.store import PERIOD_LENGTH, POLICY_ID_LENGTH, STORED_ORDER, Evaluation, Store

#: Most stored evaluations one impact request evaluates (each twice); narrow them by policy and period.
MAX_IMPACT_EVALUATIONS = 100_000


def comparable_policy(store: Store, ref, path: str) -> api.LoadedPolicy:
    """A policy to compare: an id as evaluations name it (built in or published, `ID@VERSION`), or
    any version the service stored for an evaluation, by its bare hash `sha256:...`."""
    from engine.service.replay import load_stored

    if isinstance(ref, str) and ref.startswith("sha256:"):
        loaded = load_stored(store, ref) if _fits(ref, 80) else None
        if loaded is None:
            raise ServiceError(
                422,
                "unknown_policy_version",
                _("no stored policy version {hash}", hash=ref),
                [
                    FieldError(
                        "unknown_policy_version", _("no policy version is stored with hash {hash}", hash=ref), path
                    )
                ],
            )
        return loaded
    if not isinstance(ref, str) or not ref:
        raise ServiceError(
            422,
            "invalid_body",
            _("{field} is a policy id or a stored version's hash", field=path[1:]),
            [FieldError("type", _("a policy id or a stored version's hash (text)"), path)],
        )
    return load_policy(ref, path, store)


def stored_impact(
    store: Store,
    old: api.LoadedPolicy,
    new: api.LoadedPolicy,
    policy: str | None = None,
    period: str | None = None,
    limit: int | None = None,
):
    """engine.review.diff.impact over the stored inputs of the evaluations selected, read a batch at a time."""
    from sqlalchemy import func

    from engine.review.diff import impact

    conditions = [
        column == value
        for column, value in ((Evaluation.policy_id, policy), (Evaluation.period, period))
        if value is not None
    ]
    with store.session() as session:
        count = cast(int, session.scalar(select(func.count()).select_from(Evaluation).where(*conditions)))
        if limit is not None and count > limit:
            message = _(
                "{count} stored evaluations match; at most {limit} per request", count=f"{count:,}", limit=f"{limit:,}"
            )
            raise ServiceError(
                422,
                "too_many_evaluations",
                message,
                [
                    FieldError(
                        "too_many_evaluations", _("{problem}: narrow them with policy and period", problem=message)
                    )
                ],
            )
        query = select(Evaluation.inputs).where(*conditions).order_by(*STORED_ORDER)
        rows = session.scalars(query.execution_options(yield_per=500))
        return impact(old, new, (_stored_record(text) for text in rows))


def _stored_record(text: str):
    try:
        return decode_json(text.encode("utf-8"))
    except ValueError:
        return None  # unreadable: reported as a record with errors, not a crash


def impact_of_change(store: Store, caller: Caller, body) -> dict:
    """Whom changing from one policy to another would move, over stored submissions (reviewers, admins)."""
    from engine.review.diff import impact, impact_json

    require(caller, "reviewer", "admin")
    if not isinstance(body, dict):
        raise ServiceError(422, "invalid_body", _("the body must be a JSON object with old and new"))
    problems = [
        FieldError("required", _("{field} is required: a policy id or a stored hash", field=k), f"/{k}")
        for k in ("old", "new")
        if k not in body
    ]
    for field in ("policy", "period"):  # their lengths are read below (a long one matches nothing)
        if field in body and body[field] is not None and not isinstance(body[field], str):
            problems.append(FieldError("type", _("{field} is text", field=field), f"/{field}"))
    problems += [
        FieldError("unknown_field", _("'{key}' is not a field of this request", key=k), f"/{k}")
        for k in sorted(set(body) - {"old", "new", "policy", "period"})
    ]
    if problems:
        raise ServiceError(
            422, "invalid_body", _("the request is incomplete or has fields it should not have"), problems
        )
    old, new = comparable_policy(store, body["old"], "/old"), comparable_policy(store, body["new"], "/new")
    policy, period = body.get("policy") or None, body.get("period") or None
    if any(v is not None and not _fits(v, n) for v, n in ((policy, POLICY_ID_LENGTH), (period, PERIOD_LENGTH))):
        result = impact(old, new, [])  # no stored value can look like this
    else:
        result = stored_impact(store, old, new, policy, period, MAX_IMPACT_EVALUATIONS)
    labels = list(cast(tuple[Any, ...], old.policy.outputs[result.label_output].labels)) if result.label_output else []
    return {"old": old.ref, "new": new.ref, "policy": policy, "period": period, **impact_json(result, labels)}
