"""Collect: ask one source for one watch's new mentions, keep those that match, store them with the cursor.

A failing source is recorded (last error, consecutive failures, when to try again) and never raises out
of `collect`, so one broken API cannot stop the scheduler or the other sources. Retries back off
(monitor.backoff: exponential, capped, jittered), or wait as long as a 429's Retry-After asked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Engine

from monitor.backoff import Backoff
from monitor.collect.matching import matches
from monitor.collect.saving import Claim, save_page
from monitor.errors import ClaimLost, SourceError, SourceRateLimited
from monitor.mention import Watch, utcnow
from monitor.observe.metrics import count_collected, count_source_failure
from monitor.sources.base import Source
from monitor.store.collect_state import get_state, record_attempt, record_failure, record_success

log = logging.getLogger(__name__)

MAX_PAGES_PER_RUN = 20
# 1, 2, 4, ... minutes after each failure in a row, never more than an hour.
SOURCE_BACKOFF = Backoff(base=timedelta(minutes=1), cap=timedelta(hours=1))
# After this many failures in a row the failure is an alert, not a warning: someone must look.
ALERT_AFTER_FAILURES = 3


@dataclass(frozen=True)
class CollectResult:
    watch: str
    source: str
    fetched: int = 0
    kept: int = 0
    new: int = 0
    pages: int = 0
    error: str | None = None
    skipped_until: datetime | None = None
    warnings: tuple[str, ...] = ()
    edited: int = 0  # stored mentions whose content the source changed (store/edits.py)
    deleted: int = 0  # stored mentions the source said were deleted

    @property
    def ok(self) -> bool:
        return self.error is None and self.skipped_until is None

    @property
    def summary(self) -> str:
        """The counts for a status line: "40 fetched, 12 kept, 3 new, 1 edited"."""
        counts = f"{self.fetched} fetched, {self.kept} kept, {self.new} new, {self.edited} edited"
        return f"{counts}, {self.deleted} deleted" if self.deleted else counts


def collect(
    engine: Engine,
    watch: Watch,
    source: Source,
    *,
    force: bool = False,
    max_pages: int = MAX_PAGES_PER_RUN,
    now: datetime | None = None,
    backoff: Backoff = SOURCE_BACKOFF,
    claim: Claim | None = None,
) -> CollectResult:
    """One run of the (watch, source) job. `force` ignores a pending backoff (a manual `collect --once`).

    `claim` (a queued run's hold on its job, monitor/queue/fence.py) is checked in each page's
    transaction and before the run's outcome is recorded: a run whose job was handed to another
    worker meanwhile stops there, having written nothing, and leaves the source's health to the new
    holder (two runs feeding one failure count would double it)."""
    try:
        return _collect(engine, watch, source, force, max_pages, now or utcnow(), backoff, claim)
    except ClaimLost as lost:
        log.warning("stopped collecting %s for watch %s without storing: %s", source.name, watch.name, lost)
        return CollectResult(watch.name, source.name, error=str(lost))


def _collect(
    engine: Engine,
    watch: Watch,
    source: Source,
    force: bool,
    max_pages: int,
    now: datetime,
    backoff: Backoff,
    claim: Claim | None,
) -> CollectResult:
    state = get_state(engine, watch.name, source.name)
    if not force and state.next_attempt_at is not None and state.next_attempt_at > now:
        return CollectResult(watch.name, source.name, skipped_until=state.next_attempt_at)
    record_attempt(engine, watch.name, source.name, now)
    cursor = state.cursor
    fetched = kept = new = edited = deleted = pages = 0
    warnings: dict[str, None] = {}  # ordered, without repeats across pages
    try:
        for _ in range(max_pages):
            page = source.fetch(watch, cursor)
            pages += 1
            wanted = [m for m in page.mentions if matches(watch, m, need_keyword=page.unsearched)]
            saved = save_page(engine, watch.name, source.name, wanted, page.next_cursor, page.deleted, claim)
            new += saved.new
            edited += saved.edited
            deleted += saved.deleted
            count_collected(source.name, saved.new)  # as each page commits: a later failure keeps them
            fetched += len(page.mentions)
            kept += len(wanted)
            cursor = page.next_cursor
            warnings.update(dict.fromkeys(page.warnings))
            if not page.has_more:
                break
    except ClaimLost:
        raise
    except Exception as exc:
        # A bug in a parser must show in the source's health like an outage, not vanish into a log.
        if not isinstance(exc, SourceError):
            log.exception("unexpected error collecting %s for watch %s", source.name, watch.name)
            exc = SourceError(source.name, f"unexpected {type(exc).__name__}: {exc}")
        if exc.cursor is not None:
            # What the failure taught the cursor.
            save_page(engine, watch.name, source.name, [], exc.cursor, claim=claim)
        partial = CollectResult(
            watch.name, source.name, fetched, kept, new, pages, edited=edited, deleted=deleted
        )
        _check(engine, claim)
        return _failed(engine, watch, source, exc, now, partial, backoff)
    warning = "; ".join(warnings) or None
    _check(engine, claim)
    record_success(engine, watch.name, source.name, utcnow(), warning=warning)
    result = CollectResult(
        watch.name,
        source.name,
        fetched,
        kept,
        new,
        pages,
        warnings=tuple(warnings),
        edited=edited,
        deleted=deleted,
    )
    log.log(
        logging.WARNING if warning else logging.INFO,
        "collected %s/%s: %s%s",
        watch.name,
        source.name,
        result.summary,
        f"; partly failed: {warning}" if warning else "",
    )
    return result


def _check(engine: Engine, claim: Claim | None) -> None:
    """Raise ClaimLost before recording the run's outcome if the run no longer holds its job."""
    if claim is not None:
        with engine.connect() as connection:
            claim(connection)


def _failed(
    engine: Engine,
    watch: Watch,
    source: Source,
    exc: SourceError,
    now: datetime,
    partial: CollectResult,
    backoff: Backoff,
) -> CollectResult:
    count_source_failure(source.name)
    previous = get_state(engine, watch.name, source.name).consecutive_failures
    delay = backoff.delay(previous + 1)
    if isinstance(exc, SourceRateLimited):
        delay = max(delay, timedelta(seconds=exc.retry_after))
    failures = record_failure(engine, watch.name, source.name, str(exc), now + delay, utcnow())
    level = logging.ERROR if failures >= ALERT_AFTER_FAILURES else logging.WARNING
    log.log(
        level,
        "source %s failed for watch %s (%d in a row; next try in %s): %s",
        source.name,
        watch.name,
        failures,
        timedelta(seconds=round(delay.total_seconds())),  # jitter's microseconds say nothing
        exc,
    )
    return replace(partial, error=str(exc))
