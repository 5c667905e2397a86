"""The inbox's three orders get indexes in their own order, so PostgreSQL walks them too.

The inbox sorts "highest first, unscored last" (`DESC NULLS LAST`, store/inbox.py SORTS). SQLite keeps
NULL below every value, so its ascending indexes read backwards gave that order; PostgreSQL keeps NULL
above every value, so read backwards they give `DESC NULLS FIRST`, and it sorted every open negative
instead: 0.5-1.1 s for the first page of a million mentions. Built now in each order, ties included
(schema.py), on both databases.

Revision ID: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# name -> its columns after (triage, label); SQLite's CREATE INDEX drops "NULLS LAST" (schema.py).
ORDERED = {
    "ix_mentions_inbox": ("rank_key DESC NULLS LAST", "created_at DESC", "id DESC"),
    "ix_mentions_inbox_reach": (
        "author_reach DESC NULLS LAST",
        "engagement DESC NULLS LAST",
        "rank_key DESC NULLS LAST",
        "id DESC",
    ),
    "ix_mentions_inbox_negative": ("negative DESC NULLS LAST", "rank_key DESC NULLS LAST", "id DESC"),
}
ASCENDING = {
    "ix_mentions_inbox": ("rank_key",),
    "ix_mentions_inbox_reach": ("author_reach",),
    "ix_mentions_inbox_negative": ("negative",),
}


def _rebuild(indexes: dict[str, tuple[str, ...]]) -> None:
    for name, columns in indexes.items():
        op.drop_index(name, "mentions")
        op.create_index(name, "mentions", ["triage", "label", *(sa.text(column) for column in columns)])


def upgrade() -> None:
    _rebuild(ORDERED)


def downgrade() -> None:
    _rebuild(ASCENDING)
