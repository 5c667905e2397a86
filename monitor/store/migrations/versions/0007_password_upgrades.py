"""Password hashes upgraded to argon2id at sign-in, beside the configured hash they replace.

Revision ID: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "password_upgrades",
        sa.Column("user_name", sa.String(128), primary_key=True),
        sa.Column("replaces", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("upgraded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("password_upgrades")
