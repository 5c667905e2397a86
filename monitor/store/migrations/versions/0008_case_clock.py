"""A case's opening time is when it was opened; its clock runs from when the mention reached us.

Until now `opened_at` held the mention's collection time, so a case opened days later said it was opened
then. Existing rows: the clock keeps the old value, and `opened_at` takes the time the row was created.

Revision ID: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("clock_from", sa.DateTime(timezone=True)))
    op.execute("UPDATE cases SET clock_from = opened_at, opened_at = created_at")
    with op.batch_alter_table("cases") as batch:
        batch.alter_column("clock_from", existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade() -> None:
    op.execute("UPDATE cases SET opened_at = clock_from")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("clock_from")
