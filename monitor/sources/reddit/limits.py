"""Grumble's own limit on top of PRAW: Reddit allows 100 requests a minute per OAuth client."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from monitor.errors import SourceRateLimited

REQUESTS_PER_MINUTE = 100


class RateLimit:
    """A token bucket: `per_minute` requests a minute, with a burst of as many.

    A short wait is slept through; a long one raises SourceRateLimited so the scheduler thread is not
    held and the collector retries after it. Clock and sleep are injectable so tests never sleep.
    """

    def __init__(
        self,
        per_minute: int = REQUESTS_PER_MINUTE,
        *,
        max_wait_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_wait_s = max_wait_s
        self.clock = clock
        self.sleep = sleep
        self.tokens = self.capacity
        self.updated = clock()
        self._lock = threading.Lock()

    def acquire(self, source: str) -> None:
        with self._lock:
            now = self.clock()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            wait = (1.0 - self.tokens) / self.rate if self.tokens < 1.0 else 0.0
            if wait > self.max_wait_s:
                raise SourceRateLimited(
                    source,
                    f"Grumble's own limit of {self.capacity:g} requests a minute per client is reached; "
                    f"retry after {wait:.1f} s",
                    wait,
                )
            self.tokens -= 1.0  # reserved now, so a concurrent caller waits for the next token
        if wait > 0:
            self.sleep(wait)


_limits: dict[str, RateLimit] = {}
_limits_lock = threading.Lock()


def rate_limit_for(client_id: str) -> RateLimit:
    """Reddit counts requests per OAuth client, so every source built with one client id shares one bucket."""
    with _limits_lock:
        return _limits.setdefault(client_id, RateLimit())
