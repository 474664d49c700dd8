"""Evaluations get a sequence number in commit order, so a reader following `after` misses none.

Ordering by created_at missed rows: a submission's time is taken before its transaction commits,
so one that committed later could carry an earlier time than rows a reader had already passed.
`seq` is assigned inside the committing transaction, under a lock that orders commits
(engine.service.store.next_sequence); existing rows are numbered in their old stored order.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evaluations") as batch:
        batch.add_column(sa.Column("seq", sa.BigInteger, nullable=True))
    op.execute(
        "UPDATE evaluations SET seq = (SELECT numbered.n FROM (SELECT id, ROW_NUMBER() OVER "
        "(ORDER BY created_at, submission_id, position) AS n FROM evaluations) AS numbered "
        "WHERE numbered.id = evaluations.id)"
    )
    with op.batch_alter_table("evaluations") as batch:
        batch.alter_column("seq", existing_type=sa.BigInteger, nullable=False)
        batch.create_index("ix_evaluations_seq", ["seq"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("evaluations") as batch:
        batch.drop_index("ix_evaluations_seq")
        batch.drop_column("seq")
