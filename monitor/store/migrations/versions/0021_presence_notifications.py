"""People working one inbox together: who is on a mention now (presence, kept by a heartbeat), what each
person is told (notifications, with read state and their email's delivery), which kinds each wants by
email (notification_preferences), and how far the fan-out has read the audit trail (event_cursors).

The fan-out's cursor starts at the newest event there is now: an upgrade tells nobody about the past.

Revision ID: 0021
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

NOTIFICATIONS_CURSOR = "notifications"  # monitor.team.fanout.CURSOR


def upgrade() -> None:
    op.create_table(
        "presence",
        sa.Column(
            "mention_id", sa.Integer, sa.ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("user_name", sa.String(128), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("drafting_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_presence_seen", "presence", ["seen_at"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "event_id", sa.Integer, sa.ForeignKey("mention_events.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("recipient", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("mention_id", sa.Integer, sa.ForeignKey("mentions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True)),
        sa.Column("email_state", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(255)),
        sa.Column("email_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("leased_by", sa.String(160)),
        sa.Column("last_error", sa.Text),
        sa.Column("emailed_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("event_id", "recipient", name="uq_notifications_event_recipient"),
    )
    op.create_index("ix_notifications_recipient", "notifications", ["recipient", "read_at"])
    op.create_index("ix_notifications_email", "notifications", ["email_state", "next_attempt_at"])
    op.create_table(
        "notification_preferences",
        sa.Column("user_name", sa.String(128), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("email", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    cursors = op.create_table(
        "event_cursors",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("last_event_id", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    bind = op.get_bind()
    now = datetime.now(UTC)
    if bind.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # SQLite keeps naive UTC, as store/dialects.py writes it
    newest = bind.scalar(sa.text("SELECT COALESCE(MAX(id), 0) FROM mention_events"))
    op.bulk_insert(cursors, [{"name": NOTIFICATIONS_CURSOR, "last_event_id": int(newest), "updated_at": now}])


def downgrade() -> None:
    op.drop_table("event_cursors")
    op.drop_table("notification_preferences")
    op.drop_index("ix_notifications_email", table_name="notifications")
    op.drop_index("ix_notifications_recipient", table_name="notifications")
    op.drop_table("notifications")
    op.drop_index("ix_presence_seen", table_name="presence")
    op.drop_table("presence")
