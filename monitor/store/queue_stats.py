"""How deep the job queue is: read from procrastinate's own tables, for the metrics at scrape time.

The tables are procrastinate's (its schema, applied beside Grumble's), not ours, so there is no
SQLAlchemy Table for them: plain SQL, read-only. A database without them (SQLite, or PostgreSQL
where `grumble worker` was never set up) has no queue: `queue_stats` says None.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

# Only the jobs still in the queue: both statuses have partial indexes, so a count stays a few
# milliseconds however many finished jobs the table keeps (counting every status scans it: 80 ms at
# 200,000 rows, and growing). Finished jobs are counted as they finish (grumble_jobs_total).
QUEUED_STATUSES = ("todo", "doing")
_QUEUED = text(
    "SELECT status::text, count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing') GROUP BY status"
)
# procrastinate's own default (Worker's stalled_worker_timeout): a worker silent this long is gone.
STALLED_AFTER_SECONDS = 30.0

# The same rule as procrastinate's select_stalled_jobs_by_heartbeat: a running job is stalled when its
# worker's heartbeat is old, or its worker row was pruned (the foreign key then set worker_id NULL).
_STALLED_JOBS = text(
    "SELECT count(*) FROM procrastinate_jobs AS job"
    " LEFT JOIN procrastinate_workers AS worker ON worker.id = job.worker_id"
    " WHERE job.status = 'doing'"
    " AND (worker.id IS NULL OR worker.last_heartbeat < now() - make_interval(secs => :seconds))"
)
_WORKERS = text(
    "SELECT count(*) FILTER (WHERE last_heartbeat >= now() - make_interval(secs => :seconds)),"
    " count(*) FILTER (WHERE last_heartbeat < now() - make_interval(secs => :seconds))"
    " FROM procrastinate_workers"
)


@dataclass(frozen=True)
class QueueStats:
    jobs_by_status: dict[str, int]  # each of QUEUED_STATUSES, 0 when none
    stalled_jobs: int
    live_workers: int
    stalled_workers: int


def queue_stats(engine: Engine, stalled_after_seconds: float = STALLED_AFTER_SECONDS) -> QueueStats | None:
    """The queue now, or None where the database has no procrastinate tables. Heartbeats are compared
    with the database's clock, which wrote them, not this host's."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        if not _has_queue(connection):
            return None
        queued = dict.fromkeys(QUEUED_STATUSES, 0)
        queued.update({str(status): int(count) for status, count in connection.execute(_QUEUED)})
        seconds = {"seconds": stalled_after_seconds}
        stalled_jobs = int(connection.execute(_STALLED_JOBS, seconds).scalar_one())
        live, stalled = connection.execute(_WORKERS, seconds).one()
    return QueueStats(queued, stalled_jobs, int(live), int(stalled))


def _has_queue(connection: Connection) -> bool:
    # to_regclass follows the search_path, as procrastinate's own queries do, and never raises.
    found = connection.execute(
        text(
            "SELECT to_regclass('procrastinate_jobs') IS NOT NULL"
            " AND to_regclass('procrastinate_workers') IS NOT NULL"
        )
    ).scalar_one()
    return bool(found)
