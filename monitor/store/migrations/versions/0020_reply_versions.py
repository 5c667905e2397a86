"""Versioned replies: every version of a reply's text with who wrote it (reply_versions), the current
version and the approver chosen at submit on case_replies. Existing replies get their text as version 1
(the author's role then is not known: "unknown", which no approval rule names).

Revision ID: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("case_replies", sa.Column("version", sa.Integer, nullable=False, server_default="1"))
    op.add_column("case_replies", sa.Column("approver", sa.String(160)))
    op.create_table(
        "reply_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "reply_id", sa.Integer, sa.ForeignKey("case_replies.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("author", sa.String(128), nullable=False),
        sa.Column("author_role", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lapsed_approval", sa.String(128)),
        sa.UniqueConstraint("reply_id", "version", name="uq_reply_versions_reply_version"),
    )
    op.execute(
        "INSERT INTO reply_versions (reply_id, version, text, author, author_role, at)"
        " SELECT id, 1, text, author, 'unknown', updated_at FROM case_replies"
    )


def downgrade() -> None:
    op.drop_table("reply_versions")
    with op.batch_alter_table("case_replies") as batch:
        batch.drop_column("approver")
        batch.drop_column("version")
