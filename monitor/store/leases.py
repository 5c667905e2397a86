"""Delivery leases: which process is sending a digest run or an alert batch right now.

A lease is the holder's name in `leased_by` and its expiry in `next_attempt_at`. The scheduler's
retries take only what is due, so a live lease keeps them off until it expires (a crash is retried
then). A person's forced send skips the backoff after a failure, but never a lease whose holder
still runs: that is how two `grumble digest --send` or `grumble alerts --check` at once send one copy.
A holder on this machine that is gone (killed mid-send) has its lease broken at once, so a forced
send right after a crash still goes out; a holder on another machine is waited out.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Column, ColumnElement, or_


def this_process() -> str:
    """The lease holder's name for this process (read at each call: a forked child is another holder)."""
    return f"{socket.gethostname()}:{os.getpid()}"


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
    holders: Iterable[str | None] = (),
) -> ColumnElement[bool]:
    """The condition under which a lease may be taken, for a compare-and-set UPDATE: due (its backoff
    or an earlier lease is over), or, when forced, held by nobody alive (`holders` are the current
    holders as read just before; the orphaned ones among them may be replaced)."""
    due = next_attempt_at.is_(None) | (next_attempt_at <= now)
    if not force:
        return due
    orphans = [holder for holder in holders if holder and is_orphaned(holder)]
    free = [due, leased_by.is_(None)]
    if orphans:
        free.append(leased_by.in_(orphans))
    return or_(*free)
