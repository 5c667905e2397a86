"""What each watch learned from its corrections: fitted calibrations, the active one per watch, the
history of changes; and every score names the calibration that gave it (mentions.calibration_id).

Revision ID: 0027
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calibrations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("watch", sa.String(128), nullable=False),
        sa.Column("model_version", sa.String(128), nullable=False),
        sa.Column("offsets", sa.JSON, nullable=False),
        sa.Column("target", sa.String(40), nullable=False),
        sa.Column("corrections", sa.Integer, nullable=False),
        sa.Column("report", sa.JSON, nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_calibrations_watch", "calibrations", ["watch", "id"])
    op.create_table(
        "active_calibrations",
        sa.Column("watch", sa.String(128), primary_key=True),
        sa.Column("calibration_id", sa.Integer, sa.ForeignKey("calibrations.id", ondelete="CASCADE")),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(128), nullable=False),
    )
    op.create_table(
        "calibration_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("watch", sa.String(128), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("calibration_id", sa.Integer),
        sa.Column("previous_id", sa.Integer),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_calibration_events_watch", "calibration_events", ["watch", "id"])
    op.add_column("mentions", sa.Column("calibration_id", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("mentions") as batch:
        batch.drop_column("calibration_id")
    op.drop_index("ix_calibration_events_watch", table_name="calibration_events")
    op.drop_table("calibration_events")
    op.drop_table("active_calibrations")
    op.drop_index("ix_calibrations_watch", table_name="calibrations")
    op.drop_table("calibrations")
