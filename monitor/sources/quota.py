"""Quotas: the units an API grants per window (a day, an hour), counted before each call is made.

Some APIs ration by units per period rather than by requests per minute (YouTube Data API: 10,000
units a day per key, reset at midnight Pacific; Google Play: about 200 review list calls an hour and
2,000 replies a day per app). Discovering such a limit by its error costs the rest of the day, so
Grumble keeps its own count: a call is charged to the ledger *before* it is sent, and a call that
would go over the configured share of the quota is not sent at all.

Interface (what a quota-aware source uses):

    quota = Quota(limit=10_000, window=DailyWindow("America/Los_Angeles"), share=0.8)  # 8,000 usable
    account = QuotaAccount(ledger, source="youtube", key=key_id(api_key), quota=quota)
    account.can_spend(100)            # planning: would a 100-unit call fit now?  (nothing is charged)
    account.spend(100, "search.list") # charge it; raises QuotaExhausted when it would not fit
    account.remaining()               # units left in this window
    account.usage().describe()        # "used 305 of 8,000 units ... resets ..." for `grumble status`

`QuotaExhausted` is a `SourceRateLimited`: the collector records the source as rate limited and tries
again when the window resets (`retry_after` is the seconds until then), and its message says what is
used, the limit and when it resets. `key` identifies the credential the API counts against; pass
`key_id(secret)` (a short hash), never the secret itself: it is stored and shown.

Where the counts live (a `QuotaLedger`): `MemoryQuotaLedger` in this process (tests, runs without a
database), or `monitor.store.quotas.SharedQuotaLedger(engine)`, shared by every process on the
database, so restarts, workers and the dashboard's replies all spend from one count. A source gets
the ledger from `registry.build_source(settings, quotas=...)` (see registry.QUOTA_LIMITED).

A source that keeps quotas can also say how they stand (`QuotaReporting.quota_status()`) and what its
watches will spend at the configured pace (`QuotaPlanning.quota_plan(watches, every_minutes)`), which
`grumble status` and the Sources page print under the source (sources/quota_report.py).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from monitor.errors import ConfigError, SourceRateLimited
from monitor.mention import Watch, utcnow

PACIFIC = "America/Los_Angeles"  # Google resets its daily API quotas at midnight Pacific time

Clock = Callable[[], datetime]


class Window(Protocol):
    """A fixed period in which spent units count; the count starts at zero when the next one begins."""

    @property
    def name(self) -> str:
        """'day' or 'hour', for messages: "of this day's quota"."""
        ...

    def start(self, now: datetime) -> datetime:
        """When the window holding `now` began (aware UTC)."""
        ...

    def end(self, now: datetime) -> datetime:
        """When the window holding `now` ends and the count resets (aware UTC)."""
        ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class DailyWindow:
    """A calendar day in `zone`: resets at local midnight (23 or 25 hours long on daylight-saving days)."""

    zone: str = PACIFIC
    name: str = "day"

    def start(self, now: datetime) -> datetime:
        local = now.astimezone(ZoneInfo(self.zone))
        return datetime.combine(local.date(), datetime.min.time(), ZoneInfo(self.zone)).astimezone(UTC)

    def end(self, now: datetime) -> datetime:
        local = now.astimezone(ZoneInfo(self.zone))
        tomorrow = local.date() + timedelta(days=1)
        return datetime.combine(tomorrow, datetime.min.time(), ZoneInfo(self.zone)).astimezone(UTC)

    def describe(self) -> str:
        return f"a day (resets at midnight {self.zone})"


@dataclass(frozen=True)
class HourlyWindow:
    """A clock hour (UTC): resets on the hour."""

    name: str = "hour"

    def start(self, now: datetime) -> datetime:
        return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)

    def end(self, now: datetime) -> datetime:
        return self.start(now) + timedelta(hours=1)

    def describe(self) -> str:
        return "an hour (resets on the hour)"


@dataclass(frozen=True)
class Quota:
    """`limit` units per `window`, of which Grumble may spend `share` (leaving room for other tools on
    the same key, or for the replies people send from the dashboard)."""

    limit: int
    window: Window
    share: float = 1.0

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ConfigError(f"a quota limit must be at least 1 unit, got {self.limit}")
        if not 0 < self.share <= 1:
            raise ConfigError(
                f"a quota share must be more than 0 and at most 1 (0.8 = 80 %), got {self.share}"
            )

    @property
    def allowed(self) -> int:
        """The units Grumble may spend per window."""
        return max(int(self.limit * self.share), 1)


@dataclass(frozen=True)
class Usage:
    """How a quota stands now."""

    used: int
    quota: Quota
    resets_at: datetime
    now: datetime

    @property
    def allowed(self) -> int:
        return self.quota.allowed

    @property
    def remaining(self) -> int:
        return max(self.allowed - self.used, 0)

    @property
    def seconds_to_reset(self) -> float:
        return max((self.resets_at - self.now).total_seconds(), 0.0)

    def describe(self) -> str:
        share = (
            f" ({self.quota.share:.0%} of {self.quota.limit:,})"
            if self.quota.allowed != self.quota.limit
            else ""
        )
        return (
            f"used {self.used:,} of {self.allowed:,} units this {self.quota.window.name}{share}, "
            f"{self.remaining:,} left; resets {self.resets_at:%Y-%m-%d %H:%M} UTC "
            f"(in {_duration(self.seconds_to_reset)})"
        )


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


class QuotaExhausted(SourceRateLimited):
    """A call was not sent because it would go over the quota's allowed units; `retry_after` is the time
    until the window resets."""

    def __init__(self, source: str, what: str, units: int, usage: Usage) -> None:
        super().__init__(
            source,
            f"quota reached: {what} needs {units:,} unit(s) but {usage.used:,} of the {usage.allowed:,} "
            f"units Grumble may spend this {usage.quota.window.name} are used"
            + (
                f" ({usage.quota.share:.0%} of {usage.quota.limit:,}; raise quota_share to allow more)"
                if usage.quota.allowed != usage.quota.limit
                else ""
            )
            + f"; stopped until the quota resets at {usage.resets_at:%Y-%m-%d %H:%M} UTC "
            f"(in {_duration(usage.seconds_to_reset)})",
            usage.seconds_to_reset,
        )
        self.usage = usage


@dataclass(frozen=True)
class Charge:
    """What one `charge` left: whether the units were granted, and the window's count after it."""

    granted: bool
    used: int


class QuotaLedger(Protocol):
    """Where counts live: one count per `key` and window. `charge` is atomic: two processes charging the
    last units of a window cannot both be granted them."""

    def charge(self, key: str, units: int, allowed: int, window_start: datetime) -> Charge:
        """Add `units` to the count of the window that began at `window_start` (a count kept for an
        earlier window is zero now), unless that would make it exceed `allowed`."""
        ...

    def used(self, key: str, window_start: datetime) -> int:
        """The count of the window that began at `window_start` (zero when none was kept)."""
        ...


class MemoryQuotaLedger:
    """Counts held by this process only: for tests and for runs without a database."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[datetime, int]] = {}
        self._lock = threading.Lock()

    def charge(self, key: str, units: int, allowed: int, window_start: datetime) -> Charge:
        with self._lock:
            window_start = max(window_start, self._counts.get(key, (window_start, 0))[0])
            used = self._used(key, window_start)
            if used + units > allowed:
                return Charge(False, used)
            self._counts[key] = (window_start, used + units)
            return Charge(True, used + units)

    def used(self, key: str, window_start: datetime) -> int:
        with self._lock:
            return self._used(key, window_start)

    def _used(self, key: str, window_start: datetime) -> int:
        start, used = self._counts.get(key, (window_start, 0))
        return used if start >= window_start else 0


def key_id(secret: str) -> str:
    """A short stable name for a credential, safe to store and show: the first 12 hex digits of its
    SHA-256 (which tells nothing about the secret)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:12]


def ledger_key(source: str, key: str) -> str:
    return f"quota:{source}:{key}"


class QuotaAccount:
    """One quota of one source and key, spent through a ledger. The clock is injectable for tests."""

    def __init__(
        self,
        ledger: QuotaLedger,
        *,
        source: str,
        key: str,
        quota: Quota,
        clock: Clock = utcnow,
    ) -> None:
        self.ledger = ledger
        self.source = source
        self.key = key
        self.quota = quota
        self.clock = clock

    @property
    def _ledger_key(self) -> str:
        return ledger_key(self.source, self.key)

    def usage(self) -> Usage:
        now = self.clock()
        used = self.ledger.used(self._ledger_key, self.quota.window.start(now))
        return Usage(used, self.quota, self.quota.window.end(now), now)

    def remaining(self) -> int:
        return self.usage().remaining

    def can_spend(self, units: int) -> bool:
        """Whether a call of `units` would fit now. Plans only: another process may spend first, so the
        call itself still goes through `spend`."""
        return units <= self.remaining()

    def spend(self, units: int, what: str) -> Usage:
        """Charge `units` for the call `what` before sending it; raise QuotaExhausted (nothing charged)
        when it would go over the allowed units."""
        now = self.clock()
        start = self.quota.window.start(now)
        charge = self.ledger.charge(self._ledger_key, units, self.quota.allowed, start)
        usage = Usage(charge.used, self.quota, self.quota.window.end(now), now)
        if not charge.granted:
            raise QuotaExhausted(self.source, what, units, usage)
        return usage


@runtime_checkable
class QuotaReporting(Protocol):
    """A source that keeps quotas, and says how they stand: one line per quota."""

    def quota_status(self) -> list[str]: ...


@runtime_checkable
class QuotaPlanning(Protocol):
    """A source that can tell what its watches will spend in a window at the configured pace, and whether
    that fits its share (`grumble status` shows it beside the count)."""

    def quota_plan(self, watches: Sequence[Watch], every_minutes: float) -> list[str]: ...
