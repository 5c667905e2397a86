"""The Trends and Sources pages' figures: volume and negative share per watch or source with spikes
marked by the alerts' own rule (hourly buckets for up to two days, the reader's days beyond, gaps kept
as gaps), negative share this week against last, complaint terms against the period before, and
mentions per day."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from monitor.config import AlertSettings
from monitor.store.filters import MentionFilter
from monitor.store.trends import (
    BucketCount,
    GroupBy,
    Unit,
    first_mention_at,
    negative_counts,
    texts,
    volume,
)
from monitor.surface.shares import Counts, difference
from monitor.surface.spikes import DAY, same_time_before, spike_test

# Common English function words and web noise: they dominate counts and say nothing about a complaint.
STOPWORDS = frozenset(
    """a about after again all also am an and any are as at be because been before being but by can could
    did do does doing don't for from get got had has have having he her here him his how i i'm if in
    into is it it's its just me more most my no not now of on one only or other our out over own really
    same she should so some than that the their them then there these they this those through to too up
    us very was we were what when where which while who why will with would you your http https www com
    user amp im dont cant ive thats its""".split()  # noqa: SIM905
)
_WORD = re.compile(r"[^\W\d_][\w'-]{2,}", re.UNICODE)
BUCKET: dict[Unit, timedelta] = {"hour": timedelta(hours=1), "day": DAY}
WEEK = 7 * DAY


@dataclass(frozen=True)
class TrendPoint:
    """One time bucket of one watch or source."""

    time: datetime
    group: str
    total: int
    negative: int
    spike: bool  # the negative count is a spike by the alerts' rule

    @property
    def share(self) -> float | None:
        """None for a bucket without mentions: a gap in the chart, not 0%."""
        return self.negative / self.total if self.total else None


@dataclass(frozen=True)
class ChartPoint:
    point: TrendPoint
    run: int  # buckets of a group with mentions in a row share a run; a chart's line never leaves one


@dataclass(frozen=True)
class WeekShare:
    """A watch's or source's negative share over the last 7 days against the 7 days before."""

    group: str
    this_week: Counts
    last_week: Counts

    @property
    def change_points(self) -> float | None:
        change = difference(self.this_week.share, self.last_week.share)
        return None if change is None else 100 * change


@dataclass(frozen=True)
class Trend:
    start: datetime  # the first bucket's start
    volume: list[BucketCount]  # the period's counts per bucket, group and label
    points: list[TrendPoint]  # per bucket and group, where the group has mentions


def bucket_unit(span: timedelta) -> Unit:
    """Hours for up to two days; days beyond, where hourly points are too many to read."""
    return "hour" if span <= 2 * DAY else "day"


def bucket_start(moment: datetime, unit: Unit, zone: tzinfo = UTC) -> datetime:
    """The bucket `moment` falls in: its hour (as stored, UTC), or its day as the reader in `zone`
    counts days (midnight to midnight there, in that zone)."""
    if unit == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    return moment.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)


def local_days(hourly: Sequence[BucketCount], zone: tzinfo) -> list[BucketCount]:
    """Hourly counts summed into the reader's days. An hour is counted on the day it starts on: in a
    zone half an hour off UTC, the half hour after midnight falls on the day before."""
    summed: Counter[tuple[datetime, str, str]] = Counter()
    for count in hourly:
        summed[bucket_start(count.bucket, "day", zone), count.group, count.label] += count.count
    return [BucketCount(day, group, label, n) for (day, group, label), n in sorted(summed.items())]


def buckets(start: datetime, until: datetime, unit: Unit) -> list[datetime]:
    """Every bucket's start from `start` (a bucket's start) to `until`. Days step in the zone's own
    clock (datetime arithmetic on its tzinfo), so a day with a clock change is still one bucket."""
    times, time = [], start
    while time < until:
        times.append(time)
        time = time + BUCKET[unit]
    return times


def chart_points(
    points: Sequence[TrendPoint], start: datetime, until: datetime, unit: Unit
) -> list[ChartPoint]:
    """Every bucket for every group, gaps included (no mentions: share None), numbered in runs so a
    line is drawn only through buckets next to each other, never across an empty stretch."""
    by_group: dict[str, dict[datetime, TrendPoint]] = defaultdict(dict)
    for point in points:
        by_group[point.group][point.time] = point
    chart: list[ChartPoint] = []
    run = 0
    for group, known in sorted(by_group.items()):
        previous_was_gap = True
        for time in buckets(start, until, unit):
            point = known.get(time) or TrendPoint(time, group, 0, 0, False)
            gap = point.share is None
            if not gap and previous_was_gap:
                run += 1
            previous_was_gap = gap
            chart.append(ChartPoint(point, run))
    return chart


def negative_trend(
    counts: Sequence[BucketCount],
    unit: Unit,
    start: datetime,
    settings: AlertSettings,
    listening_since: Mapping[str, datetime],
) -> list[TrendPoint]:
    """Per bucket from `start` on and per group: its mentions, the negative ones, and whether those are
    a spike as the spike alert would call it at the bucket's end (spikes.py): against the same bucket
    on each of the previous days since the group's first mention (`listening_since`), a bucket without
    mentions counting 0. `counts` reach back far enough for that (`load_trend`)."""
    length = BUCKET[unit]
    totals: dict[str, Counter[datetime]] = defaultdict(Counter)
    negatives: dict[str, Counter[datetime]] = defaultdict(Counter)
    for count in counts:
        totals[count.group][count.bucket] += count.count
        if count.label == "negative":
            negatives[count.group][count.bucket] += count.count
    points = []
    for group, per_bucket in sorted(totals.items()):
        first = listening_since.get(group, min(per_bucket))
        for time in sorted(per_bucket):
            if time < start:
                continue
            # The alert's windows end at the bucket's end, on each earlier day the group was heard.
            earlier = same_time_before(time + length, settings, first)
            test = spike_test(
                negatives[group][time], [negatives[group][end - length] for end in earlier], settings
            )
            spike = test is not None and test.fired
            points.append(TrendPoint(time, group, per_bucket[time], negatives[group][time], spike))
    return points


def load_trend(
    engine: Engine,
    watches: Sequence[str],
    by: GroupBy,
    unit: Unit,
    since: datetime,
    settings: AlertSettings,
    timezone: str = "UTC",
) -> Trend:
    """The Trends page's figures from whole buckets since `since` (days: the reader's, in `timezone`),
    with the history their spike test needs loaded before it."""
    zone = ZoneInfo(timezone)
    start = bucket_start(since, unit, zone)
    hourly = volume(
        engine, MentionFilter(watches=watches, since=start - settings.spike_baseline_days * DAY), "hour", by
    )
    counts = hourly if unit == "hour" else local_days(hourly, zone)
    with engine.connect() as connection:
        listening_since = {
            group: first
            for group in {count.group for count in counts}
            if (first := first_mention_at(connection, _only(watches, by, group))) is not None
        }
    return Trend(
        start=start,
        volume=[count for count in counts if count.bucket >= start],
        points=negative_trend(counts, unit, start, settings, listening_since),
    )


def _only(watches: Sequence[str], by: GroupBy, group: str) -> MentionFilter:
    return (
        MentionFilter(watches=[group]) if by == "watch" else MentionFilter(watches=watches, sources=[group])
    )


def week_shares(engine: Engine, watches: Sequence[str], by: GroupBy, now: datetime) -> list[WeekShare]:
    """Per watch or source heard from in the last two weeks: its negative share over the last 7 days
    and over the 7 days before."""
    this_week = negative_counts(engine, MentionFilter(watches=watches, since=now - WEEK, until=now), by)
    last_week = negative_counts(
        engine, MentionFilter(watches=watches, since=now - 2 * WEEK, until=now - WEEK), by
    )
    return [
        WeekShare(group, Counts(*this_week.get(group, (0, 0))), Counts(*last_week.get(group, (0, 0))))
        for group in sorted(this_week.keys() | last_week.keys())
    ]


def daily_by_source(engine: Engine, since: datetime) -> dict[date, dict[str, int]]:
    """Mentions per day and source since then, every source present on every day (0 when silent)."""
    counts = volume(engine, MentionFilter(since=since), "day", "source")
    sources = sorted({count.group for count in counts})
    table: dict[date, dict[str, int]] = {}
    for count in counts:
        row = table.setdefault(count.bucket.date(), dict.fromkeys(sources, 0))
        row[count.group] += count.count
    return dict(sorted(table.items()))


@dataclass(frozen=True)
class Term:
    term: str
    count: int
    previous: int

    @property
    def change(self) -> str:
        if self.previous == 0:
            return "new"
        return f"{(self.count - self.previous) / self.previous:+.0%}"


def terms(texts: Iterable[str]) -> Counter[str]:
    """Each word counted once per text: one rant repeating a word is one voice."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({word for word in (w.lower() for w in _WORD.findall(text)) if word not in STOPWORDS})
    return counts


def top_terms(
    current: Iterable[str], previous: Iterable[str], n: int = 15, ignore: Iterable[str] = ()
) -> list[Term]:
    """The period's most frequent complaint terms, with their count in the period before.

    `ignore` drops the watch's own keywords: every mention contains the brand name."""
    skip = {word.lower() for phrase in ignore for word in phrase.split()}
    now, before = terms(current), terms(previous)
    ranked = [(term, count) for term, count in now.most_common() if term not in skip]
    return [Term(term, count, before.get(term, 0)) for term, count in ranked[:n]]


def period_terms(
    engine: Engine, watches: Sequence[str], since: datetime, until: datetime, ignore: Iterable[str]
) -> list[Term]:
    """The top complaint terms of negative mentions since `since`, against the period as long before it."""
    span = until - since
    negative = MentionFilter(watches=watches, labels=["negative"])
    current = texts(engine, replace(negative, since=since))
    previous = texts(engine, replace(negative, since=since - span, until=since))
    return top_terms(current, previous, ignore=ignore)
