"""The first schema: policy versions, API keys, submissions, evaluations, audit log.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "policy_versions",
        sa.Column("hash", sa.String(80), primary_key=True),
        sa.Column("policy_id", sa.String(64), nullable=False, index=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("stored_at", TS, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("agency", sa.String(64)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("agency", sa.String(64), nullable=False, index=True),
        sa.Column("policy_id", sa.String(64), nullable=False),
        sa.Column("policy_hash", sa.String(80), sa.ForeignKey("policy_versions.hash"), nullable=False),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("record_count", sa.Integer, nullable=False),
        sa.Column("idempotency_key", sa.String(200)),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("agency", "idempotency_key", name="uq_submission_idempotency"),
    )
    op.create_table(
        "evaluations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("submission_id", sa.String(32), sa.ForeignKey("submissions.id"), nullable=False, index=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("agency", sa.String(64), nullable=False),
        sa.Column("policy_id", sa.String(64), nullable=False),
        sa.Column("policy_hash", sa.String(80), sa.ForeignKey("policy_versions.hash"), nullable=False),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("record_id", sa.String(64)),
        sa.Column("inputs", sa.Text, nullable=False),
        sa.Column("outputs", sa.Text, nullable=False),
        sa.Column("values", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_evaluations_filters", "evaluations", ["agency", "policy_id", "period", "record_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(32), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("agency", sa.String(64)),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object", sa.String(120), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("audit_log", "evaluations", "submissions", "api_keys", "policy_versions"):
        op.drop_table(table)
