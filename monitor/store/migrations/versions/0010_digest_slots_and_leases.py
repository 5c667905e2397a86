"""Scale-out: a digest run is unique per list and scheduled slot, and a delivery lease names its holder.

Runs made before this revision have no slot (NULL, which a unique index never finds equal), so their
history stays as it was; every run made from now on has one.

Revision ID: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("digest_runs", sa.Column("slot", sa.DateTime(timezone=True)))
    op.add_column("digest_runs", sa.Column("leased_by", sa.String(160)))
    # A unique index, not a constraint: SQLite adds a constraint only by rebuilding the table, and
    # dropping the old digest_runs would cascade into digest_items and digest_deliveries.
    op.create_index("uq_digest_runs_list_slot", "digest_runs", ["list_name", "slot"], unique=True)
    op.add_column("alert_events", sa.Column("leased_by", sa.String(160)))


def downgrade() -> None:
    with op.batch_alter_table("alert_events") as batch:
        batch.drop_column("leased_by")
    op.drop_index("uq_digest_runs_list_slot", "digest_runs")
    with op.batch_alter_table("digest_runs") as batch:
        batch.drop_column("leased_by")
        batch.drop_column("slot")
