"""APScheduler wiring: one job per (watch, source), one scoring job, no overlaps, misfires coalesced.

New mentions are scored right after the collection that brought them, so a complaint reaches the inbox
seconds after its poll; the periodic scoring job only catches up on what was left (a model that failed
to load, a re-score). A job that raises is logged by one listener (`log_job_error`), with the job that
failed, and never stops the others.
Each digest list has a job at its own time in its own time zone; unsent digests are retried every few
minutes, and alerts are checked as often as `[alerts] check_every_minutes` says.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from monitor.collect.run import collect
from monitor.config import Config, DigestList
from monitor.mention import Watch, utcnow
from monitor.respond.cases import apply_rules
from monitor.respond.posting import settle_unconfirmed
from monitor.respond.workflow import Repliers
from monitor.score.run import Model, load_model, score_pending
from monitor.sources.base import Source
from monitor.sources.registry import build_source
from monitor.store.rate_limits import shared_rate_limits
from monitor.surface.alert_delivery import AlertDelivery
from monitor.surface.digest_delivery import DigestDelivery, find_list
from monitor.surface.mail import mailer_for
from monitor.surface.webhook import http_client

log = logging.getLogger(__name__)

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}


class ModelHolder:
    """Loads the model on first use, once, whichever job asks first."""

    def __init__(self, loader: Callable[[], Model]) -> None:
        self._loader = loader
        self._model: Model | None = None
        self._lock = threading.Lock()

    def get(self) -> Model:
        with self._lock:
            if self._model is None:
                self._model = self._loader()
            return self._model


class Jobs:
    """What the scheduler runs; plain methods so tests can call them without a scheduler. A job that
    fails raises: the scheduler's error listener (`log_job_error`) logs it, and the others go on."""

    def __init__(self, config: Config, engine: Engine, model: ModelHolder) -> None:
        self.config = config
        self.engine = engine
        self.model = model
        self._sources: dict[str, Source] = {}
        self._digests: DigestDelivery | None = None
        self._alerts: AlertDelivery | None = None
        # The same rule as the dashboard's: a source that cannot be built or cannot reply is None.
        self.replier = Repliers(self.source)

    def source(self, name: str) -> Source:
        if name not in self._sources:
            self._sources[name] = build_source(
                self.config.source_settings(name), shared_rate_limits(self.engine)
            )
        return self._sources[name]

    def settle_replies(self) -> int:
        """Replies whose posting was not confirmed: recorded as posted when the source shows them.
        Returns how many were."""
        settled = settle_unconfirmed(self.engine, self.replier)
        if settled:
            log.info("%d unconfirmed reply(ies) found on their source and recorded as posted", len(settled))
        return len(settled)

    def collect(self, watch: Watch, source_name: str) -> None:
        # collect() records a failing source in its health and never raises for it.
        result = collect(self.engine, watch, self.source(source_name))
        if result.new:
            self.score()

    def score(self) -> None:
        try:
            score_pending(self.engine, self.model.get(), batch_size=self.config.model.batch_size)
        finally:
            # [[responder.rules]] open and assign cases for newly scored mentions (rules may ask for a
            # label); run even when scoring failed, for the mentions scored before it did.
            opened = apply_rules(self.engine, self.config.responder)
            if opened:
                log.info("opened %d case(s) by the responder rules", opened)

    # Built on first use: a scheduler without digests or alerts needs no mailer or HTTP client.

    def digests(self) -> DigestDelivery:
        if self._digests is None:
            self._digests = DigestDelivery(self.config, self.engine, mailer_for(self.config.smtp))
        return self._digests

    def alerts(self) -> AlertDelivery:
        if self._alerts is None:
            self._alerts = AlertDelivery(
                self.config, self.engine, mailer=mailer_for(self.config.smtp), http=http_client()
            )
        return self._alerts

    def digest(self, list_name: str) -> None:
        for outcome in self.digests().run_digest(find_list(self.config, list_name)):
            level = logging.WARNING if outcome.status in ("failed", "deferred") else logging.INFO
            log.log(level, "%s", outcome.describe())

    def retry_digests(self) -> None:
        for outcome in self.digests().retry_unsent():
            if outcome.status in ("sent", "failed"):
                log.log(
                    logging.INFO if outcome.status == "sent" else logging.WARNING, "%s", outcome.describe()
                )

    def check_alerts(self) -> None:
        report = self.alerts().check_alerts()
        for event in report.new:
            log.info("alert: %s", event.summary)
        for message_id, error in report.failed:
            log.warning("alert %s not delivered, will retry: %s", message_id, error)


def log_job_error(event: JobExecutionEvent) -> None:
    """Any job's failure, in one line naming the job: its id says which step, source or list
    (`collect:acme:reddit`, `digest:ops`). APScheduler logs the traceback itself, just before."""
    log.error("job %s failed: %s: %s", event.job_id, type(event.exception).__name__, event.exception)


# Unsent digests (a mail server that was down, a crash mid-send) are looked at this often.
DIGEST_RETRY_MINUTES = 5.0
# Unconfirmed replies are looked for on their source this often.
SETTLE_REPLIES_MINUTES = 5.0


def digest_trigger(digest_list: DigestList) -> CronTrigger:
    """The list's time in its own zone: a digest at 08:00 in Berlin stays at 08:00 when clocks change."""
    at, zone = digest_list.at, ZoneInfo(digest_list.timezone)
    if digest_list.every == "hourly":
        return CronTrigger(minute=at.minute, timezone=zone)
    if digest_list.every == "weekly":
        return CronTrigger(day_of_week=digest_list.weekday[:3], hour=at.hour, minute=at.minute, timezone=zone)
    return CronTrigger(hour=at.hour, minute=at.minute, timezone=zone)


def build_scheduler(config: Config, engine: Engine, jobs: Jobs | None = None) -> BackgroundScheduler:
    jobs = jobs or Jobs(config, engine, ModelHolder(lambda: load_model(config.model.name)))
    scheduler = BackgroundScheduler(job_defaults=JOB_DEFAULTS, timezone="UTC")
    scheduler.add_listener(log_job_error, EVENT_JOB_ERROR)
    start: datetime = utcnow()
    for watch, source_name in config.jobs():
        scheduler.add_job(
            jobs.collect,
            IntervalTrigger(minutes=config.schedule.collect_every_minutes),
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
