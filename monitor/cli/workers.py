"""`grumble run` and `grumble worker`: the long-running processes that do the scheduled work.

On SQLite, `grumble run` is one process doing everything (APScheduler calling `Jobs`). On PostgreSQL,
every `grumble run` stands for scheduler (one is elected; it queues) and, unless `--no-worker`, runs a
queue worker in a thread; `grumble worker` is a queue worker alone. Each can serve /metrics and
/healthz (`--metrics-port`).
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from monitor.cli.common import config_of
from monitor.config import Config
from monitor.errors import ConfigError
from monitor.store.engine import connect

if TYPE_CHECKING:  # the scheduler, the queue and the model load only for the command that runs them
    from monitor.jobs import Jobs
    from monitor.queue.worker import WorkerState

log = logging.getLogger("grumble")


def install_stop_handlers() -> threading.Event:
    """An event set by SIGINT or SIGTERM, so a long-running command stops between jobs."""
    stop = threading.Event()

    def handle(signum: int, _frame: Any) -> None:
        log.info("received %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    return stop


def cmd_run(args: argparse.Namespace) -> int:
    from monitor.cli.observed import observed
    from monitor.queue.app import uses_queue
    from monitor.scheduler import build_scheduler, run_until_stopped

    config = config_of(args)
    engine = connect(config.database_url)
    if not config.watches:
        raise ConfigError(f"{config.path or 'configuration'}: no [[watches]]; add one (see `grumble init`)")
    config.require_mail()
    if uses_queue(config.database_url):
        stop = install_stop_handlers()
        run_scaled_out(config, engine, stop, with_worker=not args.no_worker, metrics_port=args.metrics_port)
    elif args.no_worker:
        raise ConfigError(
            "--no-worker needs the queue, which is in PostgreSQL; on SQLite `grumble run` does all"
        )
    else:
        from monitor.jobs import Jobs
        from monitor.streams.host import streams_beside

        stop = install_stop_handlers()
        jobs = Jobs.for_config(config, engine)
        scheduler = build_scheduler(config, engine, jobs)
        with (
            observed(
                config,
                args.metrics_port,
                engine,
                role=lambda: "scheduler",
                checks=lambda: {"scheduler": None if scheduler.running else "not running"},
                queue_metrics=True,
            ),
            streams_beside(config, engine, jobs.source, jobs.score),  # live streams beside the polls
        ):
            run_until_stopped(scheduler, stop)
    print("scheduler stopped")
    return 0


def run_scaled_out(
    config: Config,
    engine: Engine,
    stop: threading.Event,
    *,
    with_worker: bool,
    metrics_port: int | None,
    jobs: Jobs | None = None,
) -> None:
    """On PostgreSQL: stand for scheduler and, unless told not to, work the queue too, so one
    `grumble run` alone still does everything; more `grumble worker`s add hands."""
    from monitor.cli.observed import observed
    from monitor.jobs import Jobs
    from monitor.queue.drift import config_hash
    from monitor.queue.election import Election
    from monitor.queue.leader import schedule_while_elected
    from monitor.queue.worker import WorkerState
    from monitor.store.leases import this_process

    election = Election(config.database_url, config_hash=config_hash(config))
    state = WorkerState()
    worker: threading.Thread | None = None
    if with_worker:
        worker = threading.Thread(
            target=_work_until_stopped,
            args=(config, jobs or Jobs.for_config(config, engine), stop, this_process(), state),
            name="queue worker",
        )
        worker.start()
    try:
        with observed(
            config,
            metrics_port,
            engine,
            role=lambda: "scheduler" if election.leading else "standby scheduler",
            checks=lambda: {"worker": state.problem()} if with_worker else {},
            queue_metrics=True,
        ):
            schedule_while_elected(config, engine, stop, election)
    finally:
        stop.set()
        if worker is not None:
            worker.join()


def _work_until_stopped(
    config: Config, jobs: Jobs, stop: threading.Event, name: str, state: WorkerState
) -> None:
    from monitor.queue.worker import run_worker

    try:
        run_worker(config, jobs, stop, name, state)
    except Exception:
        # Without its worker this process would only queue: stop it whole, loudly, so a supervisor
        # restarts it instead of leaving jobs to pile up.
        log.exception("the queue worker failed; stopping")
        stop.set()


def cmd_worker(args: argparse.Namespace) -> int:
    from monitor.cli.observed import observed
    from monitor.jobs import Jobs
    from monitor.queue.app import require_queue
    from monitor.queue.worker import WorkerState, run_worker
    from monitor.store.leases import this_process

    config = config_of(args)
    require_queue(config.database_url, "worker")
    if args.concurrency is not None:
        config = replace(config, queue=replace(config.queue, concurrency=args.concurrency))
    engine = connect(config.database_url)
    config.require_mail()
    stop = install_stop_handlers()
    state = WorkerState()
    with observed(
        config,
        args.metrics_port,
        engine,
        role=lambda: "worker",
        checks=lambda: {"worker": state.problem()},
        queue_metrics=False,
    ):
        run_worker(config, Jobs.for_config(config, engine), stop, this_process(), state)
    print("worker stopped")
    return 0
