"""The canned replies' table (migration 0028): texts a responder drops into the reply box by typing
its short code (monitor/respond/canned.py). Declared on the shared `metadata`, re-exported by schema.py.

A reply is the team's (owner "") or one person's (owner: their user name). The team's owner is the empty
string, not NULL, so that the unique (owner, code) pair holds for the team's replies too: NULLs never
collide in a unique constraint, on either database."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table, Text, UniqueConstraint

from monitor.store.dialects import UTCDateTime
from monitor.store.mention_tables import metadata

canned_replies = Table(
    "canned_replies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("owner", String(128), nullable=False),
    Column("code", String(40), nullable=False),
    Column("title", String(120), nullable=False),
    Column("text", Text, nullable=False),
    Column("updated_by", String(128), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("owner", "code", name="uq_canned_replies_owner_code"),
)
