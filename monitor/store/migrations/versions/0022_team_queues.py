"""Reserved revision (team_queues): filled in by the change that needs it.

Revision ID: 0022
"""

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
