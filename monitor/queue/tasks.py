"""The workers' side of the queue: one procrastinate task per kind of scheduled job, each running the
same `monitor.jobs.Jobs` method that `grumble run` runs in-process on SQLite.

A worker binds its `Jobs` (its config, engine and model, loaded once) with `bind` before it takes jobs.
Arguments are names, not objects, so a job queued by a scheduler with an older config still means
something: a watch, source or list no longer configured is logged and skipped, not retried forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from procrastinate import Blueprint, JobContext
from procrastinate.exceptions import ConnectorException, UniqueViolation
from procrastinate.jobs import Status

from monitor.errors import ConfigError
from monitor.jobs import Jobs
from monitor.queue.drift import unknown_name
from monitor.queue.fence import job_claim, outlast_new_holder
from monitor.surface.digest_delivery import find_list

log = logging.getLogger(__name__)

# How a job handed back by recover_stalled ends when the same job was queued again meanwhile.
SUPERSEDED = Status.ABORTED

_bound: Jobs | None = None


def bind(jobs: Jobs | None) -> None:
    """The `Jobs` this process's tasks run (None unbinds, for tests)."""
    global _bound
    _bound = jobs


def _jobs() -> Jobs:
    if _bound is None:
        raise RuntimeError("no Jobs bound: a worker calls monitor.queue.tasks.bind() before it takes jobs")
    return _bound


def collect(context: JobContext, watch: str, source: str) -> None:
    """Collect, fenced by this job's claim: if a recovery hands the job to another worker while this
    one is paused, this run stops before writing (monitor/queue/fence.py)."""
    jobs = _jobs()
    try:
        configured = jobs.config.watch(watch)
    except ConfigError:
        said = unknown_name(jobs.config, jobs.engine, "no longer configured")
        log.warning("skipped collecting %s for %s: the watch is %s", source, watch, said)
        return
    if source not in configured.sources:
        said = unknown_name(jobs.config, jobs.engine, "no longer used by the watch")
        log.warning("skipped collecting %s for %s: the source is %s", source, watch, said)
        return
    job_id, attempts = context.job.id, context.job.attempts
    if job_id is None:  # a job always has its id once taken; the check is for the type
        jobs.collect(configured, source)
        return
    jobs.collect(configured, source, claim=job_claim(job_id, attempts))
    outlast_new_holder(jobs.engine, job_id, attempts)


def score() -> None:
    _jobs().score()


def digest(list_name: str) -> None:
    jobs = _jobs()
    try:
        find_list(jobs.config, list_name)
    except ConfigError:
        said = unknown_name(jobs.config, jobs.engine, "no longer configured")
        log.warning("skipped digest %r: the list is %s", list_name, said)
        return
    jobs.digest(list_name)


def retry_digests() -> None:
    _jobs().retry_digests()


def settle_replies() -> None:
    _jobs().settle_replies()


def check_alerts() -> None:
    _jobs().check_alerts()


def deliver_webhooks() -> None:
    _jobs().deliver_webhooks()


def send_to_helpdesks() -> None:
    _jobs().send_to_helpdesks()


def notify_team() -> None:
    _jobs().notify_team()


def learn() -> None:
    _jobs().learn()


def refit_topics() -> None:
    _jobs().refit_topics()


async def recover_stalled(context: JobContext, stalled_after_seconds: float) -> int:
    """Hand the jobs of workers whose heartbeat lapsed back to the queue (procrastinate's recipe for
    stalled jobs). A killed worker's collection or scoring is then done by another: collection stores
    each item once whatever it re-fetches, and a scoring batch is written in the transaction that
    claimed it, so a redone batch gives the same scores. Returns how many jobs this call handed back.

    Recoveries take no lock (a dead worker may have been running one), so two may meet on one job: each
    step below only applies to a job still in the state it was read in, and the loser's step fails,
    which is logged and skipped."""
    manager = context.app.job_manager
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after_seconds))
    handed = 0
    for job in stalled:
        where = f"job {job.id} ({job.call_string}) was running on worker {job.worker_id}"
        silent = f"silent for over {stalled_after_seconds:g} s"
        try:
            await manager.retry_job(job)
        except UniqueViolation:
            # The scheduler has queued the same work again meanwhile (its queueing lock only keeps
            # one *waiting*): that job will do it, once this one no longer holds the lock. Nothing
            # failed, so it ends as superseded (procrastinate's "aborted", which Grumble uses for
            # nothing else), not as a failure that `grumble status` would show for a week.
            try:
                await manager.finish_job(job, status=SUPERSEDED, delete_job=False)
            except ConnectorException as exc:
                log.info("%s: another recovery settled it (%s)", where, exc)
                continue
            log.warning("%s, %s: superseded by the same job queued since, which does its work", where, silent)
        except ConnectorException as exc:
            log.info("%s: another recovery handed it back (%s)", where, exc)
            continue
        else:
            log.warning("%s, %s: handed to another worker", where, silent)
        handed += 1
    await manager.prune_stalled_workers(stalled_after_seconds)
    return handed


TASKS: dict[str, Callable[..., Any]] = {
    "score": score,
    "digest": digest,
    "retry_digests": retry_digests,
    "settle_replies": settle_replies,
    "check_alerts": check_alerts,
    "deliver_webhooks": deliver_webhooks,
    "send_to_helpdesks": send_to_helpdesks,
    "notify_team": notify_team,
    "learn": learn,
    "refit_topics": refit_topics,
}
# Tasks that procrastinate passes their job's context.
CONTEXT_TASKS: dict[str, Callable[..., Any]] = {"collect": collect, "recover_stalled": recover_stalled}


def blueprint() -> Blueprint:
    """A new blueprint of Grumble's tasks, for one App. New each time: procrastinate's `add_tasks_from`
    renames a blueprint's tasks in place and ties them to its App, so a second App made from one shared
    blueprint (`grumble run` makes two) queued `grumble:grumble:*` jobs that no worker knew."""
    made = Blueprint()
    for name, function in TASKS.items():
        made.task(name=name)(function)
    for name, function in CONTEXT_TASKS.items():
        made.task(name=name, pass_context=True)(function)
    return made
