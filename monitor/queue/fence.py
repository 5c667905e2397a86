"""A queued collection's claim on its job, checked where the run writes: the fence that keeps a worker
that was paused (SIGSTOP, a frozen VM, a long GC) from storing after its job was handed to another.

While a worker is silent past `[queue] stalled_after_seconds`, `recover_stalled` hands its running
jobs back to the queue, which bumps the job's `attempts`, and another worker takes it (status
"doing" again, a new attempt). The paused run still believes it holds the (watch, source): when it
wakes it would write a page, move the cursor and count a failure alongside the new holder. So each
write first reads the job row FOR SHARE in the writing transaction: the run holds its claim while
the job is "doing" in the attempt it started in. A recovery that comes meanwhile waits for that
transaction (its UPDATE needs the row), so a page either commits before the hand-back or not at all.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import Connection, Engine, text

from monitor.collect.saving import Claim
from monitor.errors import ClaimLost

log = logging.getLogger(__name__)

# How often a fenced run looks whether the job's new holder is done.
OUTLAST_POLL_S = 0.5

_HELD_BY_A_LATER_ATTEMPT = text(
    "SELECT 1 FROM procrastinate_jobs WHERE id = :job_id AND status = 'doing' AND attempts > :attempts"
)
_HOLDS = text(
    "SELECT 1 FROM procrastinate_jobs WHERE id = :job_id AND status = 'doing' AND attempts = :attempts"
    " FOR SHARE"
)


def job_claim(job_id: int, attempts: int) -> Claim:
    """The claim of the run of queue job `job_id` started in attempt `attempts`."""

    def check(connection: Connection) -> None:
        held = connection.execute(_HOLDS, {"job_id": job_id, "attempts": attempts}).first()
        if held is None:
            raise ClaimLost(
                f"queue job {job_id} was handed to another worker while this one was silent for over "
                "[queue] stalled_after_seconds (paused or cut off); that worker collects in its place. "
                "If workers pause this long routinely, raise stalled_after_seconds"
            )

    return check


def outlast_new_holder(engine: Engine, job_id: int, attempts: int) -> None:
    """Return once no later attempt of job `job_id` runs (at once, for a run that kept its claim).

    A fenced run must not return while the job's new holder runs: procrastinate settles a job by its
    id when its task returns, so the paused worker would mark the new holder's job done, free the
    (watch, source) lock under it and let the next queued collection start beside it."""
    said = False
    while True:
        with engine.connect() as connection:
            held = connection.execute(_HELD_BY_A_LATER_ATTEMPT, {"job_id": job_id, "attempts": attempts})
            if held.first() is None:
                return
        if not said:
            log.warning(
                "queue job %d is run by another worker now; this worker waits for it to end before "
                "settling the job, so the collection's lock stays with it",
                job_id,
            )
            said = True
        time.sleep(OUTLAST_POLL_S)
