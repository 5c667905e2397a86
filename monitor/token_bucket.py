"""Limits Grumble keeps on its own requests to an API: a token bucket, and where its state lives.

The rule (`Bucket.take`) is one pure function over the bucket's state; a `RateLimit` applies it and
either sleeps through a short wait or raises `SourceRateLimited` for a long one, so the scheduler
thread is not held and the collector retries after it. The state lives in this process
(`LocalRateLimit`, what a process without a database uses) or in the database, shared by every
process using it (`monitor.store.rate_limits.SharedRateLimit`). A `RateLimits` hands out one limit per
key (the API's unit of counting, e.g. a Reddit OAuth client), so sources that pass the same key share
one bucket.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from monitor.errors import SourceRateLimited


@dataclass(frozen=True)
class Taken:
    """What one request's `take` left: the bucket's tokens, and how long the request must wait for its
    token (0 when one was there). `granted` is False when that wait was too long: nothing was taken."""

    tokens: float
    wait_s: float
    granted: bool


@dataclass(frozen=True)
class Bucket:
    """`per_minute` requests a minute, with a burst of as many; a request waits at most `max_wait_s`."""

    per_minute: int
    max_wait_s: float = 5.0

    @property
    def capacity(self) -> float:
        return float(self.per_minute)

    @property
    def rate(self) -> float:
        """Tokens per second."""
        return self.per_minute / 60.0

    def take(self, tokens: float, elapsed_s: float) -> Taken:
        """One request against a bucket that held `tokens` `elapsed_s` seconds ago.

        A granted request takes its token at once, even when it must wait for it (the bucket goes
        below zero), so a caller arriving during that wait queues behind it. A clock that went
        backwards refills nothing."""
        tokens = min(self.capacity, tokens + max(0.0, elapsed_s) * self.rate)
        wait = (1.0 - tokens) / self.rate if tokens < 1.0 else 0.0
        if wait > self.max_wait_s:
            return Taken(tokens, wait, granted=False)
        return Taken(tokens - 1.0, wait, granted=True)


class RateLimit(Protocol):
    def acquire(self, source: str) -> None:
        """Return when a request may be sent (after a short sleep, perhaps), or raise
        SourceRateLimited with the wait when it is longer than the limit's bound."""
        ...


class RateLimits(Protocol):
    """The limit for one key; every call with the same key counts against the same bucket."""

    def __call__(self, key: str, bucket: Bucket) -> RateLimit: ...


def settle(source: str, bucket: Bucket, taken: Taken, sleep: Callable[[float], None]) -> None:
    """Sleep through a granted request's wait, or raise for a refused one."""
    if not taken.granted:
        raise SourceRateLimited(
            source,
            f"Grumble's own limit of {bucket.per_minute} requests a minute is reached; "
            f"retry after {taken.wait_s:.1f} s",
            taken.wait_s,
        )
    if taken.wait_s > 0:
        sleep(taken.wait_s)


class LocalRateLimit:
    """A bucket held by this process only. Clock and sleep are injectable so tests never sleep."""

    def __init__(
        self,
        per_minute: int,
        *,
        max_wait_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.bucket = Bucket(per_minute, max_wait_s)
        self.clock = clock
        self.sleep = sleep
        self.tokens = self.bucket.capacity
        self.updated = clock()
        self._lock = threading.Lock()

    def acquire(self, source: str) -> None:
        with self._lock:
            now = self.clock()
            taken = self.bucket.take(self.tokens, now - self.updated)
            self.tokens, self.updated = taken.tokens, now
        settle(source, self.bucket, taken, self.sleep)  # outside the lock: others queue, not block


_local: dict[str, LocalRateLimit] = {}
_local_lock = threading.Lock()


def local_rate_limits(key: str, bucket: Bucket) -> RateLimit:
    """This process's limits: one bucket per key for the life of the process (the first caller's
    `bucket` sets its size)."""
    with _local_lock:
        if key not in _local:
            _local[key] = LocalRateLimit(bucket.per_minute, max_wait_s=bucket.max_wait_s)
        return _local[key]
