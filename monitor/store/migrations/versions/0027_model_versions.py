"""Reserved revision (model_versions): filled in by the change that needs it.

Revision ID: 0027
"""

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
