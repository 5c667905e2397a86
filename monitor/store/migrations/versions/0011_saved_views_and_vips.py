"""Saved inbox views per user, and authors marked VIP (their mentions rank higher).

Revision ID: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
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


def downgrade() -> None:
    op.drop_table("vip_authors")
    op.drop_table("saved_views")
