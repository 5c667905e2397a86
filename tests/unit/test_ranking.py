import math
from datetime import UTC, datetime, timedelta

import pytest

from monitor.ranking import priority_from_key, rank_key
from monitor.verdict import urgency
from tests.factories import BASE_TIME


def priority(
    negative: float,
    created_at: datetime,
    author_reach: int | None = None,
    engagement: int | None = None,
    rating: float | None = None,
    now: datetime = BASE_TIME,
) -> float:
    """A mention's priority as the inbox, digests and alerts read it: from the key scoring stores."""
    return priority_from_key(rank_key(negative, created_at, author_reach, engagement, rating), now)


def test_more_negative_louder_and_fresher_rank_higher() -> None:
    now = BASE_TIME
    base = priority(0.9, now, author_reach=100, now=now)
    assert priority(0.5, now, author_reach=100, now=now) < base
    assert priority(0.9, now, author_reach=100_000, now=now) > base
    assert priority(0.9, now - timedelta(days=2), author_reach=100, now=now) < base


def test_one_star_reviews_count_as_loud_and_unscored_is_zero() -> None:
    now = BASE_TIME
    assert priority(0.8, now, rating=1, now=now) > priority(0.8, now, rating=4, now=now)
    assert rank_key(None, now) is None and priority_from_key(None, now) == 0.0


def test_priority_halves_every_half_life() -> None:
    fresh = priority(0.9, BASE_TIME, now=BASE_TIME)
    assert abs(priority(0.9, BASE_TIME - timedelta(hours=12)) - fresh / 2) < 1e-9
    assert abs(priority(0.9, BASE_TIME - timedelta(hours=24)) - fresh / 4) < 1e-9


def test_the_key_means_negative_times_reach_times_freshness_at_any_time() -> None:
    cases = [
        (0.9, BASE_TIME - timedelta(hours=30), 50_000, 10, None),
        (0.99, BASE_TIME - timedelta(hours=2), 10, 0, None),
        (0.6, BASE_TIME, None, None, 1.0),
        (0.3, BASE_TIME - timedelta(minutes=5), 1_000_000, 500, None),
    ]
    for now in (BASE_TIME, BASE_TIME + timedelta(days=3)):
        for negative, created, reach, engagement, rating in cases:
            audience = (reach or 0) + 10 * (engagement or 0)
            loudness = 1 + math.log10(1 + audience) + (1.0 if rating is not None and rating <= 2 else 0.0)
            age_hours = (now - created).total_seconds() / 3600
            expected = urgency(negative, rating) * loudness * 0.5 ** (age_hours / 12)
            actual = priority(negative, created, reach, engagement, rating, now=now)
            assert abs(actual - expected) <= 1e-9 * expected
    keys = [rank_key(*case) for case in cases]
    by_key = sorted(range(len(cases)), key=lambda i: keys[i] or 0.0)
    by_priority = sorted(range(len(cases)), key=lambda i: priority(*cases[i]))
    assert by_key == by_priority


def test_priority_stays_finite_for_any_stored_key() -> None:
    # A key stored before dates were checked: a post "from" the year 9000.
    key = rank_key(0.9, datetime(9000, 1, 1, tzinfo=UTC), 10, 1)
    assert key is not None
    assert math.isfinite(priority_from_key(key)) and priority_from_key(key) > 1e100
    assert priority_from_key(-1e9) == 0.0


def test_the_factors_multiply_to_the_priority_the_key_gives() -> None:
    from monitor.ranking import priority_factors

    created = BASE_TIME - timedelta(hours=12)
    factors = priority_factors(0.3, created, author_reach=12_000, engagement=40, rating=1.0, now=BASE_TIME)
    assert factors is not None
    assert factors.urgency == urgency(0.3, 1.0) == 0.9  # the stars decide
    assert math.isclose(factors.freshness, 0.5)  # one half-life old
    assert math.isclose(factors.reach, 2.0 + math.log10(1 + 12_000 + 400))
    assert math.isclose(factors.priority, priority(0.3, created, 12_000, 40, 1.0))
    assert priority_factors(None, created) is None


def test_a_post_claiming_a_later_time_than_we_saw_it_ranks_and_ages_from_when_we_saw_it() -> None:
    from monitor.ranking import priority_factors
    from monitor.surface.inbox import MentionRow

    seen = BASE_TIME
    honest = rank_key(0.9, seen, seen_at=seen)
    ahead = rank_key(0.9, seen + timedelta(hours=23), seen_at=seen)
    assert ahead == honest
    # Before the fix: 23 hours ahead ranked 2^(23/12) = 3.8x higher than the same post made now.
    assert rank_key(0.9, seen + timedelta(hours=23)) == pytest.approx(honest + math.log(2) * 23 / 12)
    factors = priority_factors(0.9, seen + timedelta(hours=23), now=seen + timedelta(hours=12), seen_at=seen)
    assert factors is not None and factors.freshness == pytest.approx(0.5)
    # An earlier post time than the time we saw it (the normal case) still counts from the post.
    assert rank_key(0.9, seen - timedelta(hours=5), seen_at=seen) < honest
    row = MentionRow(
        id=1,
        source="bluesky",
        external_id="x",
        author=None,
        author_reach=None,
        engagement=None,
        created_at=seen + timedelta(hours=23),
        text="t",
        title=None,
        url=None,
        rating=None,
        parent_id=None,
        label="negative",
        negative=0.9,
        neutral=0.05,
        positive=0.05,
        language="en",
        text_label=None,
        label_basis=None,
        model_version="m",
        triage="open",
        triaged_by=None,
        priority=1.0,
        collected_at=seen,
    )
    assert row.age(now=seen + timedelta(hours=3)) == "3 h ago"
