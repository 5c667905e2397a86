"""The queue's parts on a real PostgreSQL: what the elected scheduler queues (and what it never queues
twice), the election itself, a dead worker's job handed back, and the commands refusing SQLite."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from procrastinate.job_context import JobContext
from sqlalchemy import Engine, text

from monitor.config import QueueSettings, parse_config
from monitor.errors import ConfigError
from monitor.mention import Watch
from monitor.queue import tasks
from monitor.queue.app import conninfo, queue_app, task_name
from monitor.queue.election import APPLICATION_NAME_PREFIX, SCHEDULER_LOCK_KEY, Election
from monitor.queue.enqueue import Enqueuer
from monitor.store import queue
from tests.conftest import REPO

POSTGRES = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def queued(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                text(
                    "SELECT task_name, lock, queueing_lock, args, status FROM procrastinate_jobs ORDER BY id"
                )
            )
        ]


@pytest.fixture
def enqueuer(database_url: str, engine: Engine) -> Iterator[Enqueuer]:
    with queue_app(database_url).open() as app:
        yield Enqueuer(app, QueueSettings())


@POSTGRES
def test_a_job_already_waiting_is_not_queued_again_and_each_pair_has_its_own_lock(
    engine: Engine, enqueuer: Enqueuer
) -> None:
    acme, globex = Watch(name="acme", keywords=("acme",)), Watch(name="globex", keywords=("globex",))
    for _ in range(3):  # a slow queue: the scheduler fires again before a worker took the first
        enqueuer.collect(acme, "reddit")
        enqueuer.score()
    enqueuer.collect(globex, "reddit")
    enqueuer.collect(acme, "hackernews")
    enqueuer.digest("support")
    enqueuer.check_alerts()

    def job(task: str, lock: str | None, **args: str) -> tuple[Any, ...]:
        return (f"grumble:{task}", lock, lock or task, args, "todo")

    assert queued(engine) == [
        job("collect", "collect:acme:reddit", watch="acme", source="reddit"),
        job("score", None),
        job("collect", "collect:globex:reddit", watch="globex", source="reddit"),
        job("collect", "collect:acme:hackernews", watch="acme", source="hackernews"),
        job("digest", "digest:support", list_name="support"),
        job("check_alerts", "alerts"),
    ]
    stats = queue.queue_stats(engine, stalled_after_seconds=60)
    assert stats is not None and stats.jobs_by_status == {"todo": 6, "doing": 0}


@POSTGRES
def test_one_scheduler_is_elected_named_and_replaced_when_its_session_ends(
    database_url: str, engine: Engine
) -> None:
    first, second = Election(database_url, "host-a:1"), Election(database_url, "host-b:2")
    try:
        assert first.try_lead() and not second.try_lead()
        leader = queue.scheduler_leader(engine, SCHEDULER_LOCK_KEY, APPLICATION_NAME_PREFIX)
        assert leader is not None and leader.name == "host-a:1"
        assert first.try_lead() and first.still_leading()  # asking again keeps the lead
        # The leader's connection is cut (a network partition, a restarted pooler): it notices, and
        # the standby takes over at its next try.
        with psycopg.connect(conninfo(database_url), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                (APPLICATION_NAME_PREFIX + "host-a:1",),
            )
        assert not first.still_leading()
        assert second.try_lead()
        leader = queue.scheduler_leader(engine, SCHEDULER_LOCK_KEY, APPLICATION_NAME_PREFIX)
        assert leader is not None and leader.name == "host-b:2"
        assert not first.try_lead()
        second.resign()
        assert queue.scheduler_leader(engine, SCHEDULER_LOCK_KEY, APPLICATION_NAME_PREFIX) is None
        assert first.try_lead()
    finally:
        first.resign()
        second.resign()


def run_recover_stalled(database_url: str, engine: Engine, superseded: bool) -> list[tuple[Any, ...]]:
    """A worker takes a collection job and goes silent; recover_stalled runs on another."""

    async def scenario() -> None:
        app = queue_app(database_url)
        async with app.open_async():
            job = app.configure_task(
                task_name("collect"), lock="collect:acme:reddit", queueing_lock="collect:acme:reddit"
            )
            await job.defer_async(watch="acme", source="reddit")
            dead = await app.job_manager.register_worker()
            taken = await app.job_manager.fetch_job(queues=None, worker_id=dead)
            assert taken is not None
            with engine.begin() as connection:
                connection.execute(
                    text(
                        "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'"
                        " WHERE id = :id"
                    ),
                    {"id": dead},
                )
            if superseded:  # the scheduler queued the same collection again meanwhile
                await job.defer_async(watch="acme", source="reddit")
            context = JobContext(app=app, job=taken, start_timestamp=0.0, abort_reason=lambda: None)
            handed_back = await tasks.recover_stalled(context, stalled_after_seconds=30.0)
            assert handed_back == 1
            assert await app.job_manager.list_jobs_async(status="doing") == []

    asyncio.run(scenario())
    return [(row[0], row[4]) for row in queued(engine)]


@POSTGRES
def test_a_silent_workers_job_goes_back_to_the_queue_or_yields_to_the_same_job_queued_since(
    database_url: str, engine: Engine
) -> None:
    assert run_recover_stalled(database_url, engine, superseded=False) == [("grumble:collect", "todo")]
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM procrastinate_jobs"))
    after = run_recover_stalled(database_url, engine, superseded=True)
    # Superseded, not failed: nothing went wrong, so `grumble status` does not count a failure.
    assert after == [("grumble:collect", "aborted"), ("grumble:collect", "todo")]
    assert queue.failed_jobs(engine) == 0 and queue.superseded_jobs(engine) == 1
    assert [w.seconds_since_heartbeat < 60 for w in queue.workers(engine)] == []  # the silent one is pruned


def test_the_queues_timing_is_checked(tmp_path: Path) -> None:
    config = parse_config({"queue": {"heartbeat_seconds": 5, "stalled_after_seconds": 60}}, None, {})
    assert config.queue == QueueSettings(concurrency=2, heartbeat_seconds=5, stalled_after_seconds=60)
    with pytest.raises(
        ConfigError, match=r"queue.stalled_after_seconds: expected more than twice heartbeat_seconds \(10\)"
    ):
        parse_config({"queue": {"heartbeat_seconds": 10, "stalled_after_seconds": 15}}, None, {})


@pytest.mark.parametrize("command", [["worker"], ["run", "--no-worker"]])
def test_queue_commands_on_sqlite_say_the_queue_needs_postgresql(tmp_path: Path, command: list[str]) -> None:
    config = tmp_path / "grumble.toml"
    config.write_text(
        f'database_url = "sqlite:///{tmp_path / "g.db"}"\n[[watches]]\nname = "acme"\n', encoding="utf-8"
    )
    done = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "-c", str(config), *command],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "PostgreSQL" in done.stderr and "grumble run" in done.stderr


@POSTGRES
def test_a_recovery_that_died_with_its_worker_does_not_block_the_next_one(
    database_url: str, engine: Engine, enqueuer: Enqueuer
) -> None:
    async def scenario() -> tuple[Any, Any]:
        app = queue_app(database_url)
        async with app.open_async():
            dead = await app.job_manager.register_worker()
            first = await app.job_manager.fetch_job(queues=None, worker_id=dead)
            assert first is not None and first.task_name == task_name("recover_stalled")
            with engine.begin() as connection:
                connection.execute(
                    text("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'")
                )
            enqueuer.recover_stalled()  # the scheduler's next tick
            alive = await app.job_manager.register_worker()
            second = await app.job_manager.fetch_job(queues=None, worker_id=alive)
            assert second is not None, "the next recovery waits for a lock the dead one holds"
            context = JobContext(app=app, job=second, start_timestamp=0.0, abort_reason=lambda: None)
            assert await tasks.recover_stalled(context, stalled_after_seconds=30.0) == 1
            return first.id, second.id

    enqueuer.recover_stalled()
    first, second = asyncio.run(scenario())
    with engine.connect() as connection:
        states = dict(connection.execute(text("SELECT id, status FROM procrastinate_jobs")).all())
    assert states == {first: "todo", second: "doing"}


def test_every_app_in_one_process_knows_the_tasks_by_their_one_name() -> None:
    # `grumble run` makes two Apps (its scheduler's and its worker's); procrastinate renames a
    # blueprint's tasks in place, so a shared one made the second App's tasks `grumble:grumble:*`.
    first, second = (
        queue_app("postgresql://nobody@127.0.0.1:1/x"),
        queue_app("postgresql://nobody@127.0.0.1:1/x"),
    )
    for app in (first, second):
        ours = {name: task for name, task in app.tasks.items() if name.startswith("grumble:")}
        assert set(ours) == {task_name(name) for name in [*tasks.TASKS, *tasks.CONTEXT_TASKS]}
        assert all(task.name == name and task.blueprint is app for name, task in ours.items())


@POSTGRES
def test_a_job_queued_after_a_second_app_was_made_keeps_its_name(database_url: str, engine: Engine) -> None:
    with queue_app(database_url).open() as app:
        queue_app(database_url)  # the worker's App, made in the same process by `grumble run`
        Enqueuer(app, QueueSettings()).collect(Watch(name="acme", keywords=("acme",)), "reddit")
    assert [row[0] for row in queued(engine)] == [task_name("collect")]
