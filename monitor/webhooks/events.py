"""What happened, read from what is already stored: one origin table per kind of news, each read from its
cursor (monitor/store/webhook_outbox.py says why a cursor and not an outbox).

    mentions        scored negative              -> mention.negative (once per mention)
    mention_events  edited, deleted              -> mention.updated
                    case                         -> case.opened
                    status, assign, tags, note   -> case.updated
                    reply_posted, reply_by_hand  -> reply.posted
    alert_events    claimed (the alert went out) -> alert.raised

An origin no enabled endpoint wants is not read; its cursor moves to now, so subscribing later does not
send what happened before."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from monitor.store import webhook_outbox as outbox
from monitor.webhooks import payloads
from monitor.webhooks.event_types import (
    ALERT_RAISED,
    CASE_OPENED,
    CASE_UPDATED,
    MENTION_NEGATIVE,
    MENTION_UPDATED,
    REPLY_POSTED,
)

# mention_events.action -> the event it is.
ACTION_EVENTS: dict[str, str] = {
    "edited": MENTION_UPDATED,
    "deleted": MENTION_UPDATED,
    "case": CASE_OPENED,
    "status": CASE_UPDATED,
    "assign": CASE_UPDATED,
    "tags": CASE_UPDATED,
    "note": CASE_UPDATED,
    "reply_posted": REPLY_POSTED,
    "reply_by_hand": REPLY_POSTED,
}


def new_msg_id() -> str:
    """A `webhook-id`: random, so ids never repeat across databases (a receiver keeps them for good)."""
    return f"msg_{uuid.uuid4().hex}"


def _event(
    origin: str, origin_id: int, event_type: str, at: datetime, data: Mapping[str, Any]
) -> outbox.NewEvent:
    return outbox.NewEvent(
        msg_id=new_msg_id(),
        type=event_type,
        origin=origin,
        origin_id=origin_id,
        occurred_at=at,
        body=payloads.body(event_type, at, data),
    )


@dataclass(frozen=True)
class Read:
    events: list[outbox.NewEvent]
    position: datetime | None  # the newest row's time, where the cursor moves


def _negatives(connection: Connection, since: datetime, wanted: set[str], public_url: str) -> Read:
    rows = outbox.negatives_since(connection, since)
    watches = outbox.watches_of(connection, [row.id for row in rows])
    events = [
        _event(
            outbox.MENTIONS,
            row.id,
            MENTION_NEGATIVE,
            row.scored_at,
            {"mention": payloads.mention_full(row, watches.get(row.id, []), public_url)},
        )
        for row in rows
    ]
    return Read(events, max((row.scored_at for row in rows), default=None))


def _mention_events(connection: Connection, since: datetime, wanted: set[str], public_url: str) -> Read:
    actions = [action for action, event_type in ACTION_EVENTS.items() if event_type in wanted]
    rows = outbox.mention_events_since(connection, since, actions)
    edited = [row.mention_id for row in rows if ACTION_EVENTS[row.action] == MENTION_UPDATED]
    full = outbox.mentions_by_id(connection, edited) if edited else {}
    watches = outbox.watches_of(connection, edited) if edited else {}
    events = []
    for row in rows:
        event_type = ACTION_EVENTS[row.action]
        data: dict[str, Any] = {"change": payloads.change(row)}
        if event_type == MENTION_UPDATED:
            data["mention"] = payloads.mention_full(
                full[row.mention_id], watches.get(row.mention_id, []), public_url
            )
        else:
            data["mention"] = payloads.mention_identity(row.mention_id, row, public_url)
            data["case"] = payloads.case(row)
        if event_type == REPLY_POSTED:
            data["reply"] = payloads.reply(outbox.posted_reply(connection, row.case_id))
        events.append(_event(outbox.MENTION_EVENTS, row.id, event_type, row.at, data))
    return Read(events, max((row.at for row in rows), default=None))


def _alerts(connection: Connection, since: datetime, wanted: set[str], public_url: str) -> Read:
    rows = outbox.alerts_since(connection, since)
    events = [
        _event(
            outbox.ALERT_EVENTS,
            row.id,
            ALERT_RAISED,
            row.claimed_at,
            {"alert": payloads.alert(row, public_url)},
        )
        for row in rows
    ]
    return Read(events, max((row.claimed_at for row in rows), default=None))


Reader = Callable[[Connection, datetime, set[str], str], Read]

# Each origin: the event types it yields, and how to read them.
ORIGINS: dict[str, tuple[frozenset[str], Reader]] = {
    outbox.MENTIONS: (frozenset({MENTION_NEGATIVE}), _negatives),
    outbox.MENTION_EVENTS: (frozenset(ACTION_EVENTS.values()), _mention_events),
    outbox.ALERT_EVENTS: (frozenset({ALERT_RAISED}), _alerts),
}


def record_new_events(
    connection: Connection, subscribers: Mapping[str, Sequence[str]], now: datetime, public_url: str
) -> tuple[int, bool]:
    """Read every origin from its cursor, record the events and their deliveries, move the cursors; in
    the caller's transaction. Returns (deliveries made, whether an origin had more than one batch)."""
    made, more = 0, False
    wanted = {event_type for event_type, endpoints in subscribers.items() if endpoints}
    for origin, (types, read) in ORIGINS.items():
        since = outbox.read_from(connection, origin, now)
        if not types & wanted:
            outbox.skip(connection, origin, now)
            continue
        found = read(connection, since, wanted, public_url)
        made += outbox.record(connection, found.events, subscribers, now)
        if found.position is not None:
            outbox.advance(connection, origin, found.position)
        more = more or len(found.events) >= outbox.BATCH
    return made, more
