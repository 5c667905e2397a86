"""Mentions, their watches, and per (watch, source) cursor and health.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mentions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("external_id", sa.String(512), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("author", sa.String(256)),
        sa.Column("url", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_reach", sa.BigInteger),
        sa.Column("engagement", sa.BigInteger),
        sa.Column("rating", sa.Float),
        sa.Column("parent_id", sa.String(512)),
        sa.Column("language", sa.String(16)),
        sa.Column("metrics", sa.JSON),
        sa.Column("raw", sa.JSON),
        sa.Column("label", sa.String(10)),
        sa.Column("negative", sa.Float),
        sa.Column("neutral", sa.Float),
        sa.Column("positive", sa.Float),
        sa.Column("detected_language", sa.String(16)),
        sa.Column("model_version", sa.String(128)),
        sa.Column("scored_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("source", "external_id", name="uq_mentions_source_external_id"),
    )
    op.create_index("ix_mentions_label_created", "mentions", ["label", "created_at"])
    op.create_index("ix_mentions_created", "mentions", ["created_at"])
    op.create_index("ix_mentions_scored_at", "mentions", ["scored_at"])
    op.create_table(
        "mention_watches",
        sa.Column(
            "mention_id", sa.Integer, sa.ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("watch", sa.String(128), primary_key=True),
    )
    op.create_index("ix_mention_watches_watch", "mention_watches", ["watch", "mention_id"])
    op.create_table(
        "collect_state",
        sa.Column("watch", sa.String(128), primary_key=True),
        sa.Column("source", sa.String(40), primary_key=True),
        sa.Column("cursor", sa.Text),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("last_success_at", sa.DateTime(timezone=True)),
        sa.Column("last_error_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("mentions_collected", sa.BigInteger, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("collect_state")
    op.drop_table("mention_watches")
    op.drop_table("mentions")
