"""`grumble worker`: take jobs from the queue and run them until stopped.

procrastinate's worker does the rest: it heartbeats every `[queue] heartbeat_seconds`, takes a job only
when its lock is free, deletes a job when it succeeds (failed ones stay for `grumble status`), and on a
stop finishes the jobs it is running before it exits. A worker that dies without stopping (kill -9,
a lost machine) leaves its jobs marked running; once its heartbeat is older than
`[queue] stalled_after_seconds`, the scheduler's `recover_stalled` job hands them to another worker.

A database outage does not end the process. procrastinate stops its worker when a heartbeat, the
job listener or a fetch fails (or its row was pruned meanwhile by a worker back sooner); this module
then starts a new one after a backoff (monitor/backoff.py), under a new worker row with the same
name, and drops the old row so the jobs it could not mark done go back to the queue at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

import procrastinate
import psycopg
from procrastinate.exceptions import ConnectorException
from procrastinate.worker import Worker

from monitor.backoff import Backoff
from monitor.config import Config
from monitor.jobs import Jobs
from monitor.queue import tasks
from monitor.queue.app import queue_app
from monitor.queue.drift import config_hash
from monitor.queue.enqueue import Enqueuer
from monitor.store.queue import FORGET_WORKERS, NAME_WORKER, SCHEDULER_FINGERPRINT, WORKER_STOPPED
from monitor.streams.host import streams_in_one_worker

log = logging.getLogger(__name__)

STOP_POLL_S = 0.2
# How soon a worker that lost the database connects again: 1 s, 2 s, 4 s ... at most 30 s apart, so
# a restarted database has every worker back within about half a minute, and a long outage is not
# hammered by every worker at once.
RECONNECT = Backoff(base=timedelta(seconds=1), cap=timedelta(seconds=30))
# What a lost or refused database connection raises, through procrastinate or straight from psycopg.
DATABASE_ERRORS = (ConnectorException, psycopg.Error, OSError)


@dataclass
class WorkerState:
    """What /healthz says of this process's worker: taking jobs (with its queue number) or not."""

    worker_id: int | None = None
    taking_jobs: bool = False

    def problem(self) -> str | None:
        return None if self.taking_jobs else "the queue worker is not taking jobs (starting or stopped)"


def run_worker(
    config: Config, jobs: Jobs, stop: threading.Event, name: str, state: WorkerState | None = None
) -> None:
    """Run jobs until `stop` is set, then finish the running ones and return. Blocks; call it from the
    main thread (`grumble worker`) or a thread of its own (the worker inside `grumble run`)."""
    state = state or WorkerState()
    # Loaded before taking any job: a model that cannot load stops the worker at start, with its
    # reason, instead of failing every scoring job it would take; and the first job is not slow.
    jobs.model.get()
    app = queue_app(config.database_url)
    # Collection releases its (watch, source) lock as soon as it has stored; scoring what it brought
    # goes to whichever worker is free.
    jobs.after_collect = Enqueuer(app, config.queue).score
    tasks.bind(jobs)
    try:
        # Exactly one worker runs the live streams at a time (monitor/streams/host.py).
        with streams_in_one_worker(config, jobs.engine, jobs.source, jobs.after_collect, stop):
            asyncio.run(_work(app, config, stop, name, state))
    finally:
        state.taking_jobs = False


async def _work(
    app: procrastinate.App, config: Config, stop: threading.Event, name: str, state: WorkerState
) -> None:
    """Run procrastinate workers one after another until `stop`: one that loses the database (its
    heartbeat, listener or job fetch fails; procrastinate then stops it) is followed, after a backoff,
    by a new one under a new worker row, rather than ending the process."""
    async with app.open_async():
        failures = 0
        abandoned: int | None = None
        while not stop.is_set():
            outcome = _Outcome()
            try:
                await _run_one(app, config, stop, name, state, outcome, abandoned)
            except DATABASE_ERRORS as exc:
                reason = describe_database_error(exc)
            else:
                reason = "its heartbeat or job listener lost the database (see above)"
            finally:
                state.taking_jobs = False
            if outcome.worker_id is not None:
                abandoned, failures = outcome.worker_id, 0
            if stop.is_set():
                break
            failures += 1
            wait = RECONNECT.delay(failures).total_seconds()
            log.warning(
                "worker %s stopped taking jobs: %s; connecting again in %.1f s (attempt %d)",
                name,
                reason,
                wait,
                failures,
            )
            await asyncio.to_thread(stop.wait, wait)
        with contextlib.suppress(*DATABASE_ERRORS):  # then status shows it missing: true enough
            await app.connector.execute_query_async(WORKER_STOPPED, name=name)


@dataclass
class _Outcome:
    worker_id: int | None = None  # the queue's number for the worker that ran, once it had one


async def _run_one(
    app: procrastinate.App,
    config: Config,
    stop: threading.Event,
    name: str,
    state: WorkerState,
    outcome: _Outcome,
    abandoned: int | None,
) -> None:
    """One procrastinate worker, from registering its row until it stops (asked to, or on its own
    when the database goes away)."""
    settings = config.queue
    worker = Worker(
        app=app,
        name=name,
        concurrency=settings.concurrency,
        install_signal_handlers=False,  # this process's own handlers set `stop`
        update_heartbeat_interval=settings.heartbeat_seconds,
        stalled_worker_timeout=settings.stalled_after_seconds,
        delete_jobs="successful",
    )
    running = asyncio.create_task(worker.run(), name=f"worker {name}")  # type: ignore[no-untyped-call]
    try:
        while not running.done():
            if outcome.worker_id is None and worker.worker_id is not None:
                outcome.worker_id = worker.worker_id
                fingerprint = config_hash(config)
                await _register(app, worker.worker_id, name, fingerprint, abandoned)
                log.info(
                    "worker %s (queue worker %d, config %s) taking jobs", name, worker.worker_id, fingerprint
                )
                state.worker_id, state.taking_jobs = worker.worker_id, True
            if stop.is_set():
                log.info("worker %s stopping: finishing its running jobs", name)
                state.taking_jobs = False
                worker.stop()  # type: ignore[no-untyped-call]
                break
            await asyncio.wait({running}, timeout=STOP_POLL_S)
    finally:
        if not running.done():
            worker.stop()  # type: ignore[no-untyped-call]
        # procrastinate finishes the running jobs before run() ends, whatever ended it.
        await running


async def _register(
    app: procrastinate.App, worker_id: int, name: str, fingerprint: str, abandoned: int | None
) -> None:
    """Name the new worker row; and drop the row of this process's previous worker, if it lost the
    database: its jobs ended with it, and any left marked running (their end could not be written)
    are then taken for stalled at once and handed back by the next recovery."""
    execute = app.connector.execute_query_async
    await execute(NAME_WORKER, worker_id=worker_id, name=name, config_hash=fingerprint)
    if abandoned is not None:
        await app.job_manager.unregister_worker(abandoned)
        log.info("worker %s is back (queue worker %d, was %d)", name, worker_id, abandoned)
    await execute(FORGET_WORKERS, worker_id=worker_id, name=name)
    scheduler = await app.connector.execute_query_all_async(SCHEDULER_FINGERPRINT)
    theirs = str(scheduler[0]["config_hash"]) if scheduler else None
    if theirs is not None and theirs != fingerprint:
        log.warning(
            "worker %s runs config %s and the scheduler %s: it will skip jobs for watches or lists "
            "its grumble.toml lacks; restart it with the scheduler's config",
            name,
            fingerprint,
            theirs,
        )


def describe_database_error(exc: BaseException) -> str:
    """procrastinate wraps psycopg's errors in a ConnectorException with no message of its own."""
    cause = exc.__cause__ if isinstance(exc, ConnectorException) and exc.__cause__ else exc
    # The first line: psycopg goes on with the whole statement, which would bury the reason in a log.
    said = str(cause).strip().splitlines()
    return f"lost the database ({type(cause).__name__}: {said[0] if said else 'no detail'})"
