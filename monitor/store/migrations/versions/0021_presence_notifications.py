"""Reserved revision (presence_notifications): filled in by the change that needs it.

Revision ID: 0021
"""

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
