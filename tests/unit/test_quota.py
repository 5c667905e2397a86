"""The quota ledger (monitor/sources/quota.py): windows, the allowed share, refusing before the limit,
and the reset; on this process's counts (MemoryQuotaLedger). The database's counts, shared by
processes, are in integration/test_quota_ledger.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.errors import ConfigError, SourceRateLimited
from monitor.sources.quota import (
    DailyWindow,
    HourlyWindow,
    MemoryQuotaLedger,
    Quota,
    QuotaAccount,
    QuotaExhausted,
    key_id,
)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def account(
    clock: Clock, limit: int = 10_000, share: float = 0.8, ledger: MemoryQuotaLedger | None = None
) -> QuotaAccount:
    return QuotaAccount(
        ledger or MemoryQuotaLedger(),
        source="youtube",
        key="k1",
        quota=Quota(limit, DailyWindow(), share),
        clock=clock,
    )


def test_a_pacific_day_starts_and_ends_at_midnight_los_angeles() -> None:
    window = DailyWindow()
    # 07:59 UTC on 7 Dec is 23:59 PST on 6 Dec: the day began at 08:00 UTC on 6 Dec.
    assert window.start(datetime(2026, 12, 7, 7, 59, tzinfo=UTC)) == datetime(2026, 12, 6, 8, tzinfo=UTC)
    assert window.end(datetime(2026, 12, 7, 7, 59, tzinfo=UTC)) == datetime(2026, 12, 7, 8, tzinfo=UTC)
    assert window.start(datetime(2026, 12, 7, 8, 0, tzinfo=UTC)) == datetime(2026, 12, 7, 8, tzinfo=UTC)
    # Summer time: midnight PDT is 07:00 UTC.
    assert window.start(datetime(2026, 7, 1, 12, tzinfo=UTC)) == datetime(2026, 7, 1, 7, tzinfo=UTC)
    # The day clocks go back (1 Nov 2026) is 25 hours long.
    day = datetime(2026, 11, 1, 12, tzinfo=UTC)
    assert window.end(day) - window.start(day) == timedelta(hours=25)


def test_an_hourly_window_resets_on_the_hour() -> None:
    window = HourlyWindow()
    now = datetime(2026, 12, 7, 4, 31, 10, tzinfo=UTC)
    assert window.start(now) == datetime(2026, 12, 7, 4, tzinfo=UTC)
    assert window.end(now) == datetime(2026, 12, 7, 5, tzinfo=UTC)


def test_spend_counts_within_the_share_and_refuses_before_exceeding_it() -> None:
    clock = Clock(datetime(2026, 12, 7, 12, tzinfo=UTC))
    quota = account(clock, limit=1_000, share=0.5)  # 500 units Grumble may spend
    assert quota.remaining() == 500
    for _ in range(4):
        quota.spend(100, "search.list")
    assert quota.can_spend(100)
    quota.spend(99, "commentThreads.list")
    assert quota.remaining() == 1
    assert not quota.can_spend(100)
    with pytest.raises(QuotaExhausted) as refused:
        quota.spend(100, "search.list")
    assert isinstance(refused.value, SourceRateLimited)
    message = str(refused.value)
    assert "search.list needs 100 unit(s)" in message
    assert "499 of the 500 units" in message and "50% of 1,000" in message
    assert "resets at 2026-12-08 08:00 UTC" in message
    # Retry when the window resets: it is 04:00 PST, and midnight PST is 08:00 UTC on 8 Dec.
    assert refused.value.retry_after == pytest.approx(20 * 3600)
    assert quota.usage().used == 499, "a refused call is not charged"
    quota.spend(1, "commentThreads.list")
    assert quota.remaining() == 0


def test_the_count_starts_again_when_the_window_resets() -> None:
    clock = Clock(datetime(2026, 12, 7, 7, 30, tzinfo=UTC))  # 23:30 Pacific
    quota = account(clock, limit=200, share=1.0)
    quota.spend(200, "search.list")
    with pytest.raises(QuotaExhausted):
        quota.spend(1, "commentThreads.list")
    clock.now += timedelta(minutes=30)  # midnight Pacific
    assert quota.remaining() == 200
    quota.spend(1, "commentThreads.list")
    assert quota.usage().used == 1


def test_two_accounts_on_one_ledger_and_key_spend_one_quota() -> None:
    clock = Clock(datetime(2026, 12, 7, 12, tzinfo=UTC))
    ledger = MemoryQuotaLedger()
    first, second = account(clock, 300, 1.0, ledger), account(clock, 300, 1.0, ledger)
    first.spend(200, "search.list")
    assert second.remaining() == 100
    with pytest.raises(QuotaExhausted):
        second.spend(200, "search.list")


def test_usage_describes_what_is_used_left_and_when_it_resets() -> None:
    clock = Clock(datetime(2026, 12, 7, 12, tzinfo=UTC))
    quota = account(clock)
    quota.spend(305, "search.list")
    assert quota.usage().describe() == (
        "used 305 of 8,000 units this day (80% of 10,000), 7,695 left; "
        "resets 2026-12-08 08:00 UTC (in 20 h 00 min)"
    )


@pytest.mark.parametrize(("limit", "share"), [(0, 1.0), (100, 0.0), (100, 1.5)])
def test_a_bad_quota_is_a_config_error_saying_what_is_wrong(limit: int, share: float) -> None:
    with pytest.raises(ConfigError, match="quota"):
        Quota(limit, DailyWindow(), share)


def test_key_id_names_a_credential_without_revealing_it() -> None:
    assert key_id("AIzaSecret") == key_id("AIzaSecret")
    assert key_id("AIzaSecret") != key_id("AIzaOther")
    assert "Secret" not in key_id("AIzaSecret") and len(key_id("AIzaSecret")) == 12
