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

import procrastinate
from procrastinate.worker import Worker

from monitor.config import Config
from monitor.jobs import Jobs
from monitor.queue import tasks
from monitor.queue.app import queue_app
from monitor.queue.enqueue import Enqueuer
from monitor.store.queue import NAME_WORKER

log = logging.getLogger(__name__)

STOP_POLL_S = 0.2


def run_worker(config: Config, jobs: Jobs, stop: threading.Event, name: str) -> None:
    """Run jobs until `stop` is set, then finish the running ones and return. Blocks; call it from the
    main thread (`grumble worker`) or a thread of its own (the worker inside `grumble run`)."""
    app = queue_app(config.database_url)
    # Collection releases its (watch, source) lock as soon as it has stored; scoring what it brought
    # goes to whichever worker is free.
    jobs.after_collect = Enqueuer(app, config.queue).score
    tasks.bind(jobs)
    asyncio.run(_work(app, config, stop, name))


async def _work(app: procrastinate.App, config: Config, stop: threading.Event, name: str) -> None:
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
            if stop.is_set():
                log.info("worker %s stopping: finishing its running jobs", name)
                worker.stop()  # type: ignore[no-untyped-call]
                break
            await asyncio.wait({running}, timeout=STOP_POLL_S)
        await running
