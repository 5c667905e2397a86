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
# Name rows whose worker was pruned, with no worker of that name registered again.
_MISSING = (
    " FROM grumble_queue_workers n"
    " WHERE NOT EXISTS (SELECT 1 FROM procrastinate_workers w WHERE w.id = n.worker_id)"
    " AND NOT EXISTS (SELECT 1 FROM grumble_queue_workers o JOIN procrastinate_workers w"
    " ON w.id = o.worker_id WHERE o.name = n.name)"
)
_MISSING_COUNT = text("SELECT count(DISTINCT n.name)" + _MISSING)
_DRIFTED = text(
    "SELECT count(*) FROM grumble_queue_workers n JOIN procrastinate_workers w ON w.id = n.worker_id"
    " JOIN grumble_queue_scheduler s ON s.config_hash <> n.config_hash"
)
_WORKERS = text(
    "SELECT count(*) FILTER (WHERE last_heartbeat >= now() - make_interval(secs => :seconds)),"
    " count(*) FILTER (WHERE last_heartbeat < now() - make_interval(secs => :seconds))"
    " FROM procrastinate_workers"
)


# Written by a worker once procrastinate has given it a number (monitor/queue/worker.py), in
# procrastinate's own parameter style, as it runs on procrastinate's connection.
NAME_WORKER = (
    "INSERT INTO grumble_queue_workers (worker_id, name, config_hash)"
    " VALUES (%(worker_id)s, %(name)s, %(config_hash)s)"
    " ON CONFLICT (worker_id) DO UPDATE SET name = EXCLUDED.name, config_hash = EXCLUDED.config_hash"
)
# Then: this process's earlier rows (it reconnected under a new number) and workers missing for a week.
FORGET_WORKERS = (
    "DELETE FROM grumble_queue_workers"
    " WHERE (name = %(name)s AND worker_id <> %(worker_id)s)"
    " OR vanished_at < now() - make_interval(days => 7)"
)
# A worker stopping cleanly: it is not missing, it is gone.
WORKER_STOPPED = "DELETE FROM grumble_queue_workers WHERE name = %(name)s"
# The last elected scheduler's config fingerprint, for a worker to compare its own with.
SCHEDULER_FINGERPRINT = "SELECT config_hash FROM grumble_queue_scheduler LIMIT 1"
# The elected scheduler's config fingerprint, on its lock's connection (psycopg's style).
SCHEDULER_CONFIG = (
    "WITH gone AS (DELETE FROM grumble_queue_scheduler WHERE holder <> %(holder)s)"
    " INSERT INTO grumble_queue_scheduler (holder, config_hash) VALUES (%(holder)s, %(config_hash)s)"
    " ON CONFLICT (holder) DO UPDATE SET config_hash = EXCLUDED.config_hash, elected_at = now()"
)


@dataclass(frozen=True)
class QueueWorker:
    id: int
    name: str  # host:pid, or "?" for a worker started by something other than `grumble worker`
    started_at: datetime | None
    last_heartbeat: datetime
    seconds_since_heartbeat: float
    running: tuple[str, ...]  # the jobs it runs now, e.g. "collect(watch='acme', source='reddit')"
    config_hash: str | None = None  # its config's fingerprint (monitor/queue/drift.py); None: unknown


@dataclass(frozen=True)
class MissingWorker:
    """A worker taken for dead (its heartbeat lapsed and its row was pruned) that has not come back."""

    id: int
    name: str
    last_heartbeat: datetime | None
    vanished_at: datetime | None  # None: pruned before Grumble marked vanished workers (migration 0019)


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
    missing_workers: int = 0  # taken for dead and not back (missing_workers)
    drifted_workers: int = 0  # registered workers whose config differs from the elected scheduler's


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
        missing = int(connection.execute(_MISSING_COUNT).scalar_one()) if _has_names(connection) else 0
        drifted = int(connection.execute(_DRIFTED).scalar_one()) if _has_names(connection) else 0
    return QueueStats(queued, stalled_jobs, int(live), int(stalled), missing, drifted)


def workers(engine: Engine) -> list[QueueWorker]:
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as connection:
        if not _has_queue(connection):
            return []
        rows = connection.execute(
            text(
                "SELECT w.id, n.name, n.started_at, w.last_heartbeat,"
                " extract(epoch FROM now() - w.last_heartbeat), n.config_hash"
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
            config_hash=row[5],
        )
        for row in rows
    ]


def missing_workers(engine: Engine) -> list[MissingWorker]:
    """Workers whose row procrastinate pruned and that have not registered again under their name
    (a worker that reconnects takes a new number under the same name, and is not missing)."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as connection:
        if not _has_queue(connection):
            return []
        if not _has_names(connection):
            return []
        rows = connection.execute(
            text(
                "SELECT n.worker_id, n.name, n.last_heartbeat, n.vanished_at"
                + _MISSING
                + " ORDER BY n.vanished_at DESC NULLS LAST, n.worker_id DESC"
            )
        ).all()
    return [MissingWorker(row[0], row[1], row[2], row[3]) for row in rows]


def scheduler_config_hash(engine: Engine, holder: str | None = None) -> str | None:
    """The config fingerprint the scheduler `holder` (default: the last elected) recorded when
    elected; None if it recorded none."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        if not _has_names(connection):
            return None
        query = "SELECT config_hash FROM grumble_queue_scheduler"
        if holder is not None:
            query += " WHERE holder = :holder"
        found = connection.execute(text(query + " LIMIT 1"), {"holder": holder}).scalar_one_or_none()
    return None if found is None else str(found)


def describe_job(task_name: str, arguments: dict[str, object]) -> str:
    """`collect(watch='acme', source='reddit')`: the job's own name, without namespaces."""
    shown = ", ".join(f"{key}={value!r}" for key, value in sorted(arguments.items()))
    return f"{task_name.rpartition(':')[2]}({shown})"


def failed_jobs(engine: Engine) -> int:
    """Jobs that ended in an error and are kept (a week) for a person to look at."""
    return _jobs_in_status(engine, "failed")


def superseded_jobs(engine: Engine) -> int:
    """Jobs of a silent worker that a newer queued job of the same work replaced (recover_stalled ends
    them "aborted"): nothing failed, they are kept a week beside the failed ones, and counted apart."""
    return _jobs_in_status(engine, "aborted")


def _jobs_in_status(engine: Engine, status: str) -> int:
    if engine.dialect.name != "postgresql":
        return 0
    with engine.connect() as connection:
        if not _has_queue(connection):
            return 0
        query = text("SELECT count(*) FROM procrastinate_jobs WHERE status = :status")
        return int(connection.execute(query, {"status": status}).scalar_one())


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


def _has_names(connection: Connection) -> bool:
    """Whether migration 0019 (vanished workers, config fingerprints) has run."""
    found = connection.execute(text("SELECT to_regclass('grumble_queue_scheduler') IS NOT NULL")).scalar_one()
    return bool(found)


def _has_queue(connection: Connection) -> bool:
    # to_regclass follows the search_path, as procrastinate's own queries do, and never raises.
    found = connection.execute(
        text(
            "SELECT to_regclass('procrastinate_jobs') IS NOT NULL"
            " AND to_regclass('procrastinate_workers') IS NOT NULL"
        )
    ).scalar_one()
    return bool(found)
