"""Reserved revision (reply_versions): filled in by the change that needs it.

Revision ID: 0020
"""

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
