"""Canned replies edited in the dashboard: the team's (owner "") and each person's, unique by owner and
short code. The [[reply_templates]] of grumble.toml are not copied here: they stay read-only team
replies, read from the config (monitor/respond/canned.py).

Revision ID: 0028
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("owner", "code", name="uq_canned_replies_owner_code"),
    )


def downgrade() -> None:
    op.drop_table("canned_replies")
