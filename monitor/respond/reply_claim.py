"""Taking a reply for one attempt to post it (posting.py's step 2): "posting" is written, by
compare-and-set on the status and the attempt count, in a transaction that commits before the request
leaves; of two callers exactly one gets the claim. A reply whose earlier attempt may have landed is
claimed again only after a wait, and then looked for on the source first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from monitor.errors import ReplyStateError
from monitor.respond.reply_states import move_reply
from monitor.sources.base import Replier, ReplyTarget
from monitor.store.cases import Case, CaseReply

# A "posting" row older than this is taken to be left by a crashed process and may be claimed again.
POSTING_LEASE = timedelta(minutes=5)
# After an unconfirmed attempt, give the source this long to show a reply that did land before looking.
RECHECK_AFTER = timedelta(seconds=30)


@dataclass(frozen=True)
class Claim:
    """A reply taken for one attempt: written as "posting" before any request leaves."""

    reply: CaseReply  # as it was before the claim
    attempt: int
    recovering: bool  # an earlier attempt may have landed: look on the source first
    target: ReplyTarget


def claimable(reply: CaseReply, now: datetime, lease: timedelta, recheck_after: timedelta) -> str | None:
    """None when the reply may be claimed now, else why not."""
    if reply.status == "approved":
        return None
    if reply.status in ("posted", "posted_by_hand"):
        where = f" at {reply.remote_url}" if reply.remote_url else ""
        return f"this reply is already posted{where}"
    if reply.status in ("posting", "unconfirmed"):
        wait = lease if reply.status == "posting" else recheck_after
        if reply.claimed_at is None or reply.claimed_at + wait <= now:
            return None
        if reply.status == "posting":
            return (
                f"this reply is being posted (since {reply.claimed_at:%H:%M:%S} UTC); if that attempt died, "
                f"retry after {reply.claimed_at + wait:%H:%M:%S} UTC, which checks the source first"
            )
        return (
            f"the last attempt was not confirmed; retry after {reply.claimed_at + wait:%H:%M:%S} UTC, "
            "which checks the source before posting again"
        )
    if reply.status == "awaiting_approval":
        return "this reply waits for approval"
    return f"this reply is a {reply.status} reply: submit it first"


def claim_in(
    connection: Connection,
    reply: CaseReply,
    case: Case,
    target: ReplyTarget,
    replier: Replier,
    actor: str,
    now: datetime,
    lease: timedelta = POSTING_LEASE,
    recheck: timedelta = RECHECK_AFTER,
) -> Claim | CaseReply:
    """Take the reply for this caller in the caller's transaction, which must commit before the request.
    An approved text the source's limit now refuses (an instance lowered it since approval) is recorded
    as failed instead, and returned: nothing is to be sent."""
    if reply.status == "approved":
        length = replier.measure(reply.text)
        if not length.ok:
            message = f"the reply is {length.describe()} on {reply.source}: edit it, then submit it again"
            refused = move_reply(
                connection, reply, case, "too_long", actor, now, message, error=message, error_kind="too_long"
            )
            if refused is not None:
                return refused.reply
    why_not = claimable(reply, now, lease, recheck)
    if why_not is not None:
        raise ReplyStateError(why_not)
    attempt = reply.attempts + 1
    recovering = reply.status != "approved"
    note = f"attempt {attempt}" + (
        "; looking on the source for the earlier attempt first" if recovering else ""
    )
    won = move_reply(
        connection,
        reply,
        case,
        "claim",
        actor,
        now,
        note,
        at_attempt=reply.attempts,
        attempts=attempt,
        claimed_at=now,
    )
    if won is None:
        raise ReplyStateError("this reply is already being posted (another click or process got there first)")
    return Claim(reply, attempt, recovering, target)
