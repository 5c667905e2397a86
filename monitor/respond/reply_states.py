"""How a reply moves: one table of moves (REPLY_MOVES), one writer (`move_reply`).

A reply goes draft -> (awaiting_approval ->) approved -> posting -> posted, or -> failed (the source
refused it), -> unconfirmed (it may have landed), or, for a source without a reply API, approved ->
posted_by_hand. Editing a reply not yet sent makes it a draft again. Every move is one compare-and-set
of the reply's row, its `mention_events` row and, where the table says so, the case's transition
(respond/transitions.py), all in the caller's transaction. Callers (replies.py, reply_claim.py,
posting.py) decide which move a person's click is and what goes with it (the text, the attempt, the
approver); only the exactly-once protocol (posting.py) splits a post into separate transactions around
the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection

from monitor.errors import ReplyStateError
from monitor.respond.transitions import apply_transition
from monitor.store.cases import REPLY_STATUSES, Case, CaseReply
from monitor.store.reply_moves import insert_reply_row, move_reply_row, stamp_first_response
from monitor.store.triage import record_event

DONE = ("posted", "posted_by_hand")
# A reply not yet sent: its text may still change (an approval given to other words lapses).
EDITABLE = ("draft", "awaiting_approval", "approved", "failed")
SUBMITTABLE = ("draft", "failed")
# An approved reply, or one whose earlier attempt may have landed (looked for on the source first).
CLAIMABLE = ("approved", "posting", "unconfirmed")
NOT_DONE = tuple(status for status in REPLY_STATUSES if status not in DONE)


@dataclass(frozen=True)
class ReplyMove:
    """What one move does to a reply, and what it writes."""

    event: str  # the mention_events kind (respond/history.py words it)
    from_statuses: tuple[str, ...]
    to: str
    case: str | None = None  # the case transition ("reply", case) that follows, if any
    # A published reply is a fact: recorded whatever state the row is in now. Every other move
    # compares against the status its caller read, so a concurrent change makes it lose, not overwrite.
    whatever_state: bool = False


# The first draft of a reply: a row inserted, not moved.
START = ReplyMove("reply_draft", (), "draft", "drafted")

REPLY_MOVES: dict[str, ReplyMove] = {
    "edit": ReplyMove("reply_edit", EDITABLE, "draft", "drafted"),
    "submit": ReplyMove("reply_submit", SUBMITTABLE, "approved"),
    "submit_for_approval": ReplyMove("reply_submit", SUBMITTABLE, "awaiting_approval", "awaits_approval"),
    "approve": ReplyMove("reply_approve", ("awaiting_approval",), "approved", "approved"),
    "send_back": ReplyMove("reply_send_back", ("awaiting_approval",), "draft", "sent_back"),
    # The source's limit fell between approval and posting: refused before anything is sent.
    "too_long": ReplyMove("reply_failed", ("approved",), "failed"),
    "claim": ReplyMove("reply_posting", CLAIMABLE, "posting"),
    "fail": ReplyMove("reply_failed", ("posting",), "failed"),
    "unconfirm": ReplyMove("reply_unconfirmed", ("posting",), "unconfirmed"),
    "post": ReplyMove("reply_posted", NOT_DONE, "posted", "posted", whatever_state=True),
    "post_by_hand": ReplyMove("reply_by_hand", ("approved",), "posted_by_hand", "posted"),
}


class Moved(NamedTuple):
    """A reply and its case after a move."""

    reply: CaseReply
    case: Case


def words(status: str) -> str:
    return status.replace("_", " ")


def refusal(name: str, reply: CaseReply) -> str:
    """Why `name` cannot move this reply now, in words for the person who tried."""
    if reply.status in DONE:
        where = f" at {reply.remote_url}" if reply.remote_url else ""
        return f"this reply is already posted{where}"
    if name in ("submit", "submit_for_approval"):
        return f"this reply is {words(reply.status)}, not a draft to submit"
    if name in ("approve", "send_back"):
        return f"this reply is {words(reply.status)}, not waiting for approval"
    if name == "edit":
        return (
            "the last reply may already be public (it is being posted or was not confirmed): "
            "retry it, which checks the source first, before writing another"
        )
    if reply.status == "awaiting_approval":
        return "this reply waits for approval"
    return f"this reply is {words(reply.status)}: it cannot be {words(REPLY_MOVES[name].to)} from there"


def allowed(name: str, status: str) -> bool:
    return status in REPLY_MOVES[name].from_statuses


def move_reply(
    connection: Connection,
    reply: CaseReply,
    case: Case,
    name: str,
    actor: str,
    now: datetime,
    note: str | None = None,
    *,
    at_attempt: int | None = None,
    at_version: int | None = None,
    **values: Any,
) -> Moved | None:
    """Move `reply` (as the caller read it) by the table's `name`, with `values` written alongside, its
    event and the case's transition. ReplyStateError when the table does not allow the move from the
    reply's status; None when another caller changed the reply since it was read (nothing written)."""
    move = REPLY_MOVES[name]
    if reply.status not in move.from_statuses:
        raise ReplyStateError(refusal(name, reply))
    statuses = move.from_statuses if move.whatever_state else (reply.status,)
    moved = move_reply_row(
        connection,
        reply.id,
        statuses,
        at_attempt=at_attempt,
        at_version=at_version,
        status=move.to,
        updated_at=now,
        **values,
    )
    if moved is None:
        return None
    return Moved(moved, _follow(connection, move, case, reply.status, actor, now, note))


def start_reply(
    connection: Connection, case: Case, values: dict[str, Any], actor: str, now: datetime, note: str | None
) -> Moved:
    """Insert a case's new reply as a draft, with its event and the case's transition."""
    reply = insert_reply_row(connection, {**values, "case_id": case.id, "status": START.to})
    return Moved(reply, _follow(connection, START, case, None, actor, now, note))


def _follow(
    connection: Connection,
    move: ReplyMove,
    case: Case,
    before: str | None,
    actor: str,
    now: datetime,
    note: str | None,
) -> Case:
    record_event(connection, case.mention_id, move.event, before, move.to, actor, now, note)
    if move.to in DONE:
        stamp_first_response(connection, case.id, now)
    if move.case is None:
        return case
    after = apply_transition(connection, case.mention_id, "reply", move.case, actor, now, case=case)
    return after or case
