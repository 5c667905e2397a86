"""Complaint topics (monitor/topics/): topics per watch, each mention's topic, the mentions' sentence
vectors, and the topics' history (store/topic_tables.py).

Revision ID: 0026
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "topics",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("watch", sa.String(128), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("auto_name", sa.Text, nullable=False),
        sa.Column("named_by", sa.String(128)),
        sa.Column("seed", sa.Text),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        sa.Column("merged_into", sa.Integer, sa.ForeignKey("topics.id", ondelete="SET NULL")),
        sa.Column("centroid", sa.LargeBinary, nullable=False),
        sa.Column("size", sa.Integer, nullable=False, server_default="0"),
        sa.Column("pinned", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_topics_watch_status", "topics", ["watch", "status"])
    op.create_table(
        "mention_topics",
        sa.Column(
            "mention_id", sa.Integer, sa.ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("watch", sa.String(128), primary_key=True),
        sa.Column("topic_id", sa.Integer, sa.ForeignKey("topics.id", ondelete="CASCADE"), nullable=False),
        sa.Column("similarity", sa.Float, nullable=False),
        sa.Column("how", sa.String(12), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_mention_topics_topic", "mention_topics", ["topic_id", "mention_id"])
    op.create_table(
        "mention_embeddings",
        sa.Column(
            "mention_id", sa.Integer, sa.ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("model_version", sa.String(128), nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
        sa.Column("embedded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "topic_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("watch", sa.String(128), nullable=False),
        sa.Column("topic_id", sa.Integer, sa.ForeignKey("topics.id", ondelete="CASCADE")),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_topic_events_watch_at", "topic_events", ["watch", "at"])


def downgrade() -> None:
    op.drop_index("ix_topic_events_watch_at", table_name="topic_events")
    op.drop_table("topic_events")
    op.drop_table("mention_embeddings")
    op.drop_index("ix_mention_topics_topic", table_name="mention_topics")
    op.drop_table("mention_topics")
    op.drop_index("ix_topics_watch_status", table_name="topics")
    op.drop_table("topics")
