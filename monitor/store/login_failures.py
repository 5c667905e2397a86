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


def claim_attempt(
    engine: Engine, keys: Sequence[str], at: datetime, window: timedelta
) -> tuple[list[int], list[Failures]]:
    """Count an attempt for each key *before* its password is checked, committed at once, then the
    failures counted for each key, this attempt included. Parallel attempts each see the ones
    committed before theirs, so no more than the allowed number get past the count, however many
    arrive together. Returns the attempt's row ids (to `forgive` it if the password was right)."""
    c = login_failures.c
    with engine.begin() as connection:
        ids = [
            int(
                connection.execute(
                    login_failures.insert().values(key=key, at=at).returning(c.id)
                ).scalar_one()
            )
            for key in keys
        ]
        connection.execute(delete(login_failures).where(c.at <= at - window))
    counts = []
    with engine.connect() as connection:
        for key in keys:
            query = select(func.count(), func.min(c.at)).where(c.key == key, c.at > at - window)
            count, oldest = connection.execute(query).one()
            counts.append(Failures(int(count), oldest))
    return ids, counts


def forgive(engine: Engine, ids: Sequence[int]) -> None:
    """Take back an attempt's rows: the password was right, or the attempt was refused unchecked."""
    if ids:
        with engine.begin() as connection:
            connection.execute(delete(login_failures).where(login_failures.c.id.in_(list(ids))))
