"""Rate limits kept in the database: one bucket per key for every process on it (store/rate_limits.py),
and the Reddit sources a process with a database builds spend from it. The evidence for several
processes is real `python -m tests.rate_limit_worker` processes acquiring together."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select, update

from monitor.config import parse_config
from monitor.errors import SourceRateLimited
from monitor.jobs import Jobs, ModelHolder
from monitor.sources import reddit
from monitor.sources.base import SourceSettings
from monitor.sources.demo import DemoSource
from monitor.sources.registry import build_source
from monitor.store import rate_limits as rate_limit_store
from monitor.store.engine import open_engine
from monitor.store.rate_limits import SharedRateLimit, shared_rate_limits, take_token
from monitor.store.schema import rate_limits
from monitor.token_bucket import Bucket, LocalRateLimit
from tests.conftest import REPO
from tests.sources.fakes import reddit_adapter
from tests.support.http_replay import ReplayServer


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


def bucket_row(engine: Engine, key: str) -> tuple[float, datetime]:
    with engine.connect() as connection:
        row = connection.execute(
            select(rate_limits.c.tokens, rate_limits.c.updated_at).where(rate_limits.c.key == key)
        ).one()
    return row.tokens, row.updated_at


def keys(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(select(rate_limits.c.key)))


# --- the bucket in the database -------------------------------------------------------------------------


@pytest.mark.both_databases
def test_a_shared_bucket_allows_its_burst_then_waits(engine: Engine) -> None:
    clock = FakeClock()
    limit = SharedRateLimit(engine, "test:a", Bucket(100, max_wait_s=5.0), clock=clock, sleep=clock.sleep)
    for _ in range(100):
        limit.acquire("reddit")
    assert clock.slept == []
    limit.acquire("reddit")  # the 101st waits for one token: 0.6 s at 100 a minute
    assert clock.slept == [pytest.approx(0.6)]
    tokens, updated_at = bucket_row(engine, "test:a")
    assert tokens == pytest.approx(-1.0) and updated_at == clock.now - timedelta(seconds=0.6)


@pytest.mark.both_databases
def test_a_shared_bucket_refuses_a_long_wait_and_takes_nothing_for_it(engine: Engine) -> None:
    clock = FakeClock()
    # Callers in parallel: each takes its token before sleeping, so the queue's wait grows.
    bucket = Bucket(100, max_wait_s=5.0)
    limit = SharedRateLimit(engine, "test:a", bucket, clock=clock, sleep=clock.slept.append)
    for _ in range(108):
        limit.acquire("reddit")
    assert clock.slept[-1] == pytest.approx(4.8)
    with pytest.raises(SourceRateLimited) as caught:
        limit.acquire("reddit")
    assert caught.value.retry_after == pytest.approx(5.4)
    assert bucket_row(engine, "test:a")[0] == pytest.approx(-8.0)
    clock.now += timedelta(seconds=60)
    limit.acquire("reddit")
    assert bucket_row(engine, "test:a")[0] == pytest.approx(91.0)


@pytest.mark.both_databases
def test_limits_on_one_key_from_two_engines_share_one_bucket(engine: Engine, database_url: str) -> None:
    other = open_engine(database_url)  # as another process would have
    try:
        clock = FakeClock()
        bucket = Bucket(10, max_wait_s=0.0)
        mine = SharedRateLimit(engine, "test:shared", bucket, clock=clock)
        theirs = SharedRateLimit(other, "test:shared", bucket, clock=clock)
        elsewhere = SharedRateLimit(other, "test:elsewhere", bucket, clock=clock)
        for _ in range(5):
            mine.acquire("reddit")
            theirs.acquire("reddit")
        for limit in (mine, theirs):
            with pytest.raises(SourceRateLimited):
                limit.acquire("reddit")
        elsewhere.acquire("reddit")  # another key, another bucket
        assert sorted(keys(engine)) == ["test:elsewhere", "test:shared"]
    finally:
        other.dispose()


@pytest.mark.both_databases
def test_the_bucket_refills_by_the_time_since_its_row_was_written(engine: Engine) -> None:
    bucket = Bucket(60, max_wait_s=0.0)  # one a second; the database's clock (PostgreSQL) or this one
    for _ in range(60):
        assert take_token(engine, "test:clock", bucket).granted
    refused = take_token(engine, "test:clock", bucket)
    assert not refused.granted and 0.0 < refused.wait_s <= 1.0
    with engine.begin() as connection:
        written = bucket_row(engine, "test:clock")[1]
        connection.execute(
            update(rate_limits)
            .where(rate_limits.c.key == "test:clock")
            .values(updated_at=written - timedelta(seconds=30))
        )
    taken = take_token(engine, "test:clock", bucket)
    # 30 s of refill and one token taken, give or take the second this test may take to get here.
    assert taken.granted and refused.tokens + 29.0 <= taken.tokens < refused.tokens + 30.0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_on_postgresql_a_process_with_a_fast_clock_gets_no_extra_tokens(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = Bucket(60, max_wait_s=0.0)
    for _ in range(60):
        assert take_token(engine, "test:skew", bucket).granted
    # This machine's clock an hour ahead: on SQLite (one machine) that would refill the bucket.
    monkeypatch.setattr(rate_limit_store, "utcnow", lambda: datetime.now(UTC) + timedelta(hours=1))
    assert not take_token(engine, "test:skew", bucket).granted
    assert bucket_row(engine, "test:skew")[1] < datetime.now(UTC) + timedelta(minutes=1)


# --- sources built by a process with a database -----------------------------------------------------


def test_a_reddit_source_built_with_an_engine_spends_the_shared_bucket(
    sqlite_engine: Engine, replay_server: ReplayServer
) -> None:
    adapter = reddit_adapter(replay_server)
    settings = SourceSettings(
        "reddit",
        replay_server.url,
        max_backfill=2,
        options={"client_id": "acme-app-id", "client_secret": "s3cret-value", "page_size": 2},
    )
    source = build_source(settings, shared_rate_limits(sqlite_engine))
    assert isinstance(source, reddit.RedditSource) and isinstance(source.rate_limit, SharedRateLimit)
    source.fetch(adapter.watch(), None)
    # Another process's source for the same client counts against the same row.
    build_source(settings, shared_rate_limits(sqlite_engine)).fetch(adapter.watch(), None)

    key = reddit.client_key("acme-app-id")
    assert keys(sqlite_engine) == [key]
    assert "acme-app-id" not in key and "s3cret" not in key
    assert bucket_row(sqlite_engine, key)[0] == pytest.approx(98.0, abs=0.5)
    assert len(replay_server.requests_to("/search")) == 2


def test_without_an_engine_a_reddit_source_keeps_its_limit_in_the_process(sqlite_engine: Engine) -> None:
    source = build_source(SourceSettings("reddit", options={"client_id": "acme-app-id"}))
    assert isinstance(source, reddit.RedditSource) and isinstance(source.rate_limit, LocalRateLimit)
    # Sources that keep no limit of their own are built as before.
    assert isinstance(build_source(SourceSettings("demo"), shared_rate_limits(sqlite_engine)), DemoSource)


def test_the_scheduler_builds_reddit_sources_on_the_shared_bucket(sqlite_engine: Engine) -> None:
    config = parse_config(
        {"watches": [{"name": "acme", "keywords": ["acme"], "sources": {"reddit": {}}}]},
        None,
        {"GRUMBLE_REDDIT_CLIENT_ID": "acme-app-id", "GRUMBLE_REDDIT_CLIENT_SECRET": "s"},
    )
    jobs = Jobs(config, sqlite_engine, ModelHolder(lambda: pytest.fail("no model needed")))
    source = jobs.source("reddit")
    assert isinstance(source, reddit.RedditSource) and isinstance(source.rate_limit, SharedRateLimit)
    assert source.rate_limit.key == reddit.client_key("acme-app-id")


# --- several processes ----------------------------------------------------------------------------------

PER_MINUTE = 30  # a burst of 30, then one token every two seconds
MAX_WAIT_S = 0.5
WINDOW_S = 2.0
PROCESSES = 3
# Granted in the window: the burst, the refill over the window, and the tokens taken ahead by
# requests still waiting (at most MAX_WAIT_S of refill); one more for the workers' staggered start.
ONE_LIMIT = PER_MINUTE + PER_MINUTE / 60 * (WINDOW_S + MAX_WAIT_S) + 1


def granted_together(where: str, key: str) -> list[int]:
    """Start PROCESSES workers on one limit, let them go at once, and return what each was granted."""
    command = [sys.executable, "-m", "tests.rate_limit_worker", where, key]
    command += [str(PER_MINUTE), str(MAX_WAIT_S), str(WINDOW_S)]
    workers = [
        subprocess.Popen(command, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(PROCESSES)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        counts = [int(worker.communicate(timeout=60)[0]) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert all(worker.returncode == 0 for worker in workers)
    return counts


@pytest.mark.slow
@pytest.mark.both_databases
def test_processes_sharing_a_database_keep_one_limit_between_them(engine: Engine, database_url: str) -> None:
    counts = granted_together(database_url, f"test:{uuid.uuid4().hex}")
    assert PER_MINUTE <= sum(counts) <= ONE_LIMIT, counts


@pytest.mark.slow
def test_processes_with_limits_of_their_own_get_one_limit_each() -> None:
    # What the shared bucket prevents: the in-process limit lets every process have all of it.
    counts = granted_together("local", "test:local")
    assert all(PER_MINUTE <= count <= ONE_LIMIT for count in counts), counts
    assert sum(counts) > 2 * ONE_LIMIT
