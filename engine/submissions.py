"""The agencies' submissions as the web shows them: listing, reading a stored submission's results.

Rules on who sees what are engine.service's (`_visible`): an agency sees its own submissions, a
reviewer or admin every one, and another agency's submission is absent (404).
"""
from __future__ import annotations

from sqlalchemy import select

from .service import Caller, iso
from .store import Store, Submission

#: Most submissions listed on one page.
MAX_LISTED = 200


def list_submissions(store: Store, caller: Caller, limit: int = MAX_LISTED) -> list[dict]:
    """The caller's submissions (every agency's for reviewers and admins), newest first."""
    query = select(Submission).order_by(Submission.created_at.desc(), Submission.id).limit(limit)
    if not caller.reads_everything:
        query = query.where(Submission.agency == caller.agency)
    with store.session() as session:
        rows = session.scalars(query).all()
    return [{"id": row.id, "agency": row.agency, "policy_id": row.policy_id, "policy_hash": row.policy_hash,
             "period": row.period, "record_count": row.record_count, "created_by": row.created_by,
             "created_at": iso(row.created_at)} for row in rows]
