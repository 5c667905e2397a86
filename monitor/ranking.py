"""Priority: how negative x how far it will travel x how fresh. Inbox, alerts and digests share it."""

from __future__ import annotations

import math
from datetime import datetime

from monitor.mention import as_utc, utcnow

FRESHNESS_HALF_LIFE_HOURS = 12.0


def reach_factor(author_reach: int | None, engagement: int | None, rating: float | None) -> float:
    """1 for a mention nobody will see; grows with the log of the audience, so a celebrity does not
    drown every other complaint. A one-star review counts as loud: stores rank by rating."""
    audience = max(author_reach or 0, 0) + 10 * max(engagement or 0, 0)
    factor = 1.0 + math.log10(1.0 + audience)
    if rating is not None and rating <= 2:
        factor += 1.0
    return factor


def freshness(created_at: datetime, now: datetime | None = None) -> float:
    age_hours = max(((now or utcnow()) - as_utc(created_at)).total_seconds() / 3600.0, 0.0)
    return float(0.5 ** (age_hours / FRESHNESS_HALF_LIFE_HOURS))


def priority(
    negative: float | None,
    created_at: datetime,
    author_reach: int | None = None,
    engagement: int | None = None,
    rating: float | None = None,
    now: datetime | None = None,
) -> float:
    if negative is None:
        return 0.0
    return negative * reach_factor(author_reach, engagement, rating) * freshness(created_at, now)
