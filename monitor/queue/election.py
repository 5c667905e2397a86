"""Which `grumble run` is the scheduler: the one holding a PostgreSQL advisory lock.

The lock is taken on a connection of its own and lives exactly as long as that session: a scheduler
that is killed, loses its network or has its connection cut loses the lock with it, and another
`grumble run` (each tries every few seconds) takes over. The session is named
`grumble scheduler <host>:<pid>` so `grumble status` can say who holds it.
"""

from __future__ import annotations

import contextlib
import logging

import psycopg

from monitor.queue.app import conninfo
from monitor.store.leases import this_process

log = logging.getLogger(__name__)

# Any fixed number, other than the migration lock's: every scheduler competes for this one.
SCHEDULER_LOCK_KEY = 0x6772756D626C6573  # "grumbles"
APPLICATION_NAME_PREFIX = "grumble scheduler "


class Election:
    def __init__(
        self,
        database_url: str,
        holder: str | None = None,
        *,
        key: int = SCHEDULER_LOCK_KEY,
        prefix: str = APPLICATION_NAME_PREFIX,
    ) -> None:
        """`key` and `prefix`: another lock (the live streams' holder, monitor/streams/host.py)."""
        self._conninfo = conninfo(database_url)
        self.holder = holder or this_process()
        self.key = key
        self.prefix = prefix
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None
        self.leading = False

    def try_lead(self) -> bool:
        """Take the lock if it is free; True when this process now leads (or already did)."""
        if self.leading and self.still_leading():
            return True
        try:
            if self._connection is None or self._connection.closed:
                self._connection = psycopg.connect(
                    self._conninfo,
                    autocommit=True,
                    application_name=(self.prefix + self.holder)[:63],
                )
            row = self._connection.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        except psycopg.Error as exc:
            log.warning("cannot reach the database to elect a scheduler: %s", exc)
            self._drop()
            return False
        self.leading = bool(row and row[0])
        return self.leading

    def still_leading(self) -> bool:
        """False once the lock's session is gone (then another process may already lead)."""
        if not self.leading or self._connection is None:
            return False
        try:
            self._connection.execute("SELECT 1")
        except psycopg.Error as exc:
            log.error("lost the scheduler lock's database session: %s", exc)
            self._drop()
            return False
        return True

    def resign(self) -> None:
        """Let another scheduler take over now rather than when this session ends."""
        if self._connection is not None and self.leading:
            with contextlib.suppress(psycopg.Error):  # closing the session below frees it anyway
                self._connection.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
        self._drop()

    def _drop(self) -> None:
        self.leading = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None
