"""The tables of people working one inbox together (migration 0021): who is on a mention now, and what
each person is told (monitor/team/).

Declared on the shared `metadata` and re-exported by schema.py, like the mention tables."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from monitor.store.dialects import UTCDateTime
from monitor.store.mention_tables import metadata

# Who has a mention open, kept by a heartbeat from each person's page (dashboard/presence.py): a row is
# current while its last beat is younger than monitor.team.presence.EXPIRES_AFTER, so it holds across
# dashboard processes and a closed tab simply stops beating. `drafting_at` is the last beat made with
# text in the reply box; NULL once the box is empty again.
presence = Table(
    "presence",
    metadata,
    Column("mention_id", Integer, ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True),
    Column("user_name", String(128), primary_key=True),
    Column("seen_at", UTCDateTime(), nullable=False),
    Column("drafting_at", UTCDateTime()),
    Index("ix_presence_seen", "seen_at"),
)

# One row per (audit event, person told): the unique pair is what keeps two processes fanning out the
# same event from telling anyone twice. The email columns follow the digests' delivery protocol: a
# Message-ID made with the row, a lease naming the sending process, a backoff after a failure.
# email_state: pending (to send), sent, or off (no address, no mail server, or the person opted out).
notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", Integer, ForeignKey("mention_events.id", ondelete="CASCADE"), nullable=False),
    Column("recipient", String(128), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("mention_id", Integer, ForeignKey("mentions.id", ondelete="CASCADE"), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("detail", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("read_at", UTCDateTime()),
    Column("email_state", String(16), nullable=False),
    Column("message_id", String(255)),
    Column("email_attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime()),
    Column("leased_by", String(160)),
    Column("last_error", Text),
    Column("emailed_at", UTCDateTime()),
    UniqueConstraint("event_id", "recipient", name="uq_notifications_event_recipient"),
    Index("ix_notifications_recipient", "recipient", "read_at"),
    Index("ix_notifications_email", "email_state", "next_attempt_at"),
)

# Which kinds of notification a person also wants by email (a missing row: yes). The For you page and
# the signed unsubscribe link in each email change it.
notification_preferences = Table(
    "notification_preferences",
    metadata,
    Column("user_name", String(128), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("email", Boolean, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# How far through `mention_events` the fan-out has read (monitor/team/fanout.py); one row per reader.
event_cursors = Table(
    "event_cursors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("last_event_id", Integer, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)
