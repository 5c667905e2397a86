"""Share of voice: a brand watch against its competitors (`competitors = [...]` on the brand's watch)
over a period and the period as long before it, for the Compare page and digests.

Per watch of the group: its mentions, its share of the group's mentions (share of voice), its negative
share, each against the period before, and the terms its negative mentions use most (the Trends page's
term counting, with every group watch's names and keywords left out: each mention contains them).
A mention that matched two watches of the group counts for both, so shares are of the mentions the
group's watches heard, and add up to 100% of that.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Engine

from monitor.mention import Watch
from monitor.store.compare import WatchVolume, period_volumes
from monitor.store.filters import MentionFilter
from monitor.store.trends import texts
from monitor.surface.shares import Counts, difference
from monitor.surface.trends import Term, top_terms

PERIOD_DAYS = (7, 30, 90)
TERMS_PER_WATCH = 5


@dataclass(frozen=True)
class Figures:
    """One watch over one period."""

    total: int
    negative: int
    share_of_voice: float | None  # None: the group heard nothing in the period

    @property
    def negative_share(self) -> float | None:
        return Counts(self.total, self.negative).share


@dataclass(frozen=True)
class WatchComparison:
    watch: str
    is_brand: bool
    current: Figures
    previous: Figures
    terms: tuple[Term, ...]  # top complaint terms of the period, with their count the period before

    @property
    def volume_change(self) -> int:
        return self.current.total - self.previous.total

    @property
    def share_of_voice_change(self) -> float | None:
        return difference(self.current.share_of_voice, self.previous.share_of_voice)

    @property
    def negative_share_change(self) -> float | None:
        return difference(self.current.negative_share, self.previous.negative_share)


@dataclass(frozen=True)
class Comparison:
    brand: str
    start: datetime
    end: datetime
    rows: tuple[WatchComparison, ...]  # the brand first, then its competitors as configured

    @property
    def previous_start(self) -> datetime:
        return self.start - (self.end - self.start)

    @property
    def quiet(self) -> bool:
        """Nobody in the group was mentioned in either period."""
        return not any(row.current.total or row.previous.total for row in self.rows)


def brand_watches(watches: Sequence[Watch]) -> list[Watch]:
    """The watches with competitors configured, in the file's order: the brands one can compare."""
    return [watch for watch in watches if watch.competitors]


def group_of(brand: Watch) -> tuple[str, ...]:
    return (brand.name, *brand.competitors)


def figures(group: Sequence[str], volumes: Sequence[WatchVolume]) -> dict[str, Figures]:
    """Each group watch's figures from one period's counts; a watch without mentions has zeros."""
    counted = {volume.watch: volume for volume in volumes if volume.watch in group}
    heard = sum(volume.total for volume in counted.values())
    result = {}
    for name in group:
        volume = counted.get(name, WatchVolume(name, 0, 0))
        share = volume.total / heard if heard else None
        result[name] = Figures(volume.total, volume.negative, share)
    return result


def compare(
    brand: str,
    group: Sequence[str],
    start: datetime,
    end: datetime,
    current: Sequence[WatchVolume],
    previous: Sequence[WatchVolume],
    terms: Mapping[str, Sequence[Term]],
) -> Comparison:
    """The comparison from counts already fetched: pure, for tests and for `load_comparison`."""
    now, before = figures(group, current), figures(group, previous)
    rows = tuple(
        WatchComparison(name, name == brand, now[name], before[name], tuple(terms.get(name, ())))
        for name in group
    )
    return Comparison(brand, start, end, rows)


def ignored_words(group: Sequence[Watch]) -> list[str]:
    """Every group watch's name and keywords: a complaint about a brand always says the brand."""
    return [word for watch in group for word in (watch.name, *watch.keywords, watch.brand or "")]


def load_comparison(
    engine: Engine, brand: Watch, watches: Sequence[Watch], end: datetime, span: timedelta
) -> Comparison:
    """`brand` against its competitors over [end - span, end) and the span before it. `watches` are all
    configured watches (the competitors' keywords are found there)."""
    group = group_of(brand)
    start, previous_start = end - span, end - 2 * span
    ignore = ignored_words([watch for watch in watches if watch.name in group])
    terms = {}
    for name in group:
        negative = MentionFilter(watches=[name], labels=["negative"])
        terms[name] = top_terms(
            texts(engine, replace(negative, since=start, until=end)),
            texts(engine, replace(negative, since=previous_start, until=start)),
            n=TERMS_PER_WATCH,
            ignore=ignore,
        )
    return compare(
        brand.name,
        group,
        start,
        end,
        period_volumes(engine, group, start, end),
        period_volumes(engine, group, previous_start, start),
        terms,
    )


def digest_comparisons(
    engine: Engine, watches: Sequence[Watch], digest_watches: Sequence[str], start: datetime, end: datetime
) -> list[Comparison]:
    """For a digest over [start, end): each brand among the list's watches (every brand when the list
    names none) against its competitors, over the digest's period and the one as long before it."""
    return [
        load_comparison(engine, brand, watches, end, end - start)
        for brand in brand_watches(watches)
        if not digest_watches or brand.name in digest_watches
    ]
