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


def test_rank_key_orders_exactly_as_priority_at_any_time() -> None:
    from monitor.ranking import priority_from_key, rank_key

    cases = [
        (0.9, BASE_TIME - timedelta(hours=30), 50_000, 10, None),
        (0.99, BASE_TIME - timedelta(hours=2), 10, 0, None),
        (0.6, BASE_TIME, None, None, 1.0),
        (0.3, BASE_TIME - timedelta(minutes=5), 1_000_000, 500, None),
    ]
    for now in (BASE_TIME, BASE_TIME + timedelta(days=3)):
        direct = [priority(n, t, r, e, s, now=now) for n, t, r, e, s in cases]
        from_key = [priority_from_key(rank_key(n, t, r, e, s), now) for n, t, r, e, s in cases]
        for a, b in zip(direct, from_key, strict=True):
            assert abs(a - b) <= 1e-9 * max(a, 1e-300)
    keys = [rank_key(n, t, r, e, s) for n, t, r, e, s in cases]
    by_key = sorted(range(len(cases)), key=lambda i: keys[i])
    by_priority = sorted(range(len(cases)), key=lambda i: priority(*cases[i], now=BASE_TIME))
    assert by_key == by_priority
    assert rank_key(None, BASE_TIME) is None


def test_priority_stays_finite_for_any_stored_key() -> None:
    import math
    from datetime import UTC, datetime

    from monitor.ranking import priority_from_key, rank_key

    # A key stored before dates were checked: a post "from" the year 9000.
    key = rank_key(0.9, datetime(9000, 1, 1, tzinfo=UTC), 10, 1)
    assert key is not None
    assert math.isfinite(priority_from_key(key)) and priority_from_key(key) > 1e100
    assert priority_from_key(-1e9) == 0.0
