"""How a case and its mention move together: one table of transitions, one writer.

A case's status and its mention's triage answer the same question (is someone still on this?), so the
inbox, the case panel and the digest must never disagree. Every change to either goes through
`apply_transition`, which writes both rows and their `mention_events` in the caller's transaction.

A transition is named by what caused it: a person setting the case's status ("status", ...), a person
marking the mention ("triage", ...), the case's reply moving on ("reply", ...), a person undoing a
mark ("undo", the status the case had before it; respond/bulk.py), or the customer editing the mention
after our reply ("edit", "reopen"; collect/saving.py), or the helpdesk the case was handed to closing
or reopening it ("helpdesk", "resolved" / "reopened"; helpdesk/receiver.py). The side the person acted
on leads: when it is already where the transition takes it, nothing at all is written; when it moves,
the other side follows if the table says so, and its event says "with the case" or "with the mention".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Connection

from monitor.errors import CaseError
from monitor.store.cases import AWAITING_RESPONSE, CASE_STATUSES, Case, case_for_mention, update_case
from monitor.store.filters import TRIAGE_STATES
from monitor.store.triage import TriageError, mention_triage, record_event, write_triage

CLOSED = ("resolved", "dismissed")


@dataclass(frozen=True)
class Transition:
    """What one cause does to a case and its mention."""

    case_from: tuple[str, ...]  # the case statuses it moves; a case in any other keeps its status
    case_to: str
    triage_to: str | None  # the mention's triage afterwards; None leaves it as it is


# (cause, value) -> transition. The mention leads for "triage"; the case leads for "status" and "reply".
TRANSITIONS: dict[tuple[str, str], Transition] = {
    # A person sets the case's status (the only statuses set by hand); the mention follows.
    ("status", "new"): Transition(CASE_STATUSES, "new", "open"),
    ("status", "in_progress"): Transition(CASE_STATUSES, "in_progress", "open"),
    ("status", "resolved"): Transition(CASE_STATUSES, "resolved", "handled"),
    ("status", "dismissed"): Transition(CASE_STATUSES, "dismissed", "dismissed"),
    # A person marks the mention; its case, if it has one, follows. Reopening moves only a closed case.
    ("triage", "handled"): Transition(CASE_STATUSES, "resolved", "handled"),
    ("triage", "dismissed"): Transition(CASE_STATUSES, "dismissed", "dismissed"),
    ("triage", "open"): Transition(CLOSED, "in_progress", "open"),
    # The reply moves the case; the mention stays as it was marked until a reply is posted.
    ("reply", "drafted"): Transition(("new",), "in_progress", None),
    ("reply", "awaits_approval"): Transition(AWAITING_RESPONSE, "waiting_for_approval", None),
    ("reply", "approved"): Transition(("waiting_for_approval",), "in_progress", None),
    ("reply", "sent_back"): Transition(("waiting_for_approval",), "in_progress", None),
    # A posted reply (or one posted by hand) answers the customer: the mention is handled with it, so it
    # leaves the unhandled inbox (an edit by the customer reopens both, below).
    ("reply", "posted"): Transition(AWAITING_RESPONSE, "replied", "handled"),
    # The customer edited the mention after we replied or resolved it: the case and the mention reopen
    # (monitor/collect/saving.py; the event's note says what changed).
    ("edit", "reopen"): Transition(("replied", "resolved"), "in_progress", "open"),
    # The helpdesk the case was handed to resolved or reopened its conversation (monitor/helpdesk/
    # receiver.py, by signed webhook); a case closed as not relevant stays so.
    ("helpdesk", "resolved"): Transition((*AWAITING_RESPONSE, "replied"), "resolved", "handled"),
    ("helpdesk", "reopened"): Transition(("resolved",), "in_progress", "open"),
    # Undoing a person's mark puts the case back where it was (the mention is restored by "triage").
    **{("undo", status): Transition(CASE_STATUSES, status, None) for status in CASE_STATUSES},
}

# Statuses a person sets; "replied" comes from a posted reply, "waiting_for_approval" from a submitted one.
MANUAL_STATUSES = tuple(value for cause, value in TRANSITIONS if cause == "status")


def transition(cause: str, value: str) -> Transition:
    """The table's entry, or the error a person sees for a move the table does not allow."""
    found = TRANSITIONS.get((cause, value))
    if found is not None:
        return found
    if cause == "status":
        raise CaseError(
            f"a case cannot be set to {value!r} by hand; choose {', '.join(MANUAL_STATUSES)} "
            "(replied comes from posting a reply, waiting_for_approval from submitting one)"
        )
    if cause == "triage":
        raise TriageError(f"unknown triage state {value!r}; expected one of {', '.join(TRIAGE_STATES)}")
    raise CaseError(f"no case transition for {cause} {value!r}")


def apply_transition(
    connection: Connection,
    mention_id: int,
    cause: str,
    value: str,
    actor: str,
    now: datetime,
    note: str | None = None,
    resolved_at: datetime | None = None,
    case: Case | None = None,
) -> Case | None:
    """Apply one transition to the mention and its case inside the caller's transaction, with an event
    for each row that changed (`note` goes on the leading side's event). Returns the case afterwards.
    `resolved_at`: when the case was resolved, for an undo that puts a resolved case back (else now).
    `case`: the mention's case as the caller read it in this transaction, so it is not read again."""
    moves = transition(cause, value)
    triage_before = mention_triage(connection, mention_id)
    if case is None:
        case = case_for_mention(connection, mention_id)
    case_moves = case is not None and case.status in moves.case_from and case.status != moves.case_to
    triage_moves = moves.triage_to is not None and triage_before != moves.triage_to
    mention_leads = cause == "triage"
    if not (triage_moves if mention_leads else case_moves):
        return case
    if mention_leads:
        _move_triage(connection, mention_id, triage_before, moves, actor, now, note)
        if not case_moves:
            return case
        assert case is not None
        return _move_case(connection, case, moves, actor, now, "with the mention", resolved_at)
    assert case is not None
    moved = _move_case(connection, case, moves, actor, now, note, resolved_at)
    if triage_moves:
        _move_triage(connection, mention_id, triage_before, moves, actor, now, "with the case")
    return moved


def _move_case(
    connection: Connection,
    case: Case,
    moves: Transition,
    actor: str,
    now: datetime,
    note: str | None,
    resolved_at: datetime | None,
) -> Case:
    # Only a resolved case has a resolution time: reopening clears it, so the clock runs again.
    resolved = (resolved_at or now) if moves.case_to == "resolved" else None
    update_case(connection, case.id, status=moves.case_to, resolved_at=resolved, updated_at=now)
    record_event(connection, case.mention_id, "status", case.status, moves.case_to, actor, now, note)
    return replace(case, status=moves.case_to, resolved_at=resolved, updated_at=now)


def _move_triage(
    connection: Connection,
    mention_id: int,
    before: str,
    moves: Transition,
    actor: str,
    now: datetime,
    note: str | None,
) -> None:
    assert moves.triage_to is not None
    write_triage(connection, mention_id, moves.triage_to, actor, now)
    record_event(connection, mention_id, "triage", before, moves.triage_to, actor, now, note)
