"""Token buckets kept in the database, so every Grumble process on it counts against one limit.

Each request is one short transaction on the bucket's row: lock it (SELECT ... FOR UPDATE on
PostgreSQL; BEGIN IMMEDIATE, the database's write lock, on SQLite), apply `Bucket.take`, write the
row back, commit. A granted request sleeps through its wait after the commit, so the row is never
held longer than the transaction. On PostgreSQL the time is the database's (clock_timestamp()), so
workers on machines whose clocks disagree still refill the bucket at one rate; SQLite is one
machine's file, read by that machine's clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, Engine, func, select, update

from monitor.mention import utcnow
from monitor.store.dialects import UTCDateTime
from monitor.store.engine import dialect_insert
from monitor.store.schema import rate_limits
from monitor.token_bucket import Bucket, RateLimit, RateLimits, Taken, settle

Clock = Callable[[], datetime]


def take_token(engine: Engine, key: str, bucket: Bucket, clock: Clock | None = None) -> Taken:
    """One request against the bucket named `key` (created full on first use), in one transaction.
    `clock` replaces the database's time (tests)."""
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        row = _locked_row(connection, key, clock)
        if row is None:
            # The first request ever for this key; a concurrent first one inserts nothing.
            insert = dialect_insert(connection)
            connection.execute(
                insert(rate_limits)
                .values(key=key, tokens=bucket.capacity, updated_at=_now(connection, clock))
                .on_conflict_do_nothing(index_elements=["key"])
            )
            row = _locked_row(connection, key, clock)
            assert row is not None, "the bucket's row was just inserted"
        tokens, updated_at, now = row
        now = max(now, updated_at)  # a clock stepped back refills nothing and leaves the row as it was
        taken = bucket.take(tokens, (now - updated_at).total_seconds())
        connection.execute(
            update(rate_limits).where(rate_limits.c.key == key).values(tokens=taken.tokens, updated_at=now)
        )
    return taken


def _now(connection: Connection, clock: Clock | None) -> datetime:
    if clock is not None:
        return clock()
    if connection.dialect.name == "postgresql":
        value = connection.scalar(select(func.clock_timestamp(type_=UTCDateTime())))
        assert isinstance(value, datetime)
        return value
    return utcnow()


def _locked_row(
    connection: Connection, key: str, clock: Clock | None
) -> tuple[float, datetime, datetime] | None:
    """(tokens, updated_at, now) of the bucket, locked until the transaction ends; None when absent.
    The clock is read once the lock is held, so it is never behind the last holder's write."""
    query = select(rate_limits.c.tokens, rate_limits.c.updated_at).where(rate_limits.c.key == key)
    found = connection.execute(query.with_for_update()).first()  # SQLite: BEGIN IMMEDIATE locked it
    return None if found is None else (found.tokens, found.updated_at, _now(connection, clock))


class SharedRateLimit:
    """A `RateLimit` whose bucket is the row `key` in the database: shared by every process on it."""

    def __init__(
        self,
        engine: Engine,
        key: str,
        bucket: Bucket,
        *,
        clock: Clock | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.engine = engine
        self.key = key
        self.bucket = bucket
        self.clock = clock
        self.sleep = sleep

    def acquire(self, source: str) -> None:
        settle(source, self.bucket, take_token(self.engine, self.key, self.bucket, self.clock), self.sleep)


def shared_rate_limits(engine: Engine) -> RateLimits:
    """Limits kept in `engine`'s database: what a process with a database gives the sources it builds."""

    def limit(key: str, bucket: Bucket) -> RateLimit:
        return SharedRateLimit(engine, key, bucket)

    return limit
