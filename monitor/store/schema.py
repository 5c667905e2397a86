"""The tables. Changes go through an Alembic migration in `migrations/versions/`, never create_all.

The mention tables and `metadata` are in mention_tables.py and re-exported here; this module adds the
rest (collection state, delivery, the care workflow, sign-in, limits, views, streams), so importing it
declares every table: `from monitor.store.schema import X` for any of them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from monitor.store.api_token_tables import api_tokens as api_tokens

# Re-exported, so that this module names every table.
from monitor.store.calibration_tables import active_calibrations as active_calibrations
from monitor.store.calibration_tables import adapted_models as adapted_models
from monitor.store.calibration_tables import calibration_events as calibration_events
from monitor.store.calibration_tables import calibrations as calibrations
from monitor.store.canned_reply_tables import canned_replies as canned_replies
from monitor.store.dialects import UTCDateTime
from monitor.store.helpdesk_tables import helpdesk_deliveries as helpdesk_deliveries
from monitor.store.helpdesk_tables import helpdesk_links as helpdesk_links
from monitor.store.mention_tables import INBOX_ORDERS as INBOX_ORDERS
from monitor.store.mention_tables import label_feedback as label_feedback
from monitor.store.mention_tables import mention_events as mention_events
from monitor.store.mention_tables import mention_full_texts as mention_full_texts
from monitor.store.mention_tables import mention_versions as mention_versions
from monitor.store.mention_tables import mention_watches as mention_watches
from monitor.store.mention_tables import mentions as mentions
from monitor.store.mention_tables import metadata as metadata
from monitor.store.reply_tables import reply_versions as reply_versions
from monitor.store.team_tables import event_cursors as event_cursors
from monitor.store.team_tables import notification_preferences as notification_preferences
from monitor.store.team_tables import notifications as notifications
from monitor.store.team_tables import presence as presence
from monitor.store.topic_tables import mention_embeddings as mention_embeddings
from monitor.store.topic_tables import mention_topics as mention_topics
from monitor.store.topic_tables import topic_events as topic_events
from monitor.store.topic_tables import topics as topics
from monitor.store.webhook_tables import webhook_attempts as webhook_attempts
from monitor.store.webhook_tables import webhook_cursors as webhook_cursors
from monitor.store.webhook_tables import webhook_deliveries as webhook_deliveries
from monitor.store.webhook_tables import webhook_endpoints as webhook_endpoints
from monitor.store.webhook_tables import webhook_events as webhook_events

collect_state = Table(
    "collect_state",
    metadata,
    Column("watch", String(128), primary_key=True),
    Column("source", String(40), primary_key=True),
    Column("cursor", Text),
    Column("last_attempt_at", UTCDateTime()),
    Column("last_success_at", UTCDateTime()),
    Column("last_error_at", UTCDateTime()),
    Column("last_error", Text),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime()),
    Column("mentions_collected", BigInteger, nullable=False, default=0),
    # Set by a run that worked only in part (one feed of several failed); cleared by a clean run.
    Column("last_warning", Text),
)

# One digest for one recipient list: created in "intent" with its mentions claimed and its message
# rendered, then "sent" once the server took it; "quiet" records a period with nothing to send.
digest_runs = Table(
    "digest_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("list_name", String(128), nullable=False),
    Column("period_start", UTCDateTime(), nullable=False),
    Column("period_end", UTCDateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("recipients", JSON, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("mention_count", Integer, nullable=False, default=0),
    Column("message_id", String(255)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime()),
    Column("last_error", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime()),
    # The scheduled occurrence the run belongs to (monitor.surface.slots); unique per list, so no two
    # processes both send one occurrence's digest. Runs made before migration 0010 have none.
    Column("slot", UTCDateTime()),
    # The process sending it now (monitor.store.leases); None when nobody is.
    Column("leased_by", String(160)),
    Index("ix_digest_runs_list_period", "list_name", "period_end"),
    Index("ix_digest_runs_status", "status", "next_attempt_at"),
    Index("uq_digest_runs_list_slot", "list_name", "slot", unique=True),
)

# The unique (list, mention) pair is what keeps a mention in one digest per list, whatever crashes.
digest_items = Table(
    "digest_items",
    metadata,
    Column("run_id", Integer, ForeignKey("digest_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("mention_id", Integer, ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True),
    Column("list_name", String(128), nullable=False),
    Column("position", Integer, nullable=False),
    UniqueConstraint("list_name", "mention_id", name="uq_digest_items_list_mention"),
)

# One row per event (a spike in one window, one loud mention, one failing episode), unique on its key
# so it is alerted once; events claimed together share a message_id and go out as one message.
alert_events = Table(
    "alert_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(255), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("watch", String(128)),
    Column("source", String(40)),
    Column("mention_id", Integer),
    Column("summary", Text, nullable=False),
    Column("payload", JSON),
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("message_id", String(255)),
    Column("claimed_at", UTCDateTime()),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime()),
    Column("last_error", Text),
    # When email and the webhook delivered the batch; a channel not configured at the claim is
    # stamped then, so configuring it later does not send it old alerts.
    Column("sent_at", UTCDateTime()),
    Column("webhook_sent_at", UTCDateTime()),
    # The process delivering the batch now (monitor.store.leases); None when nobody is.
    Column("leased_by", String(160)),
    UniqueConstraint("key", name="uq_alert_events_key"),
    Index("ix_alert_events_message", "message_id"),
    Index("ix_alert_events_pending", "claimed_at", "due_at"),
)

# A case per mention (respond.py): who answers it, where it stands, and the clock against the targets.
# `opened_at` is when the case was opened; its clock (`clock_from`, the due times, the response and
# resolution times) runs from when the mention reached us, since that is how long the customer waited.
cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("mention_id", Integer, ForeignKey("mentions.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(24), nullable=False),
    Column("assignee", String(128)),
    Column("tags", JSON),
    Column("opened_at", UTCDateTime(), nullable=False),
    Column("clock_from", UTCDateTime(), nullable=False),
    Column("response_due_at", UTCDateTime()),
    Column("resolution_due_at", UTCDateTime()),
    Column("first_response_at", UTCDateTime()),
    Column("resolved_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("mention_id", name="uq_cases_mention"),
    Index("ix_cases_status_due", "status", "response_due_at"),
    Index("ix_cases_assignee", "assignee", "status"),
)

# Replies, one row each from draft to posted. The idempotency key is made at draft time and sent with
# every attempt; "posting" is written before the network call, so a crash leaves a row that says so.
case_replies = Table(
    "case_replies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("source", String(40), nullable=False),
    Column("status", String(24), nullable=False),
    Column("text", Text, nullable=False),
    Column("template", String(128)),
    Column("idempotency_key", String(64), nullable=False),
    Column("author", String(128), nullable=False),
    Column("approved_by", String(128)),
    Column("approved_at", UTCDateTime()),
    Column("attempts", Integer, nullable=False, default=0),
    Column("claimed_at", UTCDateTime()),
    Column("remote_id", String(512)),
    Column("remote_url", Text),
    Column("error", Text),
    Column("error_kind", String(32)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("posted_at", UTCDateTime()),
    # Where the source has the posted reply, for a store that publishes later (App Store Connect:
    # "pending" until Apple publishes it, then "published"); None where the source does not say.
    Column("remote_state", String(24)),
    # The text's version (reply_versions holds each); a draft saved over another version is refused.
    Column("version", Integer, nullable=False, server_default="1"),
    # Who was asked to approve it at submit: a user's name, or "role:<role>" (anyone with that role).
    Column("approver", String(160)),
    UniqueConstraint("idempotency_key", name="uq_case_replies_key"),
    Index("ix_case_replies_case", "case_id", "id"),
    Index("ix_case_replies_status", "status", "claimed_at"),
)

# Recipients who unsubscribed from a digest list in the dashboard; sending skips them.
digest_optouts = Table(
    "digest_optouts",
    metadata,
    Column("list_name", String(128), primary_key=True),
    Column("email", String(320), primary_key=True),
    Column("at", UTCDateTime(), nullable=False),
)

# A stronger hash made at sign-in for a user whose configured hash is an older scheme (scrypt): the
# config file is the user's to edit, so the upgrade lives here, valid only while the configured hash it
# `replaces` (its sha256) is still the one in the config.
password_upgrades = Table(
    "password_upgrades",
    metadata,
    Column("user_name", String(128), primary_key=True),
    Column("replaces", String(64), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("upgraded_at", UTCDateTime(), nullable=False),
)

# Failed sign-ins in the last window, per hash of a user name or a client address (store/login_failures.py).
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_login_failures_key_at", "key", "at"),
    Index("ix_login_failures_at", "at"),
)

# Keys that sign what leaves the server and must come back unchanged (session cookies, unsubscribe
# links). Made at random on first use and kept here, so the dashboard and the scheduler that mails the
# links, on any machine using this database, sign and check with the same key.
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("purpose", String(40), primary_key=True),
    Column("secret", String(128), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# Dashboard sign-ins. The browser holds a signed cookie naming a row; signing out revokes the row, so a
# copied cookie stops working too, in every open tab.
dashboard_sessions = Table(
    "dashboard_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_name", String(128), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
    Index("ix_dashboard_sessions_user", "user_name"),
)

# One row per recipient a digest run reached: a run is sent to each recipient separately (each with
# their own unsubscribe link), and a retry after a partial failure skips those already reached.
digest_deliveries = Table(
    "digest_deliveries",
    metadata,
    Column("run_id", Integer, ForeignKey("digest_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("recipient", String(320), primary_key=True),
    Column("message_id", String(320), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=False),
)

# Token buckets for the limits Grumble keeps on its own requests (Reddit's 100 a minute per OAuth
# client), shared by every process on this database (store/rate_limits.py). `key` names the API and a
# hash of the client id, never a secret.
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", String(80), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# A person's named inbox views: the query of the link that opens the view (surface/inbox_view.py).
saved_views = Table(
    "saved_views",
    metadata,
    Column("user_name", String(128), primary_key=True),
    Column("name", String(80), primary_key=True),
    Column("params", JSON, nullable=False),
    Column("saved_at", UTCDateTime(), nullable=False),
    # Shared with the team: every signed-in person sees it; only its owner changes it (0022).
    Column("shared", Boolean, nullable=False, default=False, server_default=false()),
    Index("ix_saved_views_shared", "shared", "name"),
)

# Authors marked VIP, per source (names are only unique per source): their mentions rank higher
# (ranking.VIP_FACTOR), through the stored rank_key, which marking and unmarking move.
vip_authors = Table(
    "vip_authors",
    metadata,
    Column("source", String(40), primary_key=True),
    Column("author", String(256), primary_key=True),
    Column("set_by", String(128), nullable=False),
    Column("set_at", UTCDateTime(), nullable=False),
)

# One row per live stream connection (source + endpoint), shared by every watch that streams from it
# (monitor/streams/): its resume cursor, written in the transaction that stores its mentions, and the
# health `grumble status`, the Sources page and /metrics show.
stream_state = Table(
    "stream_state",
    metadata,
    Column("source", String(40), primary_key=True),
    Column("endpoint", String(400), primary_key=True),
    Column("cursor", Text),
    Column("holder", String(128)),  # the process reading it (host:pid)
    Column("connected", Boolean, nullable=False, default=False),
    Column("connected_at", UTCDateTime()),
    Column("heartbeat_at", UTCDateTime()),  # the runner's last sign of life
    Column("last_event_at", UTCDateTime()),  # the newest event's own time (the server's)
    Column("lag_seconds", Float),  # received time - event time, for the newest batch
    Column("events_per_minute", Float),
    Column("events_total", BigInteger, nullable=False, default=0),
    Column("mentions_total", BigInteger, nullable=False, default=0),
    Column("reconnects", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("fell_back_at", UTCDateTime()),  # when it last backfilled or polled for want of the stream
    Column("fell_back_reason", Text),
)
