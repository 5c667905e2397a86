"""APScheduler wiring: one job per (watch, source), one scoring job, no overlaps, misfires coalesced.

The scheduler is the trigger only: what a job does is `monitor.jobs.Jobs` (run here, in this process, on
SQLite) or `monitor.queue.enqueue.Enqueuer` (which puts it on the PostgreSQL queue for `grumble worker`s);
both have the same methods (`ScheduledWork`). The periodic scoring job only catches up on what was left
after collection scored its own (a model that failed to load, a re-score). A job that raises is logged
by one listener (`log_job_error`), with the job that failed, and never stops the others.
Each digest list has a job at its own time in its own time zone; unsent digests are retried every few
minutes, and alerts are checked as often as `[alerts] check_every_minutes` says.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from monitor.config import Config, DigestList
from monitor.jobs import Jobs
from monitor.mention import Watch, utcnow

log = logging.getLogger(__name__)


class ScheduledWork(Protocol):
    """What the scheduler triggers: done in this process (`Jobs`) or queued for workers (`Enqueuer`)."""

    def collect(self, watch: Watch, source_name: str) -> None: ...
    def score(self) -> object: ...
    def digest(self, list_name: str) -> None: ...
    def retry_digests(self) -> None: ...
    def settle_replies(self) -> object: ...
    def check_alerts(self) -> None: ...
    def deliver_webhooks(self) -> None: ...
    def send_to_helpdesks(self) -> None: ...
    def notify_team(self) -> None: ...
    def learn(self) -> None: ...
    def refit_topics(self) -> None: ...


JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}


def log_job_error(event: JobExecutionEvent) -> None:
    """Any job's failure, in one line naming the job: its id says which step, source or list
    (`collect:acme:reddit`, `digest:ops`). APScheduler logs the traceback itself, just before."""
    log.error("job %s failed: %s: %s", event.job_id, type(event.exception).__name__, event.exception)


# Unsent digests (a mail server that was down, a crash mid-send) are looked at this often.
DIGEST_RETRY_MINUTES = 5.0
# Unconfirmed replies are looked for on their source this often.
SETTLE_REPLIES_MINUTES = 5.0
# People are told what waits for them (assigned, approval asked, ...) within about this long.
NOTIFY_TEAM_MINUTES = 1.0


def digest_trigger(digest_list: DigestList) -> CronTrigger:
    """The list's time in its own zone: a digest at 08:00 in Berlin stays at 08:00 when clocks change."""
    at, zone = digest_list.at, ZoneInfo(digest_list.timezone)
    if digest_list.every == "hourly":
        return CronTrigger(minute=at.minute, timezone=zone)
    if digest_list.every == "weekly":
        return CronTrigger(day_of_week=digest_list.weekday[:3], hour=at.hour, minute=at.minute, timezone=zone)
    return CronTrigger(hour=at.hour, minute=at.minute, timezone=zone)


def build_scheduler(config: Config, engine: Engine, jobs: ScheduledWork | None = None) -> BackgroundScheduler:
    jobs = jobs or Jobs.for_config(config, engine)
    scheduler = BackgroundScheduler(job_defaults=JOB_DEFAULTS, timezone="UTC")
    scheduler.add_listener(log_job_error, EVENT_JOB_ERROR)
    start: datetime = utcnow()
    for watch, source_name in config.jobs():
        scheduler.add_job(
            jobs.collect,
            IntervalTrigger(minutes=config.collect_every_minutes(source_name)),
            args=(watch, source_name),
            id=f"collect:{watch.name}:{source_name}",
            name=f"collect {source_name} for {watch.name}",
            next_run_time=start,
        )
    scheduler.add_job(
        jobs.score,
        IntervalTrigger(minutes=config.schedule.score_every_minutes),
        id="score",
        name="score pending mentions",
        next_run_time=start,
    )
    for digest_list in config.digests:
        scheduler.add_job(
            jobs.digest,
            digest_trigger(digest_list),
            args=(digest_list.name,),
            id=f"digest:{digest_list.name}",
            name=f"{digest_list.every} digest {digest_list.name}",
        )
    if config.digests:
        scheduler.add_job(
            jobs.retry_digests,
            IntervalTrigger(minutes=DIGEST_RETRY_MINUTES),
            id="digest-retry",
            name="send digests still unsent",
            next_run_time=start,
        )
    scheduler.add_job(
        jobs.settle_replies,
        IntervalTrigger(minutes=SETTLE_REPLIES_MINUTES),
        id="settle-replies",
        name="look for unconfirmed replies on their source",
        next_run_time=start,
    )
    if config.users:  # with no users (local use) there is nobody to tell
        scheduler.add_job(
            jobs.notify_team,
            IntervalTrigger(minutes=NOTIFY_TEAM_MINUTES),
            id="notify-team",
            name="tell people what waits for them",
            next_run_time=start,
        )
    if config.learn.every_hours > 0:
        scheduler.add_job(
            jobs.learn,
            IntervalTrigger(hours=config.learn.every_hours),
            id="learn",
            name="learn from the team's corrections",
        )
    if config.topics.enabled and config.topics.refit_every_hours > 0:
        scheduler.add_job(
            jobs.refit_topics,
            IntervalTrigger(hours=config.topics.refit_every_hours),
            id="topics-refit",
            name="fit the complaint topics again (ids, names and people's edits kept)",
        )
    if config.helpdesk.accounts:
        scheduler.add_job(
            jobs.send_to_helpdesks,
            IntervalTrigger(minutes=config.helpdesk.every_minutes),
            id="helpdesk",
            name="hand mentions to the helpdesk by rule; retry hand-offs",
            next_run_time=start,
        )
    if config.webhooks.enabled:
        scheduler.add_job(
            jobs.deliver_webhooks,
            IntervalTrigger(minutes=config.webhooks.every_minutes),
            id="webhooks",
            name="send signed webhooks",
            next_run_time=start,
        )
    if config.alerts.enabled:
        scheduler.add_job(
            jobs.check_alerts,
            IntervalTrigger(minutes=config.alerts.check_every_minutes),
            id="alerts",
            name="check for alerts",
            next_run_time=start,
        )
    return scheduler


def run_until_stopped(scheduler: BackgroundScheduler, stop: threading.Event) -> None:
    """Run until `stop` is set (by SIGINT/SIGTERM), then let running jobs finish."""
    scheduler.start()
    log.info("scheduler running %d jobs", len(scheduler.get_jobs()))
    stop.wait()
    log.info("stopping: waiting for running jobs to finish")
    scheduler.shutdown(wait=True)
