"""Team queues: a saved inbox view can be shared with the whole team (saved_views.shared); the queue
filters (assignee, case status, tag, overdue, awaiting approval) read columns and indexes cases has.

Revision ID: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A server default: the views saved before this revision stay personal.
    op.add_column("saved_views", sa.Column("shared", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_index("ix_saved_views_shared", "saved_views", ["shared", "name"])


def downgrade() -> None:
    op.drop_index("ix_saved_views_shared", table_name="saved_views")
    with op.batch_alter_table("saved_views") as batch:
        batch.drop_column("shared")
