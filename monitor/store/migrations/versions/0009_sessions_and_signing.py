"""Signing keys, dashboard sessions, and digests delivered per recipient.

Revision ID: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("purpose", sa.String(40), primary_key=True),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "dashboard_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_name", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_dashboard_sessions_user", "dashboard_sessions", ["user_name"])
    op.create_table(
        "digest_deliveries",
        sa.Column(
            "run_id", sa.Integer, sa.ForeignKey("digest_runs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("recipient", sa.String(320), primary_key=True),
        sa.Column("message_id", sa.String(320), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("digest_deliveries")
    op.drop_index("ix_dashboard_sessions_user", "dashboard_sessions")
    op.drop_table("dashboard_sessions")
    op.drop_table("signing_keys")
