"""A collection whose queue job was handed to another worker while it ran (its worker paused past the
stall time) cannot write: the page, the cursor and the source's health stay the new holder's.
Real PostgreSQL and procrastinate's own job manager: a worker takes the job, goes silent,
`recover_stalled` hands it back and a second worker takes it, all while the first run's fetch is
in flight; the fake source stands in for the API (the fence is about the store, not HTTP)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest
from procrastinate.job_context import JobContext
from procrastinate.jobs import Job
from sqlalchemy import Engine, text

from monitor.collect.run import collect
from monitor.errors import SourceUnavailable
from monitor.mention import Page, Watch
from monitor.queue import tasks
from monitor.queue.app import queue_app, task_name
from monitor.queue.fence import job_claim
from monitor.store.collect_state import get_state
from tests.fake_sources import PagedSource

POSTGRES = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
WATCH = Watch(name="acme", keywords=("acme",))


class PausedSource(PagedSource):
    """Runs `meanwhile` during its first fetch: what happens to the queue while the worker is paused."""

    def __init__(self, meanwhile: Callable[[], None], error: SourceUnavailable | None = None) -> None:
        super().__init__(total=3, page_size=3, fail_at=0 if error else None, error=error)
        self.meanwhile = meanwhile

    def fetch(self, watch: Watch, cursor: str | None) -> Page:
        self.meanwhile()
        return super().fetch(watch, cursor)


def take_job(database_url: str) -> Job:
    """A worker takes a queued collection job (status "doing", its first attempt)."""

    async def scenario() -> Job:
        app = queue_app(database_url)
        async with app.open_async():
            await app.configure_task(task_name("collect"), lock="collect:acme:paged").defer_async(
                watch="acme", source="paged"
            )
            worker = await app.job_manager.register_worker()
            job = await app.job_manager.fetch_job(queues=None, worker_id=worker)
            assert job is not None
            return job

    return asyncio.run(scenario())


def hand_back_and_retake(database_url: str, engine: Engine) -> None:
    """The first worker falls silent; a recovery hands its job back and another worker takes it."""
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'")
        )

    async def scenario() -> None:
        app = queue_app(database_url)
        async with app.open_async():
            alive = await app.job_manager.register_worker()
            recovery = await app.job_manager.fetch_job(queues=None, worker_id=alive)
            assert recovery is None  # nothing else queued: the recovery is run directly below
            context = JobContext(app=app, job=None, start_timestamp=0.0, abort_reason=lambda: None)  # type: ignore[arg-type]
            assert await tasks.recover_stalled(context, stalled_after_seconds=30.0) == 1
            retaken = await app.job_manager.fetch_job(queues=None, worker_id=alive)
            assert retaken is not None and retaken.attempts == 1

    asyncio.run(scenario())


def stored(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM mentions")).scalar_one())


@POSTGRES
def test_a_run_whose_job_was_handed_back_stores_nothing_and_says_why(
    database_url: str, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    job = take_job(database_url)
    assert job.id is not None
    source = PausedSource(lambda: hand_back_and_retake(database_url, engine))

    with caplog.at_level(logging.WARNING, logger="monitor.collect.run"):
        result = collect(engine, WATCH, source, claim=job_claim(job.id, job.attempts))

    assert stored(engine) == 0
    state = get_state(engine, "acme", "paged")
    assert state.cursor is None and state.mentions_collected == 0 and state.last_success_at is None
    assert result.error is not None and "handed to another worker" in result.error
    assert "stopped collecting paged for watch acme without storing" in caplog.text


@POSTGRES
def test_a_failing_run_whose_job_was_handed_back_does_not_count_a_failure(
    database_url: str, engine: Engine
) -> None:
    job = take_job(database_url)
    assert job.id is not None
    error = SourceUnavailable("paged", "timed out")
    source = PausedSource(lambda: hand_back_and_retake(database_url, engine), error=error)

    collect(engine, WATCH, source, claim=job_claim(job.id, job.attempts))

    state = get_state(engine, "acme", "paged")
    assert state.consecutive_failures == 0 and state.last_error is None and state.next_attempt_at is None


@POSTGRES
def test_a_run_that_still_holds_its_job_stores_as_before(database_url: str, engine: Engine) -> None:
    job = take_job(database_url)
    assert job.id is not None

    result = collect(engine, WATCH, PausedSource(lambda: None), claim=job_claim(job.id, job.attempts))

    assert result.ok and result.new == 3 and stored(engine) == 3
    assert get_state(engine, "acme", "paged").cursor is not None
