"""APScheduler wiring: one job per (watch, source), one scoring job, no overlaps, misfires coalesced.

New mentions are scored right after the collection that brought them, so a complaint reaches the inbox
seconds after its poll; the periodic scoring job only catches up on what was left (a model that failed
to load, a re-score). A job that raises is logged with its source and never stops the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from monitor.collect import collect
from monitor.config import Config
from monitor.mention import Watch, utcnow
from monitor.scoring import Model, load_model, score_pending
from monitor.sources.base import Source
from monitor.sources.registry import build_source

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
    """What the scheduler runs; plain methods so tests can call them without a scheduler."""

    def __init__(self, config: Config, engine: Engine, model: ModelHolder) -> None:
        self.config = config
        self.engine = engine
        self.model = model
        self._sources: dict[str, Source] = {}

    def source(self, name: str) -> Source:
        if name not in self._sources:
            self._sources[name] = build_source(self.config.source_settings(name))
        return self._sources[name]

    def collect(self, watch: Watch, source_name: str) -> None:
        try:
            result = collect(self.engine, watch, self.source(source_name))
            if result.new:
                self.score()
        except Exception:
            log.exception("collection job %s/%s failed", watch.name, source_name)

    def score(self) -> None:
        try:
            score_pending(self.engine, self.model.get(), batch_size=self.config.model.batch_size)
        except Exception:
            log.exception("scoring job failed")


def build_scheduler(config: Config, engine: Engine, jobs: Jobs | None = None) -> BackgroundScheduler:
    jobs = jobs or Jobs(config, engine, ModelHolder(lambda: load_model(config.model.name)))
    scheduler = BackgroundScheduler(job_defaults=JOB_DEFAULTS, timezone="UTC")
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
    return scheduler


def run_until_stopped(scheduler: BackgroundScheduler, stop: threading.Event) -> None:
    """Run until `stop` is set (by SIGINT/SIGTERM), then let running jobs finish."""
    scheduler.start()
    log.info("scheduler running %d jobs", len(scheduler.get_jobs()))
    stop.wait()
    log.info("stopping: waiting for running jobs to finish")
    scheduler.shutdown(wait=True)
