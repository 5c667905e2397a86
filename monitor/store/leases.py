"""Delivery leases: which process is sending a digest run or an alert batch right now.

A lease is the holder's name in `leased_by` and its expiry in `next_attempt_at`. The scheduler's
retries take only what is due, so a live lease keeps them off until it expires (a crash is retried
then). A person's forced send skips the backoff after a failure, but never a lease whose holder
still runs: that is how two `grumble digest --send` or `grumble alerts --check` at once send one copy.
A holder that is gone (killed mid-send) has its lease broken at once, by a forced send or by the next
scheduled try: on this machine its pid says so; on PostgreSQL, from any machine, its database session
does: every Grumble connection is named `grumble <host>:<pid>`, and a holder keeps one open for as long
as it holds a lease (`holding`), so a holder with no session left has ended.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Column, ColumnElement, Connection, Engine, or_, text

APPLICATION_NAME_PREFIX = "grumble "


def this_process() -> str:
    """The lease holder's name for this process (read at each call: a forked child is another holder)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def application_name() -> str:
    """What this process's database sessions are called on PostgreSQL (63 characters at most)."""
    return (APPLICATION_NAME_PREFIX + this_process())[:63]


@contextmanager
def holding(engine: Engine) -> Iterator[None]:
    """Keep a database session open while this process holds a lease: on PostgreSQL, the session
    named after the holder is how other machines tell a live holder from a dead one."""
    with engine.connect():
        yield


def dead_holders(connection: Connection, holders: Iterable[str | None]) -> list[str]:
    """The holders among `holders` known to have ended: on this machine by pid; on PostgreSQL also
    any holder (on any machine) without a database session of its own."""
    named = [holder for holder in holders if holder and holder != this_process()]
    dead = [holder for holder in named if is_orphaned(holder)]
    if connection.dialect.name == "postgresql" and named:
        live = set(
            connection.scalars(
                text("SELECT application_name FROM pg_stat_activity WHERE application_name LIKE 'grumble %'")
            )
        )
        dead += [h for h in named if h not in dead and (APPLICATION_NAME_PREFIX + h)[:63] not in live]
    return dead


def is_orphaned(holder: str | None) -> bool:
    """True when `holder` was a process on this machine that no longer runs."""
    if not holder:
        return False
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it runs, as another user
        return False
    return False


def takeable(
    leased_by: Column[str | None],
    next_attempt_at: Column[datetime | None],
    now: datetime,
    *,
    force: bool,
    dead: Sequence[str] = (),
) -> ColumnElement[bool]:
    """The condition under which a lease may be taken, for a compare-and-set UPDATE: due (its backoff
    or an earlier lease is over); or held by a holder that has ended (`dead`, from `dead_holders` on
    the holders read just before); or, when forced, held by nobody (a backoff is skipped)."""
    free: list[ColumnElement[bool]] = [next_attempt_at.is_(None) | (next_attempt_at <= now)]
    if force:
        free.append(leased_by.is_(None))
    if dead:
        free.append(leased_by.in_(list(dead)))
    return or_(*free)
