"""Failed sign-ins, in the database: every dashboard server on it counts the same ones, and a restart
forgets none. Rows are keyed by a hash of what was counted (a user name or a client address), so the
table holds neither, and rows older than the window are deleted as new ones come in."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func, select

from monitor.store.schema import login_failures


@dataclass(frozen=True)
class Failures:
    count: int
    oldest: datetime | None  # the oldest failure counted: the window frees a try when it passes


def failure_key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def failures_since(engine: Engine, key: str, since: datetime) -> Failures:
    c = login_failures.c
    query = select(func.count(), func.min(c.at)).where(c.key == key, c.at > since)
    with engine.connect() as connection:
        count, oldest = connection.execute(query).one()
    return Failures(int(count), oldest)


def record_failure(engine: Engine, keys: Sequence[str], at: datetime, window: timedelta) -> None:
    """One failure for each key, and the failures that have left the window deleted."""
    with engine.begin() as connection:
        connection.execute(login_failures.insert(), [{"key": key, "at": at} for key in keys])
        connection.execute(delete(login_failures).where(login_failures.c.at <= at - window))
