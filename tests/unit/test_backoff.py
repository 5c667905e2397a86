import random
from datetime import timedelta

from monitor.backoff import Backoff

MINUTE = timedelta(minutes=1)


def test_the_nominal_wait_doubles_up_to_the_cap_even_after_a_long_outage() -> None:
    backoff = Backoff(base=MINUTE, cap=timedelta(hours=1))
    assert [backoff.nominal(n) / MINUTE for n in (0, 1, 2, 3, 4, 7)] == [1, 1, 2, 4, 8, 60]
    assert backoff.nominal(10**9) == timedelta(hours=1)  # no overflow


def test_jitter_lands_in_the_upper_half_of_the_nominal_wait() -> None:
    assert Backoff(MINUTE, MINUTE * 8, random=lambda: 0.0).delay(3) == MINUTE * 4
    assert Backoff(MINUTE, MINUTE * 8, random=lambda: 0.5).delay(3) == MINUTE * 3
    assert Backoff(MINUTE, MINUTE * 8, random=lambda: 0.999999).delay(3) > MINUTE * 2
    rng = random.Random(1)
    delays = [Backoff(MINUTE, MINUTE * 8, random=rng.random).delay(3) for _ in range(1000)]
    assert all(MINUTE * 2 < delay <= MINUTE * 4 for delay in delays)
    # Spread out, which is the point: no two processes failing together retry together.
    assert len(set(delays)) > 990 and max(delays) - min(delays) > MINUTE * 1.9
