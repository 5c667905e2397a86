"""Alert events: each event stored once under its key, claimed into a batch, delivered, marked.

An event is alerted once because its key is unique: a second detection of the same spike, mention or
failing episode finds the row and adds nothing. Events claimed together share a message_id and go
out as one message; a batch whose delivery failed or was cut short keeps that message_id and is
retried as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, or_, select, update

from monitor.store.engine import dialect_insert
from monitor.store.filters import still_open
from monitor.store.leases import dead_holders, takeable
from monitor.store.schema import alert_events, mention_watches, mentions


@dataclass(frozen=True)
class NewEvent:
    key: str
    kind: str
    summary: str
    due_at: datetime
    watch: str | None = None
    source: str | None = None
    mention_id: int | None = None
    payload: dict[str, Any] | None = None


@dataclass(frozen=True)
class StoredEvent:
    id: int
    key: str
    kind: str
    watch: str | None
    source: str | None
    mention_id: int | None
    summary: str
    payload: dict[str, Any] | None
    first_seen_at: datetime
    last_seen_at: datetime
    due_at: datetime
    message_id: str | None
    claimed_at: datetime | None
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    sent_at: datetime | None
    webhook_sent_at: datetime | None
    leased_by: str | None


def existing_keys(connection: Connection, keys: Collection[str]) -> set[str]:
    if not keys:
        return set()
    return set(connection.scalars(select(alert_events.c.key).where(alert_events.c.key.in_(list(keys)))))


def record_events(connection: Connection, events: Sequence[NewEvent], now: datetime) -> int:
    """Store the events not stored yet; returns how many were new. The first sighting's time stays,
    the last sighting's moves on (a spike that goes on is one event for as long as it is seen)."""
    if not events:
        return 0
    known = existing_keys(connection, [event.key for event in events])
    if known:
        connection.execute(
            update(alert_events).where(alert_events.c.key.in_(list(known))).values(last_seen_at=now)
        )
    rows = [
        {
            "key": event.key,
            "kind": event.kind,
            "watch": event.watch,
            "source": event.source,
            "mention_id": event.mention_id,
            "summary": event.summary,
            "payload": event.payload,
            "first_seen_at": now,
            "last_seen_at": now,
            "due_at": event.due_at,
            "attempts": 0,
        }
        for event in {e.key: e for e in events if e.key not in known}.values()
    ]
    if rows:
        # ON CONFLICT covers a concurrent checker that stored the same event since our SELECT.
        insert = dialect_insert(connection)(alert_events).on_conflict_do_nothing(index_elements=["key"])
        connection.execute(insert, rows)
    return len(rows)


def cancel_unclaimed(connection: Connection, kind: str, keep: Collection[str]) -> int:
    """Forget events of `kind` that are waiting to become due but are no longer detected (a failing
    source that recovered before it was failing long enough to alert)."""
    condition = (alert_events.c.kind == kind) & alert_events.c.claimed_at.is_(None)
    if keep:
        condition = condition & alert_events.c.key.not_in(list(keep))
    return connection.execute(delete(alert_events).where(condition)).rowcount


def claim_due(
    connection: Connection,
    now: datetime,
    message_id_for: Callable[[int], str],
    *,
    email: bool = True,
    webhook: bool = True,
) -> str | None:
    """Gather every due, unclaimed event into one batch (a burst becomes one message); returns the
    batch's message_id, or None when nothing is due. A channel not configured now is stamped as done:
    configuring it later must not flood it with old alerts."""
    ids = list(
        connection.scalars(
            select(alert_events.c.id)
            .where(alert_events.c.claimed_at.is_(None), alert_events.c.due_at <= now)
            .order_by(alert_events.c.id)
        )
    )
    if not ids:
        return None
    message_id = message_id_for(ids[0])
    values: dict[str, Any] = {"claimed_at": now, "message_id": message_id, "next_attempt_at": None}
    if not email:
        values["sent_at"] = now
    if not webhook:
        values["webhook_sent_at"] = now
    claimed = connection.execute(
        update(alert_events)
        .where(alert_events.c.id.in_(ids), alert_events.c.claimed_at.is_(None))
        .values(**values)
    ).rowcount
    return message_id if claimed else None


def undelivered_batches(engine: Engine, email: bool, webhook: bool) -> list[str]:
    """Message ids of claimed batches that a configured channel has not delivered, oldest first."""
    if not email and not webhook:
        return []
    c = alert_events.c
    channels = []
    if email:
        channels.append(c.sent_at.is_(None))
    if webhook:
        channels.append(c.webhook_sent_at.is_(None))
    query = (
        select(c.message_id, func.min(c.id))
        .where(c.message_id.is_not(None), or_(*channels))
        .group_by(c.message_id)
        .order_by(func.min(c.id))
    )
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(query)]


def _event(row: Any) -> StoredEvent:
    return StoredEvent(**row._mapping)


def batch_events(engine: Engine, message_id: str) -> list[StoredEvent]:
    query = select(alert_events).where(alert_events.c.message_id == message_id).order_by(alert_events.c.id)
    with engine.connect() as connection:
        return [_event(row) for row in connection.execute(query)]


def all_events(engine: Engine) -> list[StoredEvent]:
    with engine.connect() as connection:
        return [_event(row) for row in connection.execute(select(alert_events).order_by(alert_events.c.id))]


def unclaimed_events(engine: Engine) -> list[StoredEvent]:
    query = select(alert_events).where(alert_events.c.claimed_at.is_(None)).order_by(alert_events.c.id)
    with engine.connect() as connection:
        return [_event(row) for row in connection.execute(query)]


def lease_batch(
    engine: Engine, message_id: str, now: datetime, until: datetime, holder: str, force: bool = False
) -> bool:
    """Take the batch for one delivery attempt, unless another process is delivering it or it is not
    due yet (`force`: its backoff is skipped, a live holder's lease is not)."""
    c = alert_events.c
    with engine.begin() as connection:
        holders = connection.scalars(select(c.leased_by).where(c.message_id == message_id).distinct())
        free = takeable(
            c.leased_by, c.next_attempt_at, now, force=force, dead=dead_holders(connection, holders)
        )
        result = connection.execute(
            update(alert_events)
            .where(c.message_id == message_id, free)
            .values(next_attempt_at=until, leased_by=holder)
        )
    return result.rowcount > 0


def mark_batch(
    engine: Engine, message_id: str, *, email_at: datetime | None = None, webhook_at: datetime | None = None
) -> None:
    """Record a channel's delivery; only a channel not yet recorded changes."""
    c = alert_events.c
    with engine.begin() as connection:
        if email_at is not None:
            connection.execute(
                update(alert_events)
                .where(c.message_id == message_id, c.sent_at.is_(None))
                .values(sent_at=email_at)
            )
        if webhook_at is not None:
            connection.execute(
                update(alert_events)
                .where(c.message_id == message_id, c.webhook_sent_at.is_(None))
                .values(webhook_sent_at=webhook_at)
            )


def mark_batch_failed(engine: Engine, message_id: str, error: str, next_attempt_at: datetime) -> int:
    """Returns the attempts so far; the batch keeps its message_id and waits for `next_attempt_at`."""
    c = alert_events.c
    with engine.begin() as connection:
        connection.execute(
            update(alert_events)
            .where(c.message_id == message_id)
            .values(
                attempts=c.attempts + 1,
                last_error=error[:2000],
                next_attempt_at=next_attempt_at,
                leased_by=None,
            )
        )
        attempts = connection.scalar(select(func.max(c.attempts)).where(c.message_id == message_id))
    return int(attempts or 0)


def mark_batch_delivered(engine: Engine, message_id: str) -> None:
    """Every configured channel has it: count the attempt and release the lease."""
    c = alert_events.c
    with engine.begin() as connection:
        connection.execute(
            update(alert_events)
            .where(c.message_id == message_id)
            .values(attempts=c.attempts + 1, next_attempt_at=None, last_error=None, leased_by=None)
        )


# What detection reads: negative counts per window, recent negative mentions, the last spike.


def _watch_filter(watch: str) -> Any:
    return mentions.c.id.in_(select(mention_watches.c.mention_id).where(mention_watches.c.watch == watch))


def negative_count(connection: Connection, watch: str, start: datetime, end: datetime) -> int:
    c = mentions.c
    query = (
        select(func.count())
        .select_from(mentions)
        .where(c.label == "negative", c.created_at >= start, c.created_at < end, _watch_filter(watch))
    )
    return int(connection.scalar(query) or 0)


def recent_negatives(connection: Connection, created_since: datetime) -> list[dict[str, Any]]:
    """Open negative mentions posted since then (through the label and time index): handled or
    dismissed ones need nobody woken up."""
    c = mentions.c
    query = (
        select(
            c.id,
            c.source,
            c.author,
            c.text,
            c.url,
            c.created_at,
            c.author_reach,
            c.engagement,
            c.rating,
            c.label,
            c.negative,
            c.rank_key,
        )
        .where(c.label == "negative", c.created_at >= created_since, still_open())
        .order_by(c.id)
    )
    return [dict(row._mapping) for row in connection.execute(query)]


def last_sighting(connection: Connection, kind: str, watch: str) -> tuple[str, datetime] | None:
    """The key and last sighting of the watch's latest event of this kind."""
    row = connection.execute(
        select(alert_events.c.key, alert_events.c.last_seen_at)
        .where(alert_events.c.kind == kind, alert_events.c.watch == watch)
        .order_by(alert_events.c.last_seen_at.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None
