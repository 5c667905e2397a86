"""The webhook events' side of the store: read what happened since a cursor, record each event once with
a delivery per subscribed endpoint, and move the cursor, all in the caller's transaction.

Why a cursor over what is already stored, not an outbox written by each change: the changes are made
by many writers (scoring, the source's edits, cases, replies, alerts), and a cursor over their own rows
needs none of them to know about webhooks, yet misses nothing a crash interrupts (the cursor moves in
the transaction that records the events). Rows are read by time, from a little before the cursor
(`OVERLAP`): on PostgreSQL two writers can commit in the other order than they stamped their rows, so a
row may appear behind the cursor; reading back over the overlap finds it, and the unique origin row
keeps each event once however often it is read."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, exists, select, update

from monitor.store.engine import dialect_insert
from monitor.store.schema import (
    alert_events,
    case_replies,
    cases,
    mention_events,
    mention_watches,
    mentions,
    webhook_cursors,
    webhook_deliveries,
    webhook_events,
)

# A writer that stamps a row and commits it more than this later may have it passed by the cursor.
OVERLAP = timedelta(minutes=5)
# Rows read per origin per pass; the rest wait for the next pass (which comes at once when this one was full).
BATCH = 2000

MENTIONS = "mentions"
MENTION_EVENTS = "mention_events"
ALERT_EVENTS = "alert_events"


@dataclass(frozen=True)
class NewEvent:
    msg_id: str
    type: str
    origin: str
    origin_id: int
    occurred_at: datetime
    body: str


def read_from(connection: Connection, origin: str, now: datetime) -> datetime:
    """Where to read the origin from: `OVERLAP` before its cursor, never before its floor. The first
    time, both are `now`: endpoints are told what happens from then on, not the whole history."""
    c = webhook_cursors.c
    insert = dialect_insert(connection)(webhook_cursors).values(origin=origin, position=now, floor=now)
    connection.execute(insert.on_conflict_do_nothing(index_elements=["origin"]))
    row = connection.execute(select(c.position, c.floor).where(c.origin == origin)).one()
    position: datetime = row.position
    floor: datetime = row.floor
    return max(position - OVERLAP, floor)


def advance(connection: Connection, origin: str, to: datetime) -> None:
    c = webhook_cursors.c
    connection.execute(update(webhook_cursors).where(c.origin == origin, c.position < to).values(position=to))


def skip(connection: Connection, origin: str, now: datetime) -> None:
    """Nobody wants the origin's events now: what happened until `now` will never be read."""
    c = webhook_cursors.c
    connection.execute(
        update(webhook_cursors).where(c.origin == origin, c.floor < now).values(position=now, floor=now)
    )


def _not_recorded(origin: str, origin_id: Any) -> Any:
    e = webhook_events.c
    return ~exists().where(e.origin == origin, e.origin_id == origin_id)


def negatives_since(connection: Connection, since: datetime) -> list[Any]:
    """Mentions scored negative at or after `since` that are not yet an event, oldest score first."""
    m = mentions.c
    return list(
        connection.execute(
            select(mentions)
            .where(m.scored_at >= since, m.label == "negative", _not_recorded(MENTIONS, m.id))
            .order_by(m.scored_at, m.id)
            .limit(BATCH)
        )
    )


def mention_events_since(connection: Connection, since: datetime, actions: Collection[str]) -> list[Any]:
    """Audit rows of the given actions at or after `since` not yet an event, with their mention's
    identity and its case as it is now (None where it has none)."""
    e, m, c = mention_events.c, mentions.c, cases.c
    query = (
        select(
            e.id,
            e.mention_id,
            e.action,
            e.before,
            e.after,
            e.note,
            e.actor,
            e.at,
            m.source,
            m.external_id,
            m.url,
            m.author,
            m.deleted_at,
            c.id.label("case_id"),
            c.status.label("case_status"),
            c.assignee.label("case_assignee"),
            c.tags.label("case_tags"),
        )
        .join(mentions, m.id == e.mention_id)
        .outerjoin(cases, c.mention_id == e.mention_id)
        .where(e.at >= since, e.action.in_(list(actions)), _not_recorded(MENTION_EVENTS, e.id))
        .order_by(e.at, e.id)
        .limit(BATCH)
    )
    return list(connection.execute(query))


def alerts_since(connection: Connection, since: datetime) -> list[Any]:
    """Alert events claimed for sending (the moment people are alerted) at or after `since`."""
    a = alert_events.c
    return list(
        connection.execute(
            select(alert_events)
            .where(a.claimed_at >= since, _not_recorded(ALERT_EVENTS, a.id))
            .order_by(a.claimed_at, a.id)
            .limit(BATCH)
        )
    )


def watches_of(connection: Connection, mention_ids: Collection[int]) -> dict[int, list[str]]:
    w = mention_watches.c
    found: dict[int, list[str]] = {}
    rows = connection.execute(
        select(w.mention_id, w.watch).where(w.mention_id.in_(list(mention_ids))).order_by(w.watch)
    )
    for mention_id, watch in rows:
        found.setdefault(mention_id, []).append(watch)
    return found


def mentions_by_id(connection: Connection, mention_ids: Collection[int]) -> dict[int, Any]:
    rows = connection.execute(select(mentions).where(mentions.c.id.in_(list(mention_ids))))
    return {row.id: row for row in rows}


def posted_reply(connection: Connection, case_id: int | None) -> Any:
    """The case's latest posted reply (None when there is none)."""
    if case_id is None:
        return None
    r = case_replies.c
    return connection.execute(
        select(r.id, r.text, r.author, r.remote_id, r.remote_url, r.posted_at, r.status)
        .where(r.case_id == case_id, r.status.in_(("posted", "posted_by_hand")))
        .order_by(r.id.desc())
        .limit(1)
    ).first()


def record(
    connection: Connection,
    events: Sequence[NewEvent],
    subscribers: Mapping[str, Sequence[str]],
    now: datetime,
) -> int:
    """Store each event not stored before, with a pending delivery for each endpoint in
    `subscribers[event.type]`. Returns how many deliveries were made. Safe when two processes record
    the same event at once: the origin row is unique, and only the one that stored it fans it out."""
    if not events:
        return 0
    rows = [
        {
            "msg_id": event.msg_id,
            "type": event.type,
            "origin": event.origin,
            "origin_id": event.origin_id,
            "occurred_at": event.occurred_at,
            "body": event.body,
            "created_at": now,
        }
        for event in events
    ]
    insert = (
        dialect_insert(connection)(webhook_events)
        .on_conflict_do_nothing(index_elements=["origin", "origin_id"])
        .returning(webhook_events.c.id, webhook_events.c.type)
    )
    stored = connection.execute(insert, rows).all()
    deliveries = [
        {"event_id": event_id, "endpoint": endpoint, "status": "pending", "attempts": 0, "created_at": now}
        for event_id, event_type in stored
        for endpoint in subscribers.get(event_type, ())
    ]
    if deliveries:
        connection.execute(webhook_deliveries.insert(), deliveries)
    return len(deliveries)
