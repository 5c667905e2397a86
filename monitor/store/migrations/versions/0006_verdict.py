"""The verdict rule: what the model read in the text, and what decided the label (stars, language).

Revision ID: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("mentions", sa.Column("text_label", sa.String(10)))
    op.add_column("mentions", sa.Column("label_basis", sa.String(10)))


def downgrade() -> None:
    with op.batch_alter_table("mentions") as batch:
        batch.drop_column("label_basis")
        batch.drop_column("text_label")
