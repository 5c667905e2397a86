"""What a newly elected scheduler owes from before it was elected, read from the store.

APScheduler's timers only look forward: a scheduler elected at 08:00:03, after the last one died at
07:59:59, would leave the 08:00 digest for tomorrow, and would poll every (watch, source) at once
although its predecessor polled them seconds ago. So before it starts its timers it reads what its
predecessor left:

- a digest list whose latest due slot has no run, while an earlier slot has one, missed that slot:
  it is queued now. One run covers every slot missed since the last: a digest starts where the
  list's last one ended, so it carries all that came since (digest_runs' (list, slot) key still
  makes it once, however many schedulers catch up the same slot).
- a (watch, source) polled less than its interval ago (collect_state.last_attempt_at, written as the
  run starts), or with a collection waiting or running in the queue, already had this slot's poll:
  its next one is when the interval since that poll is over, not now.

A list never sent waits for its first time, as a freshly started `grumble run` always has.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, func, select, text

from monitor.config import Config
from monitor.queue.app import task_name
from monitor.store.collect_state import all_states
from monitor.store.schema import digest_runs
from monitor.surface.slots import digest_slot

# Collections in the queue now, by their arguments (procrastinate's table: plain SQL, read-only).
_QUEUED_COLLECTS = text(
    "SELECT args->>'watch', args->>'source' FROM procrastinate_jobs"
    " WHERE status IN ('todo', 'doing') AND task_name = :task"
)


def missed_digests(engine: Engine, config: Config, now: datetime) -> list[str]:
    """The lists whose latest slot at or before `now` was missed: due, not run, and after a run."""
    missed = []
    with engine.connect() as connection:
        for digest_list in config.digests:
            last = _last_slot(connection, digest_list.name)
            if last is not None and last < digest_slot(digest_list, now):
                missed.append(digest_list.name)
    return missed


def _last_slot(connection: Connection, list_name: str) -> datetime | None:
    query = select(func.max(digest_runs.c.slot)).where(digest_runs.c.list_name == list_name)
    last: datetime | None = connection.execute(query).scalar_one()
    return last


def next_collects(engine: Engine, config: Config, now: datetime) -> dict[tuple[str, str], datetime]:
    """When each (watch, source) that already had its current slot's poll is due next (later than
    `now`); a pair not named is due now."""
    states = {(state.watch, state.source): state for state in all_states(engine)}
    queued = _queued_collects(engine)
    due: dict[tuple[str, str], datetime] = {}
    for watch, source in config.jobs():
        pair = (watch.name, source)
        interval = timedelta(minutes=config.collect_every_minutes(source))
        if pair in queued:
            due[pair] = now + interval
            continue
        state = states.get(pair)
        if state is not None and state.last_attempt_at is not None and state.last_attempt_at + interval > now:
            due[pair] = state.last_attempt_at + interval
    return due


def _queued_collects(engine: Engine) -> set[tuple[str, str]]:
    if engine.dialect.name != "postgresql":
        return set()
    with engine.connect() as connection:
        rows = connection.execute(_QUEUED_COLLECTS, {"task": task_name("collect")})
        return {(str(watch), str(source)) for watch, source in rows}
