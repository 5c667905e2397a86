"""A watch's calibration may be a model fine-tuned on its corrections: the tensors fine-tuning changed
are kept with the calibration (adapted_models), so every worker scores the watch with them.

Revision ID: 0029
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "adapted_models",
        sa.Column(
            "calibration_id",
            sa.Integer,
            sa.ForeignKey("calibrations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("weights", sa.LargeBinary, nullable=False),
        sa.Column("recipe", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("adapted_models")
