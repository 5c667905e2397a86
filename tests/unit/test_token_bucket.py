import pytest

from monitor.errors import SourceRateLimited
from monitor.token_bucket import Bucket, LocalRateLimit, Taken, local_rate_limits, settle


def test_a_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    bucket = Bucket(60, max_wait_s=5.0)  # one token a second
    assert bucket.take(0.0, 2.5) == Taken(tokens=1.5, wait_s=0.0, granted=True)
    assert bucket.take(59.0, 3600.0).tokens == 59.0  # full at 60, then one taken


def test_a_request_that_must_wait_takes_its_token_now() -> None:
    taken = Bucket(60, max_wait_s=5.0).take(0.25, 0.0)
    assert taken.granted and taken.wait_s == pytest.approx(0.75) and taken.tokens == pytest.approx(-0.75)


def test_a_wait_past_the_bound_is_refused_and_takes_nothing() -> None:
    taken = Bucket(60, max_wait_s=5.0).take(-5.0, 0.0)
    assert not taken.granted and taken.wait_s == pytest.approx(6.0) and taken.tokens == -5.0


def test_a_clock_that_went_backwards_refills_nothing() -> None:
    assert Bucket(60).take(0.0, -30.0) == Taken(tokens=-1.0, wait_s=1.0, granted=True)


def test_settle_sleeps_through_a_granted_wait_and_raises_for_a_refused_one() -> None:
    slept: list[float] = []
    settle("reddit", Bucket(60), Taken(0.0, 0.0, granted=True), slept.append)
    settle("reddit", Bucket(60), Taken(-1.0, 1.5, granted=True), slept.append)
    assert slept == [1.5]
    with pytest.raises(SourceRateLimited, match=r"60 requests a minute.*retry after 7\.0 s") as caught:
        settle("reddit", Bucket(60), Taken(-6.0, 7.0, granted=False), slept.append)
    assert caught.value.source == "reddit" and caught.value.retry_after == 7.0


def test_local_limits_hand_one_bucket_per_key() -> None:
    first = local_rate_limits("test:one", Bucket(5))
    assert local_rate_limits("test:one", Bucket(5)) is first
    assert local_rate_limits("test:two", Bucket(5)) is not first
    assert isinstance(first, LocalRateLimit) and first.bucket == Bucket(5)
