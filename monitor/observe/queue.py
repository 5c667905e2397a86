"""What is waiting, asked of the database when Prometheus scrapes: the job queue and the scoring backlog.

A gauge kept in memory would only know this process's share; the database knows everyone's. One
process that serves metrics is enough to export these (the scheduler's): every process would report
the same numbers. Where the database has no queue (SQLite), the queue's metrics are absent, not zero,
and a database that cannot be reached leaves them out of the scrape (logged once), rather than failing
the scrape and hiding every other metric with them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor.config import QueueSettings
from monitor.store.engine import redact_url
from monitor.store.mentions import count_unscored
from monitor.store.queue import QueueStats, queue_stats

log = logging.getLogger(__name__)


class QueueCollector:
    """A prometheus_client custom collector; register it with `start_observer(collectors=[...])`."""

    def __init__(
        self, engine: Engine, stalled_after_seconds: float = QueueSettings.stalled_after_seconds
    ) -> None:
        self.engine = engine
        self.stalled_after_seconds = stalled_after_seconds
        self._failing = False

    def describe(self) -> Iterable[Metric]:
        # Names only, without touching the database: a registry asks this when the collector is added.
        return [*_queue_families(), _unscored_family()]

    def collect(self) -> Iterator[Metric]:
        try:
            unscored = count_unscored(self.engine)
            stats = queue_stats(self.engine, self.stalled_after_seconds)
        except SQLAlchemyError as exc:
            if not self._failing:
                log.warning("metrics: cannot read the queue and backlog: %s", redact_url(str(exc)))
            self._failing = True
            return
        if self._failing:
            log.info("metrics: the database answers again")
        self._failing = False
        backlog = _unscored_family()
        backlog.add_metric([], unscored)
        yield backlog
        if stats is not None:
            yield from _queue_families(stats)


def _unscored_family() -> GaugeMetricFamily:
    return GaugeMetricFamily("grumble_mentions_unscored", "Mentions waiting for their first score")


def _queue_families(stats: QueueStats | None = None) -> list[GaugeMetricFamily]:
    jobs = GaugeMetricFamily(
        "grumble_queue_jobs",
        "Jobs in procrastinate's queue: todo (waiting) or doing (running)",
        labels=["status"],
    )
    stalled = GaugeMetricFamily(
        "grumble_queue_stalled_jobs",
        "Jobs in status doing whose worker has stopped sending heartbeats (counted in doing too)",
    )
    workers = GaugeMetricFamily(
        "grumble_workers",
        "Queue workers by heartbeat: live, stalled (silent too long), or missing (taken for dead, not back)",
        labels=["state"],
    )
    drifted = GaugeMetricFamily(
        "grumble_workers_config_drift",
        "Registered queue workers whose config fingerprint differs from the elected scheduler's"
        " (they skip jobs for watches or lists they do not know: restart them)",
    )
    if stats is not None:
        for status, count in sorted(stats.jobs_by_status.items()):
            jobs.add_metric([status], count)
        stalled.add_metric([], stats.stalled_jobs)
        workers.add_metric(["live"], stats.live_workers)
        workers.add_metric(["stalled"], stats.stalled_workers)
        workers.add_metric(["missing"], stats.missing_workers)
        drifted.add_metric([], stats.drifted_workers)
    return [jobs, stalled, workers, drifted]
