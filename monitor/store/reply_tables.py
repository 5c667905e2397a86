"""Every version of a reply's text and who wrote it (respond/reply_versions.py): the approval rule asks
who wrote any of it, and a draft saved over a version someone else wrote meanwhile is refused.

case_replies (schema.py) holds the current text and its `version`; this table holds every version,
the current one included. schema.py re-exports it; import it from there."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint

from monitor.store.dialects import UTCDateTime
from monitor.store.mention_tables import metadata

reply_versions = Table(
    "reply_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reply_id", Integer, ForeignKey("case_replies.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("author", String(128), nullable=False),
    # The author's role when they wrote it: a version by a role whose replies need approval makes the
    # whole reply need it, whoever submits it.
    Column("author_role", String(32), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    # Who had approved the text this version replaced (its approval lapsed): the reply needs approval again.
    Column("lapsed_approval", String(128)),
    UniqueConstraint("reply_id", "version", name="uq_reply_versions_reply_version"),
)
