"""Digest runs: which mentions each list's digests claimed, and where each digest is in its delivery.

A run is created in "intent" with its mentions claimed and its message rendered, in one transaction;
it becomes "sent" once the mail server took it. (list, mention) is unique in `digest_items`, so no
crash, retry or concurrent run can put a mention into two digests of one list; (list, slot) is unique
in `digest_runs`, so no two processes make (and mail) two digests for one scheduled occurrence, even
when there is nothing to claim.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, case, delete, exists, func, select, update

from monitor.store.engine import dialect_insert
from monitor.store.filters import still_open
from monitor.store.leases import dead_holders, takeable
from monitor.store.queues import only_in_watches
from monitor.store.schema import (
    digest_deliveries,
    digest_items,
    digest_optouts,
    digest_runs,
    mention_watches,
    mentions,
)

INTENT = "intent"
SENT = "sent"
QUIET = "quiet"


@dataclass(frozen=True)
class DigestRun:
    id: int
    list_name: str
    period_start: datetime
    period_end: datetime
    status: str
    recipients: tuple[str, ...]
    subject: str
    body_text: str
    body_html: str
    mention_count: int
    message_id: str | None
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    slot: datetime | None
    leased_by: str | None


def _run(row: Any) -> DigestRun:
    values = dict(row._mapping)
    values["recipients"] = tuple(values["recipients"] or ())
    return DigestRun(**values)


def _in_watches(watches: Sequence[str]) -> ColumnElement[bool]:
    linked = select(mention_watches.c.mention_id).where(mention_watches.c.watch.in_(watches))
    return mentions.c.id.in_(linked)


def last_period_end(connection: Connection, list_name: str) -> datetime | None:
    row = connection.execute(
        select(digest_runs.c.period_end)
        .where(digest_runs.c.list_name == list_name)
        .order_by(digest_runs.c.period_end.desc())
        .limit(1)
    ).first()
    return row[0] if row else None


def unclaimed_negatives(
    connection: Connection,
    list_name: str,
    watches: Sequence[str],
    scored_after: datetime,
    scored_until: datetime,
    leave_out: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Negative mentions scored in the window that no digest of this list has claimed and nobody has
    triaged yet: dismissed ones (spam, not about us) and handled ones (already answered) are left out,
    so a digest never lists as most urgent what the team has dealt with. Mentions only the `leave_out`
    watches matched (competitors) are not the list's."""
    c = mentions.c
    claimed = exists().where(and_(digest_items.c.list_name == list_name, digest_items.c.mention_id == c.id))
    query = select(mentions).where(
        c.label == "negative",
        still_open(),
        c.scored_at > scored_after,
        c.scored_at <= scored_until,
        ~claimed,
    )
    if watches:
        query = query.where(_in_watches(watches))
    if leave_out:
        query = query.where(~only_in_watches(leave_out))
    return [dict(row._mapping) for row in connection.execute(query.order_by(c.id))]


def period_counts(
    connection: Connection,
    watches: Sequence[str],
    start: datetime,
    end: datetime,
    leave_out: Sequence[str] = (),
) -> tuple[int, int]:
    """(all mentions, negative mentions) posted in [start, end), less those only `leave_out` matched."""
    c = mentions.c
    negative = func.sum(case((c.label == "negative", 1), else_=0))
    query = select(func.count(), negative).where(c.created_at >= start, c.created_at < end)
    if watches:
        query = query.where(_in_watches(watches))
    if leave_out:
        query = query.where(~only_in_watches(leave_out))
    row = connection.execute(query).one()
    return int(row[0] or 0), int(row[1] or 0)


def create_run(
    connection: Connection,
    *,
    list_name: str,
    slot: datetime,
    period_start: datetime,
    period_end: datetime,
    status: str,
    recipients: Sequence[str],
    subject: str,
    body_text: str,
    body_html: str,
    mention_ids: Sequence[int],
    now: datetime,
    message_id_for: Callable[[int], str],
    lease_until: datetime | None = None,
    holder: str | None = None,
) -> DigestRun:
    """Insert the run and claim its mentions, inside the caller's transaction, leased to `holder` until
    `lease_until`. A run of this list for the same slot, or a mention another run of this list already
    claimed, makes the insert fail (IntegrityError), and the caller's whole transaction with it:
    nothing is claimed twice, nothing half-claimed, no slot sent twice."""
    inserted = connection.execute(
        digest_runs.insert().values(
            list_name=list_name,
            slot=slot,
            period_start=period_start,
            period_end=period_end,
            status=status,
            recipients=list(recipients),
            subject=subject,
            body_text=body_text,
            body_html=body_html,
            mention_count=len(mention_ids),
            attempts=0,
            next_attempt_at=lease_until,
            leased_by=holder if lease_until is not None else None,
            created_at=now,
        )
    )
    assert inserted.inserted_primary_key is not None
    run_id = int(inserted.inserted_primary_key[0])
    connection.execute(
        update(digest_runs).where(digest_runs.c.id == run_id).values(message_id=message_id_for(run_id))
    )
    if mention_ids:
        connection.execute(
            digest_items.insert(),
            [
                {"run_id": run_id, "mention_id": mention_id, "list_name": list_name, "position": position}
                for position, mention_id in enumerate(mention_ids)
            ],
        )
    row = connection.execute(select(digest_runs).where(digest_runs.c.id == run_id)).one()
    return _run(row)


def slot_run(engine: Engine, list_name: str, slot: datetime) -> DigestRun | None:
    """The list's run for this scheduled occurrence, if one was made."""
    query = select(digest_runs).where(digest_runs.c.list_name == list_name, digest_runs.c.slot == slot)
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return _run(row) if row else None


def get_run(engine: Engine, run_id: int) -> DigestRun | None:
    with engine.connect() as connection:
        row = connection.execute(select(digest_runs).where(digest_runs.c.id == run_id)).first()
    return _run(row) if row else None


def runs(engine: Engine, list_name: str | None = None) -> list[DigestRun]:
    query = select(digest_runs).order_by(digest_runs.c.id)
    if list_name is not None:
        query = query.where(digest_runs.c.list_name == list_name)
    with engine.connect() as connection:
        return [_run(row) for row in connection.execute(query)]


def unsent_runs(engine: Engine, list_name: str | None = None) -> list[DigestRun]:
    """Runs still in "intent", oldest first, whether or not their next attempt is due."""
    query = select(digest_runs).where(digest_runs.c.status == INTENT).order_by(digest_runs.c.id)
    if list_name is not None:
        query = query.where(digest_runs.c.list_name == list_name)
    with engine.connect() as connection:
        return [_run(row) for row in connection.execute(query)]


def run_mention_ids(engine: Engine, run_id: int) -> list[int]:
    query = (
        select(digest_items.c.mention_id)
        .where(digest_items.c.run_id == run_id)
        .order_by(digest_items.c.position)
    )
    with engine.connect() as connection:
        return list(connection.scalars(query))


def lease_run(
    engine: Engine, run_id: int, now: datetime, until: datetime, holder: str, force: bool = False
) -> bool:
    """Take the run for one send attempt: True if it is unsent and due (or `force`: waiting for its
    backoff, but not held by a process still sending it), and no other process took it first; its
    next attempt moves to `until`, so a crash mid-send is retried then."""
    c = digest_runs.c
    with engine.begin() as connection:
        current = connection.scalar(select(c.leased_by).where(c.id == run_id))
        free = takeable(
            c.leased_by, c.next_attempt_at, now, force=force, dead=dead_holders(connection, [current])
        )
        result = connection.execute(
            update(digest_runs)
            .where(c.id == run_id, c.status == INTENT, free)
            .values(next_attempt_at=until, leased_by=holder)
        )
    return result.rowcount == 1


def mark_sent(engine: Engine, run_id: int, message_id: str, at: datetime) -> bool:
    """Only an unsent run changes, so a run is marked once even if two processes sent it."""
    with engine.begin() as connection:
        result = connection.execute(
            update(digest_runs)
            .where(digest_runs.c.id == run_id, digest_runs.c.status == INTENT)
            .values(
                status=SENT,
                message_id=message_id,
                sent_at=at,
                attempts=digest_runs.c.attempts + 1,
                next_attempt_at=None,
                last_error=None,
                leased_by=None,
            )
        )
    return result.rowcount == 1


def mark_failed(engine: Engine, run_id: int, error: str, next_attempt_at: datetime) -> int:
    """Returns the number of attempts so far. The run stays in "intent": it is retried, never dropped."""
    with engine.begin() as connection:
        connection.execute(
            update(digest_runs)
            .where(digest_runs.c.id == run_id, digest_runs.c.status == INTENT)
            .values(
                attempts=digest_runs.c.attempts + 1,
                last_error=error[:2000],
                next_attempt_at=next_attempt_at,
                leased_by=None,
            )
        )
        attempts = connection.scalar(select(digest_runs.c.attempts).where(digest_runs.c.id == run_id))
    return int(attempts or 0)


def delivered_to(engine: Engine, run_id: int) -> set[str]:
    """Lower-cased recipients this run has already reached."""
    query = select(digest_deliveries.c.recipient).where(digest_deliveries.c.run_id == run_id)
    with engine.connect() as connection:
        return set(connection.scalars(query))


def record_delivery(engine: Engine, run_id: int, recipient: str, message_id: str, at: datetime) -> None:
    with engine.begin() as connection:
        connection.execute(
            dialect_insert(connection)(digest_deliveries)
            .values(run_id=run_id, recipient=recipient.strip().lower(), message_id=message_id, sent_at=at)
            .on_conflict_do_nothing(index_elements=["run_id", "recipient"])
        )


def opted_out(engine: Engine, list_name: str) -> set[str]:
    """Lower-cased addresses that unsubscribed from `list_name`."""
    query = select(digest_optouts.c.email).where(digest_optouts.c.list_name == list_name)
    with engine.connect() as connection:
        return {email.lower() for email in connection.scalars(query)}


def set_subscribed(engine: Engine, list_name: str, email: str, subscribed: bool, at: datetime) -> None:
    address = email.strip().lower()
    with engine.begin() as connection:
        connection.execute(
            delete(digest_optouts).where(
                digest_optouts.c.list_name == list_name, digest_optouts.c.email == address
            )
        )
        if not subscribed:
            connection.execute(digest_optouts.insert().values(list_name=list_name, email=address, at=at))
