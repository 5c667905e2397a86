"""When to try again after a failure: exponential backoff with jitter, the one rule for every retry
(a source that failed, a mail server that refused, a digest or alert batch not delivered).

The wait doubles with each failure in a row up to a cap, then lands anywhere in the upper half of
that ("equal jitter"). Without the jitter, everything that failed together (every source behind one
network outage, every digest waiting on one mail server) would come back at the same instant, and
fail together again; with it the retries spread out, and none comes sooner than half its nominal wait.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

# The share of the nominal wait that jitter may take off.
JITTER = 0.5
# 2**16 times any base is past every cap we use; bounding the exponent first keeps a long outage's
# failure count from overflowing timedelta.
MAX_DOUBLINGS = 16


@dataclass(frozen=True)
class Backoff:
    base: timedelta  # the nominal wait after the first failure
    cap: timedelta  # the nominal wait never grows past this
    # Uniform in [0, 1); a test passes its own to pin the jitter.
    random: Callable[[], float] = random.random

    def nominal(self, failures: int) -> timedelta:
        """base, 2·base, 4·base, ... after 1, 2, 3, ... failures in a row, at most `cap`."""
        doublings = min(max(failures - 1, 0), MAX_DOUBLINGS)
        delay: timedelta = self.base * 2**doublings
        return min(delay, self.cap)

    def delay(self, failures: int) -> timedelta:
        """How long to wait after `failures` failures in a row: in (nominal / 2, nominal]."""
        return self.nominal(failures) * (1.0 - JITTER * self.random())
