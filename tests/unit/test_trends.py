import random

from monitor.surface.trends import is_spike, spike_flags, top_terms


def test_one_spike_in_a_noisy_series_and_none_in_a_calm_one() -> None:
    rng = random.Random(3)
    calm = [sum(rng.random() < 0.3 for _ in range(20)) for _ in range(96)]  # about 6 an hour
    assert not any(spike_flags(calm))
    spiked = calm[:]
    spiked[80] = 40
    assert [i for i, flag in enumerate(spike_flags(spiked)) if flag] == [80]


def test_small_counts_never_spike_on_an_empty_baseline() -> None:
    assert not is_spike(3, [0] * 24)
    assert is_spike(12, [0] * 24)
    assert not is_spike(50, [])


def test_top_terms_against_the_period_before() -> None:
    current = ["Acme refund refused again", "refund please, acme", "login broken", "the login is broken"]
    previous = ["login broken", "great app"]
    terms = {t.term: t for t in top_terms(current, previous, ignore=["Acme"])}
    assert "acme" not in terms and "the" not in terms
    assert terms["refund"].count == 2 and terms["refund"].change == "new"
    assert terms["login"].count == 2 and terms["login"].previous == 1 and terms["login"].change == "+100%"
