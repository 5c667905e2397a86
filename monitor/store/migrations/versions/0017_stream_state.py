"""Live streams (Bluesky Jetstream, Mastodon streaming): one row per connection with its resume cursor
and its health (monitor/streams/).

Revision ID: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stream_state",
        sa.Column("source", sa.String(40), primary_key=True),
        sa.Column("endpoint", sa.String(400), primary_key=True),
        sa.Column("cursor", sa.Text),
        sa.Column("holder", sa.String(128)),
        sa.Column("connected", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("connected_at", sa.DateTime(timezone=True)),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True)),
        sa.Column("last_event_at", sa.DateTime(timezone=True)),
        sa.Column("lag_seconds", sa.Float),
        sa.Column("events_per_minute", sa.Float),
        sa.Column("events_total", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("mentions_total", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("reconnects", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("fell_back_at", sa.DateTime(timezone=True)),
        sa.Column("fell_back_reason", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("stream_state")
