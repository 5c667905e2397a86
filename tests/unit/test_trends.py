import datetime as dt

from monitor.config import AlertSettings
from monitor.store.trends import BucketCount
from monitor.surface.trends import bucket_start, negative_trend, top_terms
from tests.factories import hourly_series

START = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
SETTINGS = AlertSettings()  # the alerts' spike settings: the chart marks by the same rule


def counts(series: list[int]) -> list[BucketCount]:
    """Every hour has some neutral mentions too, so every hour is a point on the chart."""
    negative = [BucketCount(START + i * HOUR, "acme", "negative", n) for i, n in enumerate(series) if n]
    neutral = [BucketCount(START + i * HOUR, "acme", "neutral", 5) for i in range(len(series))]
    return negative + neutral


def marked(series: list[int], listening_since: dt.datetime = START) -> list[int]:
    """Hours (from START) the chart marks in the second week."""
    points = negative_trend(counts(series), "hour", START + 7 * DAY, SETTINGS, {"acme": listening_since})
    assert len(points) == 7 * 24 and all(p.total == p.negative + 5 for p in points)
    return [int((p.time - START) / HOUR) for p in points if p.spike]


def test_one_spike_in_a_noisy_series_and_none_in_a_calm_one() -> None:
    for seed in range(3):
        assert marked(hourly_series(seed)) == []
    spiked = hourly_series(0)
    spiked[10 * 24 + 3] += 25  # 3 in the morning: usually ~1 complaint
    assert marked(spiked) == [10 * 24 + 3]


def test_days_before_the_first_mention_are_unknown_not_quiet() -> None:
    series = [0] * (14 * 24)
    series[7 * 24 + 12] = 40  # a watch's first busy day, one day after it was set up
    series[9 * 24 + 15] = 40  # with three days of (quiet) history: that is a spike
    assert marked(series, listening_since=START + 6 * DAY) == [9 * 24 + 15]
    # Listened to all along, the first one is a spike too.
    assert marked(series) == [7 * 24 + 12, 9 * 24 + 15]


def test_small_counts_never_spike_on_a_silent_baseline() -> None:
    series = [0] * (14 * 24)
    series[8 * 24 + 5] = SETTINGS.spike_min_count - 1
    series[9 * 24] = SETTINGS.spike_min_count
    assert marked(series) == [9 * 24]


def test_share_and_whole_buckets() -> None:
    [point] = negative_trend(counts([3]), "hour", START, SETTINGS, {"acme": START})
    assert (point.total, point.negative, point.share, point.spike) == (8, 3, 3 / 8, False)
    moment = dt.datetime(2026, 11, 2, 13, 47, 12, tzinfo=dt.UTC)
    assert bucket_start(moment, "hour") == dt.datetime(2026, 11, 2, 13, tzinfo=dt.UTC)
    assert bucket_start(moment, "day") == START


def test_top_terms_against_the_period_before() -> None:
    current = ["Acme refund refused again", "refund please, acme", "login broken", "the login is broken"]
    previous = ["login broken", "great app"]
    terms = {t.term: t for t in top_terms(current, previous, ignore=["Acme"])}
    assert "acme" not in terms and "the" not in terms
    assert terms["refund"].count == 2 and terms["refund"].change == "new"
    assert terms["login"].count == 2 and terms["login"].previous == 1 and terms["login"].change == "+100%"


def test_hours_up_to_two_days_then_days() -> None:
    from monitor.surface.trends import bucket_unit

    assert bucket_unit(dt.timedelta(hours=24)) == bucket_unit(2 * DAY) == "hour"
    assert bucket_unit(7 * DAY) == bucket_unit(90 * DAY) == "day"


def test_days_are_the_readers_days() -> None:
    from zoneinfo import ZoneInfo

    from monitor.surface.trends import local_days

    berlin = ZoneInfo("Europe/Berlin")
    # 22:30 UTC on Nov 1 is already Nov 2 in Berlin; 21:00 UTC is still Nov 1 there.
    hourly = [
        BucketCount(dt.datetime(2026, 11, 1, 21, tzinfo=dt.UTC), "acme", "negative", 2),
        BucketCount(dt.datetime(2026, 11, 1, 23, tzinfo=dt.UTC), "acme", "negative", 3),
        BucketCount(dt.datetime(2026, 11, 2, 5, tzinfo=dt.UTC), "acme", "negative", 4),
    ]
    days = {(c.bucket.isoformat(), c.count) for c in local_days(hourly, berlin)}
    assert days == {("2026-11-01T00:00:00+01:00", 2), ("2026-11-02T00:00:00+01:00", 7)}


def test_chart_points_leave_gaps_and_never_join_across_them() -> None:
    from monitor.surface.trends import TrendPoint, chart_points

    points = [TrendPoint(START + h * HOUR, "acme", 4, 1, False) for h in (0, 1, 4)]
    chart = chart_points(points, START, START + 6 * HOUR, "hour")
    assert [c.point.share for c in chart] == [0.25, 0.25, None, None, 0.25, None]
    runs = [c.run for c in chart if c.point.share is not None]
    assert runs[0] == runs[1] != runs[2]


def test_week_share_change_in_points() -> None:
    from monitor.surface.shares import Counts
    from monitor.surface.trends import WeekShare

    assert WeekShare("reddit", Counts(3, 2), Counts(2, 1)).change_points == 100 * (2 / 3 - 1 / 2)
    assert WeekShare("reddit", Counts(3, 2), Counts(0, 0)).change_points is None
