"""Run by the rate-limit test in several processes at once: acquire from one limit as fast as it
allows for a window, then print how many requests it was granted.

    python -m tests.rate_limit_worker (DATABASE_URL | local) KEY PER_MINUTE MAX_WAIT_S WINDOW_S

It prints "ready" once connected and starts when a line arrives on stdin, so that all start together.
"""

from __future__ import annotations

import sys
import time

from monitor.errors import SourceRateLimited
from monitor.store.engine import open_engine
from monitor.store.rate_limits import SharedRateLimit
from monitor.token_bucket import Bucket, LocalRateLimit, RateLimit

# A refused worker asks again this soon: as fast as it can without spinning a core flat out.
RETRY_S = 0.005


def granted_in(limit: RateLimit, window_s: float) -> int:
    granted = 0
    deadline = time.monotonic() + window_s
    while time.monotonic() < deadline:
        try:
            limit.acquire("reddit")
        except SourceRateLimited:
            time.sleep(RETRY_S)
            continue
        granted += 1
    return granted


def main(where: str, key: str, per_minute: int, max_wait_s: float, window_s: float) -> None:
    limit: RateLimit
    if where == "local":
        limit = LocalRateLimit(per_minute, max_wait_s=max_wait_s)
    else:
        engine = open_engine(where)
        engine.connect().close()  # connected before the start, as a running worker would be
        limit = SharedRateLimit(engine, key, Bucket(per_minute, max_wait_s))
    print("ready", flush=True)
    sys.stdin.readline()
    print(granted_in(limit, window_s), flush=True)


if __name__ == "__main__":
    where, key, per_minute, max_wait_s, window_s = sys.argv[1:]
    main(where, key, int(per_minute), float(max_wait_s), float(window_s))
