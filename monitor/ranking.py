"""Priority: how negative x how far it will travel x how fresh, halving every 12 hours (x 2 for an
author marked VIP).

One meaning for the inbox, digests, alerts and cases: scoring stores each mention's `rank_key`, and a
priority at any moment is read from it (`priority_from_key`); nothing recomputes it from raw columns.

"How negative" is the text's P(negative) moved by a review's stars (verdict.urgency): a 1-star
review is urgent however mildly worded, a 5-star one is not."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.mention import as_utc, utcnow
from monitor.verdict import urgency

FRESHNESS_HALF_LIFE_HOURS = 12.0
# An author a person marked VIP (a journalist, a key account): their mentions count this much more.
# Marking and unmarking move the stored keys of the author's mentions by ln(VIP_FACTOR) (store/authors.py).
VIP_FACTOR = 2.0


def reach_factor(author_reach: int | None, engagement: int | None, rating: float | None) -> float:
    """1 for a mention nobody will see; grows with the log of the audience, so a celebrity does not
    drown every other complaint. A one-star review counts as loud: stores rank by rating."""
    audience = max(author_reach or 0, 0) + 10 * max(engagement or 0, 0)
    factor = 1.0 + math.log10(1.0 + audience)
    if rating is not None and rating <= 2:
        factor += 1.0
    return factor


_LN2 = math.log(2.0)
VIP_SHIFT = math.log(VIP_FACTOR)  # what marking an author VIP adds to the keys of their mentions
MAX_EXPONENT = 700.0  # exp(709) is the largest finite float
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def now_offset(moment: datetime) -> float:
    """ln(freshness) at `moment` of a mention made at the epoch; differences give any mention's decay."""
    hours = (as_utc(moment) - _EPOCH).total_seconds() / 3600.0
    return _LN2 * hours / FRESHNESS_HALF_LIFE_HOURS


def ranked_time(created_at: datetime, seen_at: datetime | None) -> datetime:
    """The time freshness counts from: when it was posted, or when we saw it if the post claims a later
    time (a clock ahead, or a date a day in the future that the sanity check lets through), which would
    otherwise rank it above everything for hours and call it "1 min ago"."""
    if seen_at is not None and as_utc(seen_at) < as_utc(created_at):
        return seen_at
    return created_at


def rank_key(
    negative: float | None,
    created_at: datetime,
    author_reach: int | None = None,
    engagement: int | None = None,
    rating: float | None = None,
    vip: bool = False,
    seen_at: datetime | None = None,
) -> float | None:
    """ln(priority) plus a term that grows with time alike for every mention.

    Freshness decays exponentially, so every mention's priority shrinks by the same factor as time
    passes: the order never changes, and the store can keep this key in an index and sort a million
    mentions by priority without computing one. `priority_from_key` turns it back into a priority.
    """
    if negative is None:
        return None
    return (
        math.log(max(urgency(negative, rating), 1e-12))
        + math.log(reach_factor(author_reach, engagement, rating))
        + now_offset(ranked_time(created_at, seen_at))
        + (VIP_SHIFT if vip else 0.0)
    )


def priority_from_key(key: float | None, now: datetime | None = None) -> float:
    """The mention's priority at `now`; 0 for one not scored (no key)."""
    if key is None:
        return 0.0
    # A key stored before dates were checked (a post "from 2030") must not overflow the inbox.
    return math.exp(min(key - now_offset(now or utcnow()), MAX_EXPONENT))


@dataclass(frozen=True)
class PriorityFactors:
    """The three numbers a priority multiplies, for saying why a mention ranks where it does."""

    urgency: float  # how negative: P(negative) moved by the stars (verdict.urgency)
    reach: float  # how far it travels: reach_factor
    freshness: float  # 1 when new, halving every FRESHNESS_HALF_LIFE_HOURS
    vip: float = 1.0  # VIP_FACTOR for an author marked VIP

    @property
    def priority(self) -> float:
        return self.urgency * self.reach * self.freshness * self.vip


def priority_factors(
    negative: float | None,
    created_at: datetime,
    author_reach: int | None = None,
    engagement: int | None = None,
    rating: float | None = None,
    now: datetime | None = None,
    vip: bool = False,
    seen_at: datetime | None = None,
) -> PriorityFactors | None:
    """What `rank_key` multiplies, at `now`; None for a mention not scored yet."""
    if negative is None:
        return None
    age = now_offset(ranked_time(created_at, seen_at)) - now_offset(now or utcnow())
    return PriorityFactors(
        urgency=urgency(negative, rating),
        reach=reach_factor(author_reach, engagement, rating),
        freshness=math.exp(min(age, MAX_EXPONENT)),
        vip=VIP_FACTOR if vip else 1.0,
    )
