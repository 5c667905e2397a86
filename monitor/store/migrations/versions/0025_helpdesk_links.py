"""Reserved revision (helpdesk_links): filled in by the change that needs it.

Revision ID: 0025
"""

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
