"""Which `grumble run` is the scheduler: the one holding a PostgreSQL advisory lock.

The lock is taken on a connection of its own and lives exactly as long as that session: a scheduler
that is killed, loses its network or has its connection cut loses the lock with it, and another
`grumble run` (each tries every few seconds) takes over. The session is named
`grumble scheduler <host>:<pid>` so `grumble status` can say who holds it.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from datetime import timedelta

import psycopg

from monitor.backoff import Backoff
from monitor.queue.app import conninfo
from monitor.store.leases import this_process
from monitor.store.queue import SCHEDULER_CONFIG

log = logging.getLogger(__name__)

# Any fixed number, other than the migration lock's: every scheduler competes for this one.
SCHEDULER_LOCK_KEY = 0x6772756D626C6573  # "grumbles"
APPLICATION_NAME_PREFIX = "grumble scheduler "
# After the database could not be reached: 1 s, 2 s, 4 s ... at most 30 s before the next try.
RECONNECT = Backoff(base=timedelta(seconds=1), cap=timedelta(seconds=30))


class Election:
    def __init__(
        self,
        database_url: str,
        holder: str | None = None,
        *,
        key: int = SCHEDULER_LOCK_KEY,
        prefix: str = APPLICATION_NAME_PREFIX,
        config_hash: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`key` and `prefix`: another lock (the live streams' holder, monitor/streams/host.py).
        `config_hash`: the scheduler's config fingerprint, recorded when elected (monitor/queue/drift.py)."""
        self._conninfo = conninfo(database_url)
        self.config_hash = config_hash
        self._clock = clock
        # Failures to reach the database in a row, and when the next try may connect (the backoff rule).
        self._failures = 0
        self._next_try = 0.0
        self.holder = holder or this_process()
        self.key = key
        self.prefix = prefix
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None
        self.leading = False

    def try_lead(self) -> bool:
        """Take the lock if it is free; True when this process now leads (or already did)."""
        if self.leading and self.still_leading():
            return True
        if self._clock() < self._next_try:
            return False  # the database was unreachable a moment ago: not every caller's tick
        try:
            if self._connection is None or self._connection.closed:
                self._connection = psycopg.connect(
                    self._conninfo,
                    autocommit=True,
                    application_name=(self.prefix + self.holder)[:63],
                )
            row = self._connection.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        except psycopg.Error as exc:
            self._failures += 1
            wait = RECONNECT.delay(self._failures).total_seconds()
            self._next_try = self._clock() + wait
            log.warning(
                "cannot reach the database to elect a scheduler (%s); trying again in %.1f s", exc, wait
            )
            self._drop()
            return False
        if self._failures:
            log.info("the database answers again (after %d failed tries)", self._failures)
        self._failures = 0
        self.leading = bool(row and row[0])
        if self.leading and self.config_hash is not None:
            self._record_config(self.config_hash)
        return self.leading

    def _record_config(self, fingerprint: str) -> None:
        assert self._connection is not None
        try:
            self._connection.execute(SCHEDULER_CONFIG, {"holder": self.holder, "config_hash": fingerprint})
        except psycopg.Error as exc:  # status then says the scheduler's config is unknown; scheduling goes on
            log.warning("could not record the scheduler's config fingerprint: %s", exc)
            return
        log.info("scheduler %s runs config %s", self.holder, fingerprint)

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
