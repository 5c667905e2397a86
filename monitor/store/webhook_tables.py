"""The outbound webhooks' tables (monitor/webhooks/): what happened, who is to be told, what each try did.

Events are derived from what is already stored (mention_events, alert_events, scored mentions) by a
cursor per origin, so nothing a crash interrupts is lost: the cursor only moves in the transaction that
records the events it passed. Each event is kept once (unique on its origin row) with its body as sent,
so every retry sends the same bytes under the same `webhook-id`."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from monitor.store.dialects import UTCDateTime
from monitor.store.mention_tables import mention_events, metadata

# mention_events is read by time for its webhook events (case and reply changes, a source's edits).
Index("ix_mention_events_at", mention_events.c.at)

# How far each origin table has been read: the time of the newest row turned into an event.
webhook_cursors = Table(
    "webhook_cursors",
    metadata,
    Column("origin", String(40), primary_key=True),
    Column("position", UTCDateTime(), nullable=False),
    # Rows older than this are never read: the first pass, and a pass when nobody wanted the origin's
    # events, set it to their time (so subscribing later does not send what happened before).
    Column("floor", UTCDateTime(), nullable=False),
)

# One row per event, whichever endpoints want it; `msg_id` is the `webhook-id` every endpoint gets.
webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("msg_id", String(64), nullable=False),
    Column("type", String(40), nullable=False),
    Column("origin", String(40), nullable=False),
    Column("origin_id", Integer, nullable=False),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("origin", "origin_id", name="uq_webhook_events_origin"),
    UniqueConstraint("msg_id", name="uq_webhook_events_msg_id"),
    Index("ix_webhook_events_created", "created_at"),
)

# One row per (event, endpoint subscribed when the event was recorded): pending until a 2xx answer.
# The lease (monitor.store.leases) is `leased_by` and `next_attempt_at`, as for digests and alerts.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", Integer, ForeignKey("webhook_events.id", ondelete="CASCADE"), nullable=False),
    Column("endpoint", String(128), nullable=False),
    Column("status", String(16), nullable=False),  # pending, delivered
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime()),
    Column("leased_by", String(160)),
    Column("last_error", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("delivered_at", UTCDateTime()),
    UniqueConstraint("event_id", "endpoint", name="uq_webhook_deliveries_event_endpoint"),
    Index("ix_webhook_deliveries_due", "endpoint", "status", "next_attempt_at"),
)

# Every try, for the delivery log (dashboard, `grumble status`): what the endpoint answered, or why not.
webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", Integer, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False),
    Column("endpoint", String(128), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("duration_ms", Integer, nullable=False),
    Index("ix_webhook_attempts_endpoint", "endpoint", "at"),
)

# Each configured endpoint's health: failing since when, and disabled after a day of failures.
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("failing_since", UTCDateTime()),
    Column("last_success_at", UTCDateTime()),
    Column("last_failure_at", UTCDateTime()),
    Column("last_error", Text),
    Column("disabled_at", UTCDateTime()),
    Column("disabled_reason", Text),
)
