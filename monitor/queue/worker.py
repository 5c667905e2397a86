"""`grumble worker`: take jobs from the queue and run them until stopped.

procrastinate's worker does the rest: it heartbeats every `[queue] heartbeat_seconds`, takes a job only
when its lock is free, deletes a job when it succeeds (failed ones stay for `grumble status`), and on a
stop finishes the jobs it is running before it exits. A worker that dies without stopping (kill -9,
a lost machine) leaves its jobs marked running; once its heartbeat is older than
`[queue] stalled_after_seconds`, the scheduler's `recover_stalled` job hands them to another worker.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass

import procrastinate
from procrastinate.worker import Worker

from monitor.config import Config
from monitor.jobs import Jobs
from monitor.queue import tasks
from monitor.queue.app import queue_app
from monitor.queue.enqueue import Enqueuer
from monitor.store.queue import NAME_WORKER
from monitor.streams.host import streams_in_one_worker

log = logging.getLogger(__name__)

STOP_POLL_S = 0.2


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
    settings = config.queue
    async with app.open_async():
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
        named = False
        while not running.done():
            if not named and worker.worker_id is not None:
                await app.connector.execute_query_async(NAME_WORKER, worker_id=worker.worker_id, name=name)
                log.info("worker %s (queue worker %d) taking jobs", name, worker.worker_id)
                named = True
                state.worker_id, state.taking_jobs = worker.worker_id, True
            if stop.is_set():
                log.info("worker %s stopping: finishing its running jobs", name)
                state.taking_jobs = False
                worker.stop()  # type: ignore[no-untyped-call]
                break
            await asyncio.wait({running}, timeout=STOP_POLL_S)
        await running
