"""Quota counts kept in the database (monitor/store/quotas.py): every process and restart on one database
spends one quota, the count resets with the window, and two processes racing for a window's last units
cannot both get them."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from monitor.sources.quota import DailyWindow, HourlyWindow, Quota, QuotaAccount, QuotaExhausted
from monitor.store.engine import connect
from monitor.store.quotas import SharedQuotaLedger


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _account(engine: Engine, clock: Clock, quota: Quota, key: str = "k1") -> QuotaAccount:
    return QuotaAccount(SharedQuotaLedger(engine), source="youtube", key=key, quota=quota, clock=clock)


@pytest.mark.both_databases
def test_counts_survive_a_restart_and_reset_with_the_window(engine: Engine, database_url: str) -> None:
    clock = Clock(datetime(2026, 12, 7, 7, 0, tzinfo=UTC))  # 23:00 Pacific
    quota = Quota(1_000, DailyWindow(), 0.5)
    _account(engine, clock, quota).spend(400, "search.list")
    # Another engine on the same database: what a restarted or second process sees.
    other = connect(database_url)
    try:
        again = _account(other, clock, quota)
        assert again.usage().used == 400
        with pytest.raises(QuotaExhausted, match="400 of the 500 units"):
            again.spend(101, "search.list")
        again.spend(100, "search.list")
        assert _account(engine, clock, quota).remaining() == 0
        clock.now += timedelta(hours=1)  # midnight Pacific: a new day
        assert again.remaining() == 500
        again.spend(1, "commentThreads.list")
        assert _account(engine, clock, quota).usage().used == 1
    finally:
        other.dispose()


@pytest.mark.both_databases
def test_keys_and_sources_count_apart(engine: Engine) -> None:
    clock = Clock(datetime(2026, 12, 7, 12, tzinfo=UTC))
    quota = Quota(100, HourlyWindow())
    _account(engine, clock, quota, key="a").spend(100, "reviews.list")
    assert _account(engine, clock, quota, key="b").remaining() == 100
    play = QuotaAccount(SharedQuotaLedger(engine), source="google_play", key="a", quota=quota, clock=clock)
    assert play.remaining() == 100


@pytest.mark.both_databases
def test_a_lagging_clock_charges_the_newer_window_rather_than_resetting_it(engine: Engine) -> None:
    quota = Quota(100, HourlyWindow())
    ahead = Clock(datetime(2026, 12, 7, 5, 0, 1, tzinfo=UTC))
    behind = Clock(datetime(2026, 12, 7, 4, 59, 59, tzinfo=UTC))
    _account(engine, ahead, quota).spend(60, "reviews.list")
    _account(engine, behind, quota).spend(30, "reviews.list")
    assert _account(engine, ahead, quota).usage().used == 90


@pytest.mark.both_databases
def test_racing_spenders_never_get_more_than_the_allowed_units(engine: Engine) -> None:
    clock = Clock(datetime(2026, 12, 7, 12, tzinfo=UTC))
    quota = Quota(50, DailyWindow())
    granted: list[int] = []
    lock = threading.Lock()

    def spend_all() -> None:
        account = _account(engine, clock, quota)
        for _ in range(20):
            try:
                account.spend(1, "commentThreads.list")
            except QuotaExhausted:
                continue
            with lock:
                granted.append(1)

    threads = [threading.Thread(target=spend_all) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 50
    assert _account(engine, clock, quota).usage().used == 50
