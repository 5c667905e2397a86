"""Edits and deletions: an edited mention keeps its earlier versions (mention_versions), a deleted one is
marked (mentions.deleted_at) and leaves the inbox; a posted reply can say where the source has it
(case_replies.remote_state: App Store Connect's "pending" until Apple publishes it).

Revision ID: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("mentions", sa.Column("deleted_at", sa.DateTime(timezone=True)))
    op.add_column("case_replies", sa.Column("remote_state", sa.String(24)))
    op.create_table(
        "mention_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("mention_id", sa.Integer, sa.ForeignKey("mentions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("rating", sa.Float),
        sa.Column("language", sa.String(16)),
        sa.Column("raw", sa.JSON),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("mention_id", "version", name="uq_mention_versions_mention_version"),
    )


def downgrade() -> None:
    op.drop_table("mention_versions")
    with op.batch_alter_table("case_replies") as batch:
        batch.drop_column("remote_state")
    with op.batch_alter_table("mentions") as batch:
        batch.drop_column("deleted_at")
