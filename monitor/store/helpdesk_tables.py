"""The helpdesk hand-off's tables (monitor/helpdesk/): one link per mention and helpdesk, and the
webhook deliveries received back, kept to answer a replay once. Re-exported by schema.py."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from monitor.store.dialects import UTCDateTime
from monitor.store.mention_tables import metadata

# A mention handed to one helpdesk. The row is written ("sending", with its `marker`) before the create
# request leaves, so a crash or a lost answer leaves a row that says so; the marker is written into the
# conversation or ticket, so a retry finds what the lost attempt created instead of creating a second.
helpdesk_links = Table(
    "helpdesk_links",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("mention_id", Integer, ForeignKey("mentions.id", ondelete="CASCADE"), nullable=False),
    Column("helpdesk", String(20), nullable=False),
    Column("marker", String(40), nullable=False),
    # sending -> sent, or -> unconfirmed (it may exist: the next attempt looks first), or -> failed
    Column("state", String(16), nullable=False),
    Column("remote_id", String(64)),
    Column("remote_url", Text),
    # What the helpdesk last said of it by webhook (open, resolved, closed, ...); None until it speaks.
    Column("remote_status", String(24)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("claimed_at", UTCDateTime()),
    # When the scheduler tries a failed or unconfirmed hand-off again (backoff); None: it waits for a person.
    Column("next_attempt_at", UTCDateTime()),
    Column("error", Text),
    Column("requested_by", String(128), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime()),
    UniqueConstraint("mention_id", "helpdesk", name="uq_helpdesk_links_mention_helpdesk"),
    Index("ix_helpdesk_links_remote", "helpdesk", "remote_id"),
    Index("ix_helpdesk_links_retry", "state", "next_attempt_at"),
)

# Every signed webhook delivery acted on, unique on a key the signature covers (a hash of the signed
# bytes), so the same delivery sent again, by the helpdesk's retry or by someone who copied it, does
# nothing the second time. Refused calls are logged, not stored: a forger must not be able to take a
# real delivery's key.
helpdesk_deliveries = Table(
    "helpdesk_deliveries",
    metadata,
    Column("helpdesk", String(20), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("delivery_id", String(128)),  # the helpdesk's own id for it, where it sends one
    Column("event", String(64)),
    Column("remote_id", String(64)),
    Column("outcome", String(200), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Index("ix_helpdesk_deliveries_received", "received_at"),
)
