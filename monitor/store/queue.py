"""What the job queue holds, for `grumble status` and the metrics: workers, jobs by state, the scheduler.

Read from procrastinate's tables with plain SQL (they exist on PostgreSQL once migrated; on SQLite
there is no queue and these return nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, inspect, text

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
class QueueCounts:
    waiting: int
    running: int
    failed: int
    stalled: int  # running on a worker whose heartbeat lapsed (or that was pruned): to be handed back


@dataclass(frozen=True)
class SchedulerLeader:
    name: str
    since: datetime


def has_queue(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql" and inspect(engine).has_table("procrastinate_jobs")


def workers(engine: Engine) -> list[QueueWorker]:
    if not has_queue(engine):
        return []
    with engine.connect() as connection:
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


def counts(engine: Engine, stalled_after_seconds: float) -> QueueCounts | None:
    if not has_queue(engine):
        return None
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT count(*) FILTER (WHERE j.status = 'todo'),"
                " count(*) FILTER (WHERE j.status = 'doing'),"
                " count(*) FILTER (WHERE j.status = 'failed'),"
                " count(*) FILTER (WHERE j.status = 'doing' AND (w.id IS NULL"
                "   OR w.last_heartbeat < now() - make_interval(secs => :stalled)))"
                " FROM procrastinate_jobs j LEFT JOIN procrastinate_workers w ON w.id = j.worker_id"
            ),
            {"stalled": stalled_after_seconds},
        ).one()
    return QueueCounts(waiting=row[0], running=row[1], failed=row[2], stalled=row[3])


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
