"""Published policy versions: the text an admin published, its validity, when and by whom.

A row of policy_versions is either a version kept because an evaluation used it (published
false) or one published through POST /v1/policies (published true, with its text). Rows are
never changed once written, except that a kept version may later be published.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("policy_versions") as batch:
        batch.add_column(sa.Column("published", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("berlaku_mulai", sa.String(10)))
        batch.add_column(sa.Column("berlaku_sampai", sa.String(10)))
        batch.add_column(sa.Column("text", sa.Text))
        batch.add_column(sa.Column("published_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("published_by", sa.String(32)))


def downgrade() -> None:
    with op.batch_alter_table("policy_versions") as batch:
        for column in ("published_by", "published_at", "text", "berlaku_sampai", "berlaku_mulai", "published"):
            batch.drop_column(column)
