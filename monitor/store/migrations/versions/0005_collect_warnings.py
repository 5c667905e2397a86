"""Partial failures: a run that stored mentions while part of the source failed says so.

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("collect_state", sa.Column("last_warning", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("collect_state") as batch:
        batch.drop_column("last_warning")
