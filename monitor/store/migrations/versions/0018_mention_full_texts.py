"""The whole text of a mention longer than the stored bound (mention.MAX_TEXT_CHARS), kept apart from
the mention so that no list, search or score reads it, for people to download from the mention page.

Revision ID: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mention_full_texts",
        sa.Column(
            "mention_id", sa.Integer, sa.ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("characters", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("mention_full_texts")
