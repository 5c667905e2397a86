"""The webhook deliveries' side of the store: lease what is due, record each attempt, keep each endpoint's
health, and read the delivery log.

A delivery is leased the way digests and alerts are (monitor.store.leases): the holder's name in
`leased_by` and the lease's end in `next_attempt_at`, taken by a compare-and-set UPDATE, so two
processes never send one delivery at once, and a holder killed mid-send has its lease broken by the
next pass (its pid, or on PostgreSQL its database session, is gone)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, bindparam, delete, func, select, update

from monitor.store import leases
from monitor.store.engine import dialect_insert
from monitor.store.schema import webhook_attempts, webhook_deliveries, webhook_endpoints, webhook_events

PENDING = "pending"
DELIVERED = "delivered"


@dataclass(frozen=True)
class Leased:
    """A delivery this process holds: what to send, and how many tries came before."""

    id: int
    msg_id: str
    type: str
    body: str
    attempts: int


@dataclass(frozen=True)
class Outcome:
    """One attempt: the answer's status (None when none came) and, for a failure, why."""

    delivery_id: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class EndpointState:
    name: str
    failing_since: datetime | None = None
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_error: str | None = None
    disabled_at: datetime | None = None
    disabled_reason: str | None = None


@dataclass(frozen=True)
class LoggedAttempt:
    at: datetime
    msg_id: str
    type: str
    status_code: int | None
    error: str | None
    duration_ms: int


def lease_due(
    engine: Engine, endpoint: str, now: datetime, until: datetime, holder: str, limit: int
) -> list[Leased]:
    """Take up to `limit` of the endpoint's pending deliveries that are due (or whose holder has ended),
    oldest first, until `until`."""
    d, e = webhook_deliveries.c, webhook_events.c
    pending = (d.endpoint == endpoint) & (d.status == PENDING)
    with engine.begin() as connection:
        holders = connection.scalars(select(d.leased_by).where(pending, d.leased_by.is_not(None)).distinct())
        dead = leases.dead_holders(connection, list(holders))
        free = leases.takeable(d.leased_by, d.next_attempt_at, now, force=False, dead=dead)
        ids = list(connection.scalars(select(d.id).where(pending, free).order_by(d.id).limit(limit)))
        if not ids:
            return []
        # `free` again in the UPDATE: another process may have taken some since the SELECT.
        connection.execute(
            update(webhook_deliveries)
            .where(d.id.in_(ids), pending, free)
            .values(leased_by=holder, next_attempt_at=until)
        )
        rows = connection.execute(
            select(d.id, e.msg_id, e.type, e.body, d.attempts)
            .join(webhook_events, e.id == d.event_id)
            .where(d.id.in_(ids), d.leased_by == holder, d.next_attempt_at == until)
            .order_by(d.id)
        )
        return [Leased(*row) for row in rows]


def record_outcomes(engine: Engine, endpoint: str, outcomes: Sequence[Outcome], retry_at: datetime) -> None:
    """Each attempt in the log, each delivery delivered or due again at `retry_at`, the lease let go."""
    if not outcomes:
        return
    d = webhook_deliveries.c
    with engine.begin() as connection:
        connection.execute(
            webhook_attempts.insert(),
            [
                {
                    "delivery_id": outcome.delivery_id,
                    "endpoint": endpoint,
                    "at": outcome.at,
                    "status_code": outcome.status_code,
                    "error": outcome.error,
                    "duration_ms": outcome.duration_ms,
                }
                for outcome in outcomes
            ],
        )
        delivered = [o for o in outcomes if o.delivered]
        failed = [o for o in outcomes if not o.delivered]
        if delivered:
            connection.execute(
                update(webhook_deliveries)
                .where(d.id == bindparam("delivery"))
                .values(
                    status=DELIVERED,
                    delivered_at=bindparam("at"),
                    next_attempt_at=None,
                    last_error=None,
                    attempts=d.attempts + 1,
                    leased_by=None,
                ),
                [{"delivery": o.delivery_id, "at": o.at} for o in delivered],
            )
        if failed:
            connection.execute(
                update(webhook_deliveries)
                .where(d.id == bindparam("delivery"))
                .values(
                    next_attempt_at=retry_at,
                    last_error=bindparam("error"),
                    attempts=d.attempts + 1,
                    leased_by=None,
                ),
                [{"delivery": o.delivery_id, "error": o.error} for o in failed],
            )


def release(engine: Engine, delivery_ids: Sequence[int], retry_at: datetime) -> None:
    """Let go of leased deliveries not tried (their endpoint just failed): due again at `retry_at`."""
    if not delivery_ids:
        return
    d = webhook_deliveries.c
    with engine.begin() as connection:
        connection.execute(
            update(webhook_deliveries)
            .where(d.id.in_(list(delivery_ids)), d.status == PENDING)
            .values(leased_by=None, next_attempt_at=retry_at)
        )


def _ensure(connection: Connection, name: str) -> None:
    insert = dialect_insert(connection)(webhook_endpoints).values(name=name)
    connection.execute(insert.on_conflict_do_nothing(index_elements=["name"]))


def endpoint_states(engine: Engine) -> dict[str, EndpointState]:
    with engine.connect() as connection:
        return {
            row.name: EndpointState(**row._mapping) for row in connection.execute(select(webhook_endpoints))
        }


def mark_success(engine: Engine, name: str, at: datetime) -> None:
    with engine.begin() as connection:
        _ensure(connection, name)
        connection.execute(
            update(webhook_endpoints)
            .where(webhook_endpoints.c.name == name)
            .values(failing_since=None, last_success_at=at)
        )


def mark_failure(engine: Engine, name: str, at: datetime, error: str) -> EndpointState:
    """Record a failure; returns the state after it (failing since the first failure in a row)."""
    w = webhook_endpoints.c
    with engine.begin() as connection:
        _ensure(connection, name)
        connection.execute(
            update(webhook_endpoints)
            .where(w.name == name)
            .values(failing_since=func.coalesce(w.failing_since, at), last_failure_at=at, last_error=error)
        )
        row = connection.execute(select(webhook_endpoints).where(w.name == name)).one()
    return EndpointState(**row._mapping)


def disable(engine: Engine, name: str, at: datetime, reason: str) -> bool:
    """Disable the endpoint; False when it already was."""
    w = webhook_endpoints.c
    with engine.begin() as connection:
        _ensure(connection, name)
        result = connection.execute(
            update(webhook_endpoints)
            .where(w.name == name, w.disabled_at.is_(None))
            .values(disabled_at=at, disabled_reason=reason)
        )
    return result.rowcount > 0


def enable(engine: Engine, name: str) -> bool:
    """Enable a disabled endpoint again, with a clean slate: its pending deliveries are due at once."""
    w, d = webhook_endpoints.c, webhook_deliveries.c
    with engine.begin() as connection:
        result = connection.execute(
            update(webhook_endpoints)
            .where(w.name == name, w.disabled_at.is_not(None))
            .values(disabled_at=None, disabled_reason=None, failing_since=None)
        )
        connection.execute(
            update(webhook_deliveries)
            .where(d.endpoint == name, d.status == PENDING, d.leased_by.is_(None))
            .values(next_attempt_at=None)
        )
    return result.rowcount > 0


def prune(engine: Engine, before: datetime) -> int:
    """Forget events recorded before `before` that every endpoint has been delivered (their deliveries
    and attempts go with them); returns how many. An undelivered one is kept however old."""
    e, d = webhook_events.c, webhook_deliveries.c
    undelivered = select(d.event_id).where(d.event_id == e.id, d.status != DELIVERED).exists()
    with engine.begin() as connection:  # the foreign keys cascade to deliveries and attempts
        return connection.execute(delete(webhook_events).where(e.created_at < before, ~undelivered)).rowcount


def counts(engine: Engine, since: datetime) -> dict[str, dict[str, int]]:
    """Per endpoint: deliveries pending, delivered since `since`, failed attempts since `since`."""
    d, a = webhook_deliveries.c, webhook_attempts.c
    found: dict[str, dict[str, int]] = {}
    with engine.connect() as connection:
        for name, count in connection.execute(
            select(d.endpoint, func.count()).where(d.status == PENDING).group_by(d.endpoint)
        ):
            found.setdefault(name, {})["pending"] = count
        for name, count in connection.execute(
            select(d.endpoint, func.count())
            .where(d.status == DELIVERED, d.delivered_at >= since)
            .group_by(d.endpoint)
        ):
            found.setdefault(name, {})["delivered"] = count
        for name, count in connection.execute(
            select(a.endpoint, func.count()).where(a.at >= since, a.error.is_not(None)).group_by(a.endpoint)
        ):
            found.setdefault(name, {})["failed"] = count
    return found


def attempt_log(engine: Engine, endpoint: str, limit: int = 50) -> list[LoggedAttempt]:
    """The endpoint's latest attempts, newest first (a retry shows the same msg_id again)."""
    a, d, e = webhook_attempts.c, webhook_deliveries.c, webhook_events.c
    query = (
        select(a.at, e.msg_id, e.type, a.status_code, a.error, a.duration_ms)
        .select_from(webhook_attempts)
        .join(webhook_deliveries, d.id == a.delivery_id)
        .join(webhook_events, e.id == d.event_id)
        .where(a.endpoint == endpoint)
        .order_by(a.id.desc())
        .limit(limit)
    )
    with engine.connect() as connection:
        return [LoggedAttempt(*row) for row in connection.execute(query)]
