"""The elected scheduler's side of the queue: each scheduled job becomes a queued one.

Every job is queued under a queueing lock, so a job already waiting is never queued twice (a slow
queue does not pile up collections of one source); jobs that must never run side by side also take a
lock, which procrastinate holds from start to end across all workers:

    collect:<watch>:<source>   one run at a time per (watch, source), whichever workers there are
    digest:<list>              one digest run per list at a time (the slot's unique row makes it once)
    alerts, settle-replies, digest-retry
Scoring has no lock: any number of scorers share the work, each claiming its own batches.
"""

from __future__ import annotations

import logging

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.types import JSONValue

from monitor.config import QueueSettings
from monitor.mention import Watch
from monitor.queue.app import task_name

log = logging.getLogger(__name__)

# Finished jobs are deleted as they succeed; failed ones are kept this long for `grumble status`.
KEEP_FAILED_JOBS_HOURS = 7 * 24
CLEANUP_TASK = "builtin:procrastinate.builtin_tasks.remove_old_jobs"


def collect_lock(watch: str, source: str) -> str:
    return f"collect:{watch}:{source}"


class Enqueuer:
    """`ScheduledWork` that queues: the scheduler calls these as it would call `Jobs` in-process."""

    def __init__(self, app: procrastinate.App, settings: QueueSettings) -> None:
        self.app = app
        self.settings = settings

    def _defer(self, job: str, *, lock: str | None, queueing_lock: str, **arguments: JSONValue) -> bool:
        """Queue `job`; False when one like it is already waiting, which will do this one's work."""
        try:
            self.app.configure_task(job, lock=lock, queueing_lock=queueing_lock).defer(**arguments)
        except AlreadyEnqueued:
            log.debug("%s is already waiting in the queue; not queued again", queueing_lock)
            return False
        return True

    def collect(self, watch: Watch, source_name: str) -> None:
        key = collect_lock(watch.name, source_name)
        self._defer(task_name("collect"), lock=key, queueing_lock=key, watch=watch.name, source=source_name)

    def score(self) -> bool:
        """Queue a scoring job; False when one is already waiting (it scores what this one would)."""
        return self._defer(task_name("score"), lock=None, queueing_lock="score")

    def digest(self, list_name: str) -> None:
        key = f"digest:{list_name}"
        self._defer(task_name("digest"), lock=key, queueing_lock=key, list_name=list_name)

    def retry_digests(self) -> None:
        self._defer(task_name("retry_digests"), lock="digest-retry", queueing_lock="digest-retry")

    def settle_replies(self) -> None:
        self._defer(task_name("settle_replies"), lock="settle-replies", queueing_lock="settle-replies")

    def check_alerts(self) -> None:
        self._defer(task_name("check_alerts"), lock="alerts", queueing_lock="alerts")

    def deliver_webhooks(self) -> None:
        self._defer(task_name("deliver_webhooks"), lock="webhooks", queueing_lock="webhooks")

    def send_to_helpdesks(self) -> None:
        self._defer(task_name("send_to_helpdesks"), lock="helpdesk", queueing_lock="helpdesk")

    def notify_team(self) -> None:
        self._defer(task_name("notify_team"), lock="notify-team", queueing_lock="notify-team")

    def learn(self) -> None:
        self._defer(task_name("learn"), lock="learn", queueing_lock="learn")

    def refit_topics(self) -> None:
        self._defer(task_name("refit_topics"), lock="topics-refit", queueing_lock="topics-refit")

    def recover_stalled(self) -> None:
        # No lock: a recovery running on a worker that dies would hold it, and then no later recovery
        # could start to hand that one back. Two recoveries at once are harmless (tasks.py).
        self._defer(
            task_name("recover_stalled"),
            lock=None,
            queueing_lock="recover-stalled",
            stalled_after_seconds=self.settings.stalled_after_seconds,
        )

    def remove_old_jobs(self) -> None:
        self._defer(
            CLEANUP_TASK,
            lock="remove-old-jobs",
            queueing_lock="remove-old-jobs",
            max_hours=KEEP_FAILED_JOBS_HOURS,
            remove_failed=True,
            remove_aborted=True,  # superseded jobs (tasks.recover_stalled)
        )
