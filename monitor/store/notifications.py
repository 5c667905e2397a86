"""Notification rows, email preferences and the fan-out's cursor. Who is told what is monitor/team/'s to
decide; this module only reads and writes, each write one compare-and-set or one insert that a unique
key keeps single."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, or_, select, update

from monitor.store.engine import dialect_insert
from monitor.store.leases import dead_holders, takeable
from monitor.store.schema import (
    case_replies,
    cases,
    event_cursors,
    mention_events,
    notification_preferences,
    notifications,
    reply_versions,
)

PENDING, SENT, OFF = "pending", "sent", "off"  # email_state


@dataclass(frozen=True)
class StoredEvent:
    """A `mention_events` row as the fan-out reads it."""

    id: int
    mention_id: int
    action: str
    before: str | None
    after: str | None
    note: str | None
    actor: str
    at: datetime


@dataclass(frozen=True)
class Notification:
    id: int
    event_id: int
    recipient: str
    kind: str
    mention_id: int
    actor: str
    detail: str | None
    created_at: datetime
    read_at: datetime | None
    email_state: str
    message_id: str | None
    email_attempts: int
    next_attempt_at: datetime | None
    leased_by: str | None
    last_error: str | None
    emailed_at: datetime | None


@dataclass(frozen=True)
class ReplyPeople:
    """Who wrote the case's current reply (every version's author) and whom its submitter chose to
    approve it (a name, "role:<role>", or None)."""

    writers: tuple[str, ...]
    approver: str | None


def reply_people(connection: Connection, mention_id: int) -> ReplyPeople | None:
    """The people of the newest reply on the mention's case; None when it has none."""
    reply = connection.execute(
        select(case_replies.c.id, case_replies.c.author, case_replies.c.approver)
        .join(cases, cases.c.id == case_replies.c.case_id)
        .where(cases.c.mention_id == mention_id)
        .order_by(case_replies.c.id.desc())
        .limit(1)
    ).first()
    if reply is None:
        return None
    versions = connection.scalars(
        select(reply_versions.c.author)
        .where(reply_versions.c.reply_id == reply.id)
        .order_by(reply_versions.c.version)
    )
    writers = list(dict.fromkeys([*versions, reply.author]))
    return ReplyPeople(tuple(writers), reply.approver)


def _notification(row: Any) -> Notification:
    return Notification(**row._mapping)


# --- the fan-out ----------------------------------------------------------------------------------------


def cursor_position(connection: Connection, name: str) -> int | None:
    found = connection.scalar(select(event_cursors.c.last_event_id).where(event_cursors.c.name == name))
    return None if found is None else int(found)


def newest_event_id(connection: Connection) -> int:
    return int(connection.scalar(select(func.coalesce(func.max(mention_events.c.id), 0))) or 0)


def move_cursor(connection: Connection, name: str, to: int, now: datetime) -> None:
    """Move the cursor forward to `to` (never back: another process may have gone further)."""
    insert = dialect_insert(connection)(event_cursors).values(name=name, last_event_id=to, updated_at=now)
    connection.execute(
        insert.on_conflict_do_update(
            index_elements=["name"],
            set_={"last_event_id": to, "updated_at": now},
            where=event_cursors.c.last_event_id < to,
        )
    )


def events_after(connection: Connection, last_id: int, limit: int) -> list[StoredEvent]:
    query = (
        select(mention_events).where(mention_events.c.id > last_id).order_by(mention_events.c.id).limit(limit)
    )
    return [StoredEvent(**row._mapping) for row in connection.execute(query)]


def add_notifications(connection: Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Insert what is not there yet (one per event and recipient); returns how many were new."""
    if not rows:
        return 0
    insert = dialect_insert(connection)(notifications)
    added = 0
    for row in rows:  # RETURNING says whether each went in (rowcount does not, on every driver)
        statement = insert.values(**row).on_conflict_do_nothing(index_elements=["event_id", "recipient"])
        added += len(connection.execute(statement.returning(notifications.c.id)).all())
    return added


# --- the For you list -----------------------------------------------------------------------------------


def for_recipient(
    engine: Engine, recipient: str, *, unread_only: bool = False, limit: int = 100
) -> list[Notification]:
    c = notifications.c
    query = select(notifications).where(c.recipient == recipient)
    if unread_only:
        query = query.where(c.read_at.is_(None))
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(c.id.desc()).limit(limit))
        return [_notification(row) for row in rows]


def unread_count(engine: Engine, recipient: str) -> int:
    c = notifications.c
    query = select(func.count()).where(c.recipient == recipient, c.read_at.is_(None))
    with engine.connect() as connection:
        return int(connection.scalar(query) or 0)


def mark_read(engine: Engine, recipient: str, ids: Sequence[int] | None, at: datetime) -> int:
    """Mark the recipient's own notifications read (`ids` None: all of them). Returns how many changed."""
    c = notifications.c
    query = update(notifications).where(c.recipient == recipient, c.read_at.is_(None))
    if ids is not None:
        query = query.where(c.id.in_(list(ids)))
    with engine.begin() as connection:
        return connection.execute(query.values(read_at=at)).rowcount


# --- email preferences ----------------------------------------------------------------------------------


def email_choices(connection: Connection, user_name: str) -> dict[str, bool]:
    """The kinds this person chose about; a kind not in it is emailed (the default)."""
    p = notification_preferences.c
    rows = connection.execute(select(p.kind, p.email).where(p.user_name == user_name))
    return {row.kind: bool(row.email) for row in rows}


def set_email_choice(engine: Engine, user_name: str, kind: str, email: bool, at: datetime) -> None:
    values = {"email": email, "updated_at": at}
    with engine.begin() as connection:
        insert = dialect_insert(connection)(notification_preferences).values(
            user_name=user_name, kind=kind, **values
        )
        connection.execute(insert.on_conflict_do_update(index_elements=["user_name", "kind"], set_=values))


# --- email delivery -------------------------------------------------------------------------------------


def due_emails(engine: Engine, now: datetime, limit: int = 200) -> list[Notification]:
    """Emails not sent yet whose next attempt (backoff or lease) is due, or that nobody holds."""
    c = notifications.c
    due = or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now, c.leased_by.is_not(None))
    query = select(notifications).where(c.email_state == PENDING, due).order_by(c.id).limit(limit)
    with engine.connect() as connection:
        return [_notification(row) for row in connection.execute(query)]


def lease_email(engine: Engine, notification_id: int, now: datetime, until: datetime, holder: str) -> bool:
    """Take one email for one attempt, unless another process is sending it or its retry is not due."""
    c = notifications.c
    with engine.begin() as connection:
        held = connection.scalar(select(c.leased_by).where(c.id == notification_id))
        free = takeable(
            c.leased_by, c.next_attempt_at, now, force=False, dead=dead_holders(connection, [held])
        )
        result = connection.execute(
            update(notifications)
            .where(c.id == notification_id, c.email_state == PENDING, free)
            .values(next_attempt_at=until, leased_by=holder)
        )
    return result.rowcount > 0


def finish_email(engine: Engine, notification_id: int, state: str, at: datetime | None) -> None:
    """Record the email sent (`SENT`, at `at`) or not to be sent (`OFF`); only a pending one changes."""
    c = notifications.c
    with engine.begin() as connection:
        connection.execute(
            update(notifications)
            .where(c.id == notification_id, c.email_state == PENDING)
            .values(email_state=state, emailed_at=at, leased_by=None, next_attempt_at=None, last_error=None)
        )


def email_failed(engine: Engine, notification_id: int, error: str, next_attempt_at: datetime) -> None:
    c = notifications.c
    with engine.begin() as connection:
        connection.execute(
            update(notifications)
            .where(c.id == notification_id, c.email_state == PENDING)
            .values(
                last_error=error,
                next_attempt_at=next_attempt_at,
                leased_by=None,
                email_attempts=c.email_attempts + 1,
            )
        )


def get_notification(engine: Engine, notification_id: int) -> Notification | None:
    with engine.connect() as connection:
        row = connection.execute(select(notifications).where(notifications.c.id == notification_id)).first()
    return None if row is None else _notification(row)
