"""From the audit trail to notifications: read `mention_events` past a cursor, turn each event into a
row per person told (notifications.py says who), and move the cursor, all in one transaction.

- Nothing missed after a crash: the rows and the cursor commit together, so a run that dies is read
  again from where the last committed run stopped.
- Nothing told twice: a row is unique per (event, person), inserted "on conflict do nothing", so an
  event read twice (by a rerun, or by two processes at once) makes its rows once.
- Nothing skipped by a late commit: on PostgreSQL an event's id is taken when it is written and it is
  seen when its transaction commits, so a smaller id can appear after a larger one was read. The cursor
  therefore only passes events older than SETTLE; younger ones are read again on the next run (and
  make no second row). A transaction open longer than SETTLE is the one case this gives up on.

Each row's email is decided here, as the alerts do for a channel: "pending" only when a mail server is
configured, the person has an address and has not turned that kind off. Configuring mail later does
not mail people their history.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from monitor.config import Config
from monitor.store import notifications as store
from monitor.surface.mail import new_message_id
from monitor.team.notifications import recipients

CURSOR = "notifications"  # its row is made by migration 0021, at the newest event then
SETTLE = timedelta(minutes=5)
BATCH = 500


def fan_out(engine: Engine, config: Config, now: datetime) -> int:
    """Make the notifications for every event past the cursor. Returns how many rows were new."""
    added = 0
    with engine.connect() as connection:
        read_to = store.cursor_position(connection, CURSOR)
    while True:
        with engine.begin() as connection:
            if read_to is None:  # no cursor (its row was deleted): start from now, tell no history
                store.move_cursor(connection, CURSOR, store.newest_event_id(connection), now)
                return 0
            events = store.events_after(connection, read_to, BATCH)
            rows = [
                _row(config, connection, event, told.recipient, told.kind, told.detail, now)
                for event in events
                for told in recipients(event, connection, config.users, config.responder)
            ]
            added += store.add_notifications(connection, rows)
            settled = _settled_prefix(events, now - SETTLE)
            if settled is not None:
                store.move_cursor(connection, CURSOR, settled, now)
        if len(events) < BATCH:
            return added
        read_to = events[-1].id


def _settled_prefix(events: list[store.StoredEvent], before: datetime) -> int | None:
    """The id of the last event of the leading run older than `before` (None: the first is younger)."""
    last = None
    for event in events:
        if event.at > before:
            break
        last = event.id
    return last


def _row(
    config: Config,
    connection: Any,
    event: store.StoredEvent,
    recipient: str,
    kind: str,
    detail: str | None,
    now: datetime,
) -> dict[str, Any]:
    user = next(u for u in config.users if u.name == recipient)
    wanted = store.email_choices(connection, recipient).get(kind, True)
    mail = bool(config.smtp.host and user.email and wanted)
    return {
        "event_id": event.id,
        "recipient": recipient,
        "kind": kind,
        "mention_id": event.mention_id,
        "actor": event.actor,
        "detail": detail,
        "created_at": now,
        "email_state": store.PENDING if mail else store.OFF,
        "message_id": new_message_id("notice", f"{event.id}-{recipient}", config.smtp.from_address),
        "email_attempts": 0,
    }
