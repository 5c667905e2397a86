"""Helpdesk hand-off (monitor/helpdesk/): helpdesk_links, one per mention and helpdesk (its marker, the
remote id and link, the hand-off's state and attempts, the helpdesk's last status), and
helpdesk_deliveries, the signed webhook deliveries acted on, unique per helpdesk and signed content.

Revision ID: 0025
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "helpdesk_links",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("mention_id", sa.Integer, sa.ForeignKey("mentions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("helpdesk", sa.String(20), nullable=False),
        sa.Column("marker", sa.String(40), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("remote_id", sa.String(64)),
        sa.Column("remote_url", sa.Text),
        sa.Column("remote_status", sa.String(24)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("error", sa.Text),
        sa.Column("requested_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("mention_id", "helpdesk", name="uq_helpdesk_links_mention_helpdesk"),
    )
    op.create_index("ix_helpdesk_links_remote", "helpdesk_links", ["helpdesk", "remote_id"])
    op.create_index("ix_helpdesk_links_retry", "helpdesk_links", ["state", "next_attempt_at"])
    op.create_table(
        "helpdesk_deliveries",
        sa.Column("helpdesk", sa.String(20), primary_key=True),
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("delivery_id", sa.String(128)),
        sa.Column("event", sa.String(64)),
        sa.Column("remote_id", sa.String(64)),
        sa.Column("outcome", sa.String(200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_helpdesk_deliveries_received", "helpdesk_deliveries", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_helpdesk_deliveries_received", table_name="helpdesk_deliveries")
    op.drop_table("helpdesk_deliveries")
    op.drop_index("ix_helpdesk_links_retry", table_name="helpdesk_links")
    op.drop_index("ix_helpdesk_links_remote", table_name="helpdesk_links")
    op.drop_table("helpdesk_links")
