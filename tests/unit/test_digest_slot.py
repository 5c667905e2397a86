"""A digest's slot: the latest scheduled occurrence at or before now, in the list's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from monitor.config import DigestList
from monitor.surface.slots import digest_slot


def listed(every: str, at: time = time(8, 0), timezone: str = "UTC", weekday: str = "monday") -> DigestList:
    return DigestList("ops", ("ops@example.com",), every=every, at=at, timezone=timezone, weekday=weekday)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "slot"),
    [
        (utc(2026, 11, 2, 8, 15), utc(2026, 11, 2, 8, 15)),  # the occurrence itself
        (utc(2026, 11, 2, 9, 14, 59), utc(2026, 11, 2, 8, 15)),  # late in the hour: still that slot
        (utc(2026, 11, 2, 8, 14), utc(2026, 11, 2, 7, 15)),  # before this hour's occurrence
    ],
)
def test_an_hourly_slot_is_the_hour_at_the_lists_minute(now: datetime, slot: datetime) -> None:
    assert digest_slot(listed("hourly", time(0, 15)), now) == slot


def test_an_hourly_slot_follows_a_half_hour_time_zone() -> None:
    # India is UTC+05:30: a digest at minute 0 local time is at minute 30 UTC.
    ops = listed("hourly", time(0, 0), "Asia/Kolkata")
    assert digest_slot(ops, utc(2026, 11, 2, 8, 45)) == utc(2026, 11, 2, 8, 30)
    assert digest_slot(ops, utc(2026, 11, 2, 8, 29)) == utc(2026, 11, 2, 7, 30)


def test_a_daily_slot_is_the_days_time_in_the_lists_zone_across_a_dst_change() -> None:
    berlin = listed("daily", time(8, 0), "Europe/Berlin")
    # Summer (UTC+2), then winter (UTC+1): 08:00 local both times.
    assert digest_slot(berlin, utc(2026, 10, 24, 12, 0)) == utc(2026, 10, 24, 6, 0)
    assert digest_slot(berlin, utc(2026, 10, 26, 12, 0)) == utc(2026, 10, 26, 7, 0)
    # Before 08:00 on the Monday after the change: Sunday's 08:00, already in winter time.
    assert digest_slot(berlin, utc(2026, 10, 26, 6, 59)) == utc(2026, 10, 25, 7, 0)
    # The night the clocks went back: still Saturday's, in summer time.
    assert digest_slot(berlin, utc(2026, 10, 25, 1, 30)) == utc(2026, 10, 24, 6, 0)


def test_a_weekly_slot_is_the_last_weekday_at_its_time() -> None:
    weekly = listed("weekly", time(9, 30), weekday="wednesday")
    # 2026-11-04 is a Wednesday.
    assert digest_slot(weekly, utc(2026, 11, 4, 9, 30)) == utc(2026, 11, 4, 9, 30)
    assert digest_slot(weekly, utc(2026, 11, 10, 23, 0)) == utc(2026, 11, 4, 9, 30)
    assert digest_slot(weekly, utc(2026, 11, 4, 9, 29)) == utc(2026, 10, 28, 9, 30)


def test_every_moment_of_a_slot_has_the_same_slot() -> None:
    daily = listed("daily", time(8, 0), "America/New_York")
    start = digest_slot(daily, utc(2026, 11, 2, 20, 0))
    assert start == utc(2026, 11, 2, 13, 0)
    for hours in (0, 1, 11, 23):
        assert digest_slot(daily, start.replace(hour=(13 + hours) % 24, day=2 + (13 + hours) // 24)) == start
