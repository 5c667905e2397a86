"""What digest and alert delivery share: how long one attempt may hold a send, and when a failed one is
tried again. The protocols themselves are in digest_delivery.py and alert_delivery.py."""

from __future__ import annotations

from datetime import timedelta

from monitor.backoff import Backoff

# How long one send may take before another process may assume it crashed and send again.
LEASE = timedelta(minutes=10)
# 1, 2, 4, ... minutes after each failed attempt, at most an hour (jittered: monitor.backoff).
RETRY = Backoff(base=timedelta(minutes=1), cap=timedelta(hours=1))
