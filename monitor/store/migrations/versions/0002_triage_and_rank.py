"""Triage (handled, dismissed, relabelled, with history) and a stored rank key, so the inbox sorts by
priority through an index on a million mentions.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mentions") as batch:
        batch.add_column(sa.Column("rank_key", sa.Float))
        batch.add_column(sa.Column("triage", sa.String(16), nullable=False, server_default="open"))
        batch.add_column(sa.Column("triaged_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("triaged_by", sa.String(128)))
    op.create_index("ix_mentions_inbox", "mentions", ["triage", "label", "rank_key"])
    op.create_index("ix_mentions_author", "mentions", ["source", "author", "created_at"])
    op.create_index("ix_mentions_parent", "mentions", ["source", "parent_id"])
    op.create_table(
        "label_feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("mention_id", sa.Integer, sa.ForeignKey("mentions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("model_label", sa.String(10)),
        sa.Column("model_version", sa.String(128)),
        sa.Column("corrected_label", sa.String(10), nullable=False),
        sa.Column("corrected_by", sa.String(128), nullable=False),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_label_feedback_mention", "label_feedback", ["mention_id"])
    op.create_table(
        "mention_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("mention_id", sa.Integer, sa.ForeignKey("mentions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("before", sa.String(64)),
        sa.Column("after", sa.String(64)),
        sa.Column("note", sa.Text),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_mention_events_mention", "mention_events", ["mention_id", "at"])


def downgrade() -> None:
    op.drop_table("mention_events")
    op.drop_table("label_feedback")
    op.drop_index("ix_mentions_parent", "mentions")
    op.drop_index("ix_mentions_author", "mentions")
    op.drop_index("ix_mentions_inbox", "mentions")
    with op.batch_alter_table("mentions") as batch:
        batch.drop_column("triaged_by")
        batch.drop_column("triaged_at")
        batch.drop_column("triage")
        batch.drop_column("rank_key")
