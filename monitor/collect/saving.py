"""Storing what a source returned, and what it does to the cases: a page's mentions, its deletions and
its cursor in one transaction, with each edit that came after our reply reopening its case.

The store keeps the rows (monitor/store/mentions.py: new; monitor/store/edits.py: edited, deleted); a
case moves only through the transition table (monitor/respond/transitions.py), so joining the two lives
here, above both. A polling collector calls `save_page`; a stream, which keeps its cursor elsewhere,
calls `store_batch` in the transaction that writes its cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Connection, Engine

from monitor.mention import Mention, utcnow
from monitor.respond.transitions import apply_transition
from monitor.store.cases import case_for_mention
from monitor.store.collect_state import advance_cursor
from monitor.store.edits import SOURCE_ACTOR, Edit, mark_deleted
from monitor.store.mentions import Stored, store_mentions
from monitor.store.triage import mention_triage

# Checks, inside the transaction about to write a page, that this run still holds its claim on the
# (watch, source), and raises ClaimLost if not (a queued job handed to another worker:
# monitor/queue/fence.py).
Claim = Callable[[Connection], None]

# The case statuses an edit reopens: we had answered, or closed it as done.
ANSWERED = ("replied", "resolved")


def reopen_after_edits(connection: Connection, edits: Sequence[Edit], now: datetime) -> int:
    """Reopen the replied or resolved case of each mention its author edited, saying why ("the customer
    edited the review after our reply: rating 4 -> 1"); a mention marked handled without a case opens
    again the same way. Returns how many reopened."""
    reopened = 0
    for edit in edits:
        if not edit.by_author:
            continue  # the source relabelled its language: not something the customer said
        what = "review" if edit.rating_before is not None or edit.rating_after is not None else "post"
        case = case_for_mention(connection, edit.mention_id)
        if case is None:
            if mention_triage(connection, edit.mention_id) != "handled":
                continue
            note = f"the customer edited the {what} after it was marked handled: {edit.changes}"
            apply_transition(connection, edit.mention_id, "triage", "open", SOURCE_ACTOR, now, note)
        elif case.status in ANSWERED:
            when = "after our reply" if case.first_response_at is not None else "after the case was resolved"
            note = f"the customer edited the {what} {when}: {edit.changes}"
            apply_transition(connection, edit.mention_id, "edit", "reopen", SOURCE_ACTOR, now, note)
        else:
            continue  # still being worked on, or dismissed as not about us
        reopened += 1
    return reopened


def store_batch(
    connection: Connection,
    watch: str,
    source: str,
    batch: Sequence[Mention],
    deleted: Sequence[str] = (),
    now: datetime | None = None,
) -> Stored:
    """In the caller's transaction: store `batch` for `watch` (new ones inserted, changed ones edited),
    mark the `deleted` external ids of `source` deleted, and reopen the cases the edits concern."""
    now = now or utcnow()
    stored = store_mentions(connection, watch, batch, now)
    gone = mark_deleted(connection, source, deleted, now)
    reopen_after_edits(connection, stored.edits, now)
    return Stored(stored.new, stored.edits, gone)


def save_page(
    engine: Engine,
    watch: str,
    source: str,
    batch: Sequence[Mention],
    next_cursor: str | None,
    deleted: Sequence[str] = (),
    claim: Claim | None = None,
) -> Stored:
    """A page (its mentions, the ids it says were deleted) and the cursor after it, in one transaction:
    a crash repeats work, never loses it. With `claim`, the transaction first checks that the run still
    holds its job, so a run whose job was handed to another worker can never write after it."""
    with engine.begin() as connection:
        if claim is not None:
            claim(connection)
        stored = store_batch(connection, watch, source, batch, deleted)
        advance_cursor(connection, watch, source, next_cursor, stored.new)
    return stored


def import_batch(engine: Engine, watch: str, batch: Sequence[Mention]) -> Stored:
    """A batch without a cursor (a file import), with the same edits and reopened cases."""
    with engine.begin() as connection:
        return store_batch(connection, watch, "", batch)
