from datetime import timedelta

from monitor.ranking import freshness, priority
from tests.factories import BASE_TIME


def test_more_negative_louder_and_fresher_rank_higher() -> None:
    now = BASE_TIME
    base = priority(0.9, now, author_reach=100, now=now)
    assert priority(0.5, now, author_reach=100, now=now) < base
    assert priority(0.9, now, author_reach=100_000, now=now) > base
    assert priority(0.9, now - timedelta(days=2), author_reach=100, now=now) < base


def test_one_star_reviews_count_as_loud_and_unscored_is_zero() -> None:
    now = BASE_TIME
    assert priority(0.8, now, rating=1, now=now) > priority(0.8, now, rating=4, now=now)
    assert priority(None, now, now=now) == 0.0


def test_freshness_halves_every_half_life() -> None:
    assert abs(freshness(BASE_TIME - timedelta(hours=12), BASE_TIME) - 0.5) < 1e-9
    assert freshness(BASE_TIME + timedelta(hours=1), BASE_TIME) == 1.0
