"""Every metric Grumble exports, in one place, and the small calls the rest of the code makes to move them.

All live in prometheus_client's default registry (beside its process and Python collectors), so a
stage only imports a helper from here and never builds a metric of its own. Labels hold bounded values
only: a job's kind (never a watch or list name: `job_kind`), a source's name (one per configured
source) and an outcome. What the database knows at scrape time (queue depth, the scoring backlog) is
not here but in `monitor.observe.queue`, computed when Prometheus asks.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from prometheus_client import Counter, Gauge, Histogram, Info

from monitor.store.mentions import PendingText

# Collections take seconds, a scoring catch-up or a digest minutes; a job past half an hour is stuck.
JOB_SECONDS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
# One model call on a batch of mentions: tens of milliseconds on a GPU to tens of seconds on a slow CPU.
BATCH_SECONDS_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
# From a mention's arrival to its score: seconds when scoring follows its collection, minutes when the
# periodic job catches up, hours when the model was down. A day and more is one bucket: +Inf.
SCORE_DELAY_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400)

BUILD = Info("grumble", "Grumble's version and the role of this process (scheduler, worker, ...)")

JOBS = Counter("grumble_jobs", "Jobs run, by kind and outcome (succeeded or failed)", ["kind", "outcome"])
JOB_SECONDS = Histogram(
    "grumble_job_duration_seconds", "How long jobs ran, by kind", ["kind"], buckets=JOB_SECONDS_BUCKETS
)
JOB_LAST_SUCCESS = Gauge(
    "grumble_job_last_success_timestamp_seconds",
    "When a job of this kind last succeeded (Unix time): alert on `time() - this` for a stalled kind",
    ["kind"],
)

MENTIONS_COLLECTED = Counter(
    "grumble_mentions_collected", "New mentions stored by collection, by source", ["source"]
)
SOURCE_FAILURES = Counter(
    "grumble_source_failures", "Collection runs that ended in a source failure, by source", ["source"]
)

MENTIONS_SCORED = Counter("grumble_mentions_scored", "Mentions scored (or rescored), by source", ["source"])
SCORE_BATCH_SECONDS = Histogram(
    "grumble_score_batch_seconds",
    "Model inference time for one batch of mentions",
    buckets=BATCH_SECONDS_BUCKETS,
)
SCORE_DELAY_SECONDS = Histogram(
    "grumble_score_delay_seconds",
    "From a mention's arrival (collected_at) to its first score: how long a complaint waits unranked",
    buckets=SCORE_DELAY_BUCKETS,
)

# The scheduler's job ids name watches, sources and digest lists (`collect:acme:reddit`, `digest:ops`);
# a label takes only the part before the first colon, and only when it is one of these.
JOB_KINDS: tuple[str, ...] = ("collect", "score", "digest", "digest-retry", "alerts", "settle-replies")
JOB_KINDS += ("notify-team", "learn")
JOB_KINDS += ("topics-refit",)
OTHER_KIND = "other"


def job_kind(job_id: str) -> str:
    """The bounded kind of a job id: `collect:acme:reddit` -> "collect"; anything unknown -> "other"."""
    kind = job_id.split(":", 1)[0]
    return kind if kind in JOB_KINDS else OTHER_KIND


def set_role(role: str, version: str) -> None:
    """Say once at start what this process is (`grumble_info{role=..., version=...} 1`)."""
    BUILD.info({"role": role, "version": version})


@contextmanager
def record_job(kind: str) -> Iterator[None]:
    """Time the block as one job of `kind` (a job id is mapped by `job_kind`) and count it succeeded,
    or failed when it raises; the exception goes on to the caller unchanged."""
    kind = job_kind(kind)
    started = time.perf_counter()
    try:
        yield
    except BaseException:
        JOBS.labels(kind, "failed").inc()
        raise
    else:
        JOBS.labels(kind, "succeeded").inc()
        JOB_LAST_SUCCESS.labels(kind).set_to_current_time()
    finally:
        JOB_SECONDS.labels(kind).observe(time.perf_counter() - started)


OTHER_SOURCE = "other"


def source_label(source: str) -> str:
    """A source's name as a label value: one of the registered kinds, else "other". A mention's source
    can be anything a file said (`grumble import`), and every distinct label value is a time series
    each scrape carries (3,001 imported values made a 1.6 MB scrape)."""
    from monitor.sources.registry import BUILDERS  # the registry imports every source module

    return source if source in BUILDERS else OTHER_SOURCE


def count_collected(source: str, new: int) -> None:
    MENTIONS_COLLECTED.labels(source_label(source)).inc(new)


def count_source_failure(source: str) -> None:
    SOURCE_FAILURES.labels(source_label(source)).inc()


@contextmanager
def time_score_batch() -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        SCORE_BATCH_SECONDS.observe(time.perf_counter() - started)


def count_scored(batch: Sequence[PendingText], scored_at: datetime) -> None:
    """A batch whose scores were committed at `scored_at`. Only a first score has a delay worth
    measuring: a rescore's mention arrived long before the new model did."""
    for item in batch:
        MENTIONS_SCORED.labels(source_label(item.source)).inc()
        if item.collected_at is not None and not item.scored_before:
            # Clocks of two hosts (collector, scorer) may disagree by a little: never a negative wait.
            SCORE_DELAY_SECONDS.observe(max(0.0, (scored_at - item.collected_at).total_seconds()))
