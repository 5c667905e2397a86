"""`grumble run` on PostgreSQL: stand for election, and while elected, schedule by queueing.

Every `grumble run` tries for the scheduler's lock every few seconds; the one holding it runs the
APScheduler (the same jobs and times as on SQLite) with an `Enqueuer`, plus two jobs of the queue's
own: handing a dead worker's jobs to another, and clearing old failed jobs. It checks its lock's
session as often as workers heartbeat, and stops scheduling the moment it loses it.
"""

from __future__ import annotations

import logging
import threading

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from procrastinate.exceptions import ConnectorException
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor.config import Config
from monitor.mention import utcnow
from monitor.queue.app import queue_app
from monitor.queue.catch_up import missed_digests, next_collects
from monitor.queue.election import Election
from monitor.queue.enqueue import Enqueuer
from monitor.scheduler import build_scheduler

log = logging.getLogger(__name__)

ELECTION_RETRY_S = 5.0
REMOVE_OLD_JOBS_HOURS = 24.0


def add_queue_jobs(scheduler: BackgroundScheduler, enqueuer: Enqueuer) -> None:
    # Checked three times per stalled period, so a dead worker's job waits at most a third longer.
    scheduler.add_job(
        enqueuer.recover_stalled,
        IntervalTrigger(seconds=enqueuer.settings.stalled_after_seconds / 3),
        id="recover-stalled",
        name="hand jobs of dead workers to live ones",
    )
    scheduler.add_job(
        enqueuer.remove_old_jobs,
        IntervalTrigger(hours=REMOVE_OLD_JOBS_HOURS),
        id="remove-old-jobs",
        name="remove failed jobs older than a week",
    )


def catch_up(config: Config, engine: Engine, scheduler: BackgroundScheduler, enqueuer: Enqueuer) -> None:
    """Before the timers start: queue the digests missed while no scheduler ran, and hold back the
    collections the last scheduler already queued for this slot (monitor/queue/catch_up.py)."""
    now = utcnow()
    for list_name in missed_digests(engine, config, now):
        log.warning("digest %s was due while no scheduler ran: queued now", list_name)
        enqueuer.digest(list_name)
    held = next_collects(engine, config, now)
    for (watch, source), due in held.items():
        # The scheduler is not started yet: this changes the pending job's first run.
        scheduler.modify_job(f"collect:{watch}:{source}", next_run_time=due)
    if held:
        log.info(
            "%d collection(s) already polled in this slot: next polled when their interval is over", len(held)
        )


def schedule_while_elected(
    config: Config, engine: Engine, stop: threading.Event, election: Election | None = None
) -> None:
    """Until `stop` is set: stand by, or schedule while holding the lock. Returns after the running
    scheduler (if any) has stopped and the lock is given up."""
    election = election or Election(config.database_url)
    with queue_app(config.database_url).open() as app:
        enqueuer = Enqueuer(app, config.queue)
        standing_by = False
        try:
            while not stop.is_set():
                if not election.try_lead():
                    if not standing_by:
                        log.info("another grumble run is the scheduler; standing by to take over")
                        standing_by = True
                    stop.wait(ELECTION_RETRY_S)
                    continue
                standing_by = False
                scheduler = build_scheduler(config, engine, enqueuer)
                add_queue_jobs(scheduler, enqueuer)
                try:
                    catch_up(config, engine, scheduler, enqueuer)
                except (SQLAlchemyError, ConnectorException) as exc:
                    # The timers still run: only what was missed waits.
                    log.error("could not read what the last scheduler left (%s); scheduling from now", exc)
                scheduler.start()
                log.info(
                    "elected scheduler (%s): queueing %d jobs", election.holder, len(scheduler.get_jobs())
                )
                while not stop.wait(config.queue.heartbeat_seconds) and election.still_leading():
                    pass
                scheduler.shutdown(wait=True)
                if not stop.is_set():
                    log.error("stopped scheduling: lost the scheduler lock; trying to be elected again")
        finally:
            election.resign()
