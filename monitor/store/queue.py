"""What the job queue holds, read from procrastinate's own tables: depth for the metrics, and the
workers, failures and elected scheduler for `grumble status`.

The tables are procrastinate's (its schema, applied by migration 0011 beside Grumble's), not ours, so
there is no SQLAlchemy Table for them: plain SQL, read-only. A database without them (SQLite, or
PostgreSQL not yet migrated) has no queue: these say None or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, text

# Only the jobs still in the queue: both statuses have partial indexes, so a count stays a few
# milliseconds however many finished jobs the table keeps (counting every status scans it: 80 ms at
# 200,000 rows, and growing). Finished jobs are counted as they finish (grumble_jobs_total).
QUEUED_STATUSES = ("todo", "doing")
_QUEUED = text(
    "SELECT status::text, count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing') GROUP BY status"
)
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


# Written by a worker once procrastinate has given it a number (monitor/queue/worker.py), in
# procrastinate's own parameter style, as it runs on procrastinate's connection.
NAME_WORKER = (
    "INSERT INTO grumble_queue_workers (worker_id, name) VALUES (%(worker_id)s, %(name)s) "
    "ON CONFLICT (worker_id) DO UPDATE SET name = EXCLUDED.name"
)


@dataclass(frozen=True)
class QueueWorker:
    id: int
    name: str  # host:pid, or "?" for a worker started by something other than `grumble worker`
    started_at: datetime | None
    last_heartbeat: datetime
    seconds_since_heartbeat: float
    running: tuple[str, ...]  # the jobs it runs now, e.g. "collect(watch='acme', source='reddit')"


@dataclass(frozen=True)
class SchedulerLeader:
    name: str
    since: datetime


@dataclass(frozen=True)
class QueueStats:
    jobs_by_status: dict[str, int]  # each of QUEUED_STATUSES, 0 when none
    stalled_jobs: int
    live_workers: int
    stalled_workers: int


def queue_stats(engine: Engine, stalled_after_seconds: float) -> QueueStats | None:
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


def workers(engine: Engine) -> list[QueueWorker]:
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as connection:
        if not _has_queue(connection):
            return []
        rows = connection.execute(
            text(
                "SELECT w.id, n.name, n.started_at, w.last_heartbeat,"
                " extract(epoch FROM now() - w.last_heartbeat)"
                " FROM procrastinate_workers w LEFT JOIN grumble_queue_workers n ON n.worker_id = w.id"
                " ORDER BY w.id"
            )
        ).all()
        running: dict[int, list[str]] = {}
        for worker_id, task, args in connection.execute(
            text(
                "SELECT worker_id, task_name, args FROM procrastinate_jobs WHERE status = 'doing' ORDER BY id"
            )
        ):
            running.setdefault(worker_id, []).append(describe_job(task, args))
    return [
        QueueWorker(
            id=row[0],
            name=row[1] or "?",
            started_at=row[2],
            last_heartbeat=row[3],
            seconds_since_heartbeat=float(row[4]),
            running=tuple(running.get(row[0], ())),
        )
        for row in rows
    ]


def describe_job(task_name: str, arguments: dict[str, object]) -> str:
    """`collect(watch='acme', source='reddit')`: the job's own name, without namespaces."""
    shown = ", ".join(f"{key}={value!r}" for key, value in sorted(arguments.items()))
    return f"{task_name.rpartition(':')[2]}({shown})"


def failed_jobs(engine: Engine) -> int:
    """Jobs that ended in an error and are kept (a week) for a person to look at."""
    if engine.dialect.name != "postgresql":
        return 0
    with engine.connect() as connection:
        if not _has_queue(connection):
            return 0
        return int(
            connection.execute(
                text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'")
            ).scalar_one()
        )


def scheduler_leader(engine: Engine, lock_key: int, name_prefix: str) -> SchedulerLeader | None:
    """The session holding the scheduler's advisory lock (a bigint key: its high and low halves are
    pg_locks' classid and objid)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT a.application_name, a.backend_start FROM pg_locks l"
                " JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
                " AND l.classid = :high AND l.objid = :low"
            ),
            {"high": lock_key >> 32, "low": lock_key & 0xFFFFFFFF},
        ).first()
    if row is None:
        return None
    return SchedulerLeader(name=str(row[0]).removeprefix(name_prefix), since=row[1])


def _has_queue(connection: Connection) -> bool:
    # to_regclass follows the search_path, as procrastinate's own queries do, and never raises.
    found = connection.execute(
        text(
            "SELECT to_regclass('procrastinate_jobs') IS NOT NULL"
            " AND to_regclass('procrastinate_workers') IS NOT NULL"
        )
    ).scalar_one()
    return bool(found)
