"""Email digests and alerts: digest runs and the mentions each claimed, alert events.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("list_name", sa.String(128), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("recipients", sa.JSON, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body_text", sa.Text, nullable=False),
        sa.Column("body_html", sa.Text, nullable=False),
        sa.Column("mention_count", sa.Integer, nullable=False),
        sa.Column("message_id", sa.String(255)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_digest_runs_list_period", "digest_runs", ["list_name", "period_end"])
    op.create_index("ix_digest_runs_status", "digest_runs", ["status", "next_attempt_at"])
    op.create_table(
        "digest_items",
        sa.Column(
            "run_id", sa.Integer, sa.ForeignKey("digest_runs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "mention_id", sa.Integer, sa.ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("list_name", sa.String(128), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.UniqueConstraint("list_name", "mention_id", name="uq_digest_items_list_mention"),
    )
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("watch", sa.String(128)),
        sa.Column("source", sa.String(40)),
        sa.Column("mention_id", sa.Integer),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("payload", sa.JSON),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.String(255)),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("webhook_sent_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("key", name="uq_alert_events_key"),
    )
    op.create_index("ix_alert_events_message", "alert_events", ["message_id"])
    op.create_index("ix_alert_events_pending", "alert_events", ["claimed_at", "due_at"])
    op.create_table(
        "digest_optouts",
        sa.Column("list_name", sa.String(128), primary_key=True),
        sa.Column("email", sa.String(320), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("digest_optouts")
    op.drop_table("alert_events")
    op.drop_table("digest_items")
    op.drop_index("ix_digest_runs_status", "digest_runs")
    op.drop_index("ix_digest_runs_list_period", "digest_runs")
    op.drop_table("digest_runs")
