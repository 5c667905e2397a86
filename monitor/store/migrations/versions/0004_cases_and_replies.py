"""Responder workflow: cases (assignee, status, tags, response clock) and their replies.

The audit trail stays in mention_events: case and reply changes are events of the case's mention.

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("mention_id", sa.Integer, sa.ForeignKey("mentions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("assignee", sa.String(128)),
        sa.Column("tags", sa.JSON),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("response_due_at", sa.DateTime(timezone=True)),
        sa.Column("resolution_due_at", sa.DateTime(timezone=True)),
        sa.Column("first_response_at", sa.DateTime(timezone=True)),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("mention_id", name="uq_cases_mention"),
    )
    op.create_index("ix_cases_status_due", "cases", ["status", "response_due_at"])
    op.create_index("ix_cases_assignee", "cases", ["assignee", "status"])
    op.create_table(
        "case_replies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("template", sa.String(128)),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("author", sa.String(128), nullable=False),
        sa.Column("approved_by", sa.String(128)),
        sa.Column("approved_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("remote_id", sa.String(512)),
        sa.Column("remote_url", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("error_kind", sa.String(32)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("idempotency_key", name="uq_case_replies_key"),
    )
    op.create_index("ix_case_replies_case", "case_replies", ["case_id", "id"])
    op.create_index("ix_case_replies_status", "case_replies", ["status", "claimed_at"])


def downgrade() -> None:
    op.drop_index("ix_case_replies_status", "case_replies")
    op.drop_index("ix_case_replies_case", "case_replies")
    op.drop_table("case_replies")
    op.drop_index("ix_cases_assignee", "cases")
    op.drop_index("ix_cases_status_due", "cases")
    op.drop_table("cases")
