"""Posting an approved reply publicly through its source, exactly once.

After approval a reply goes -> posting -> posted, or -> failed (the source refused it: the text is kept
and `error` says why), or -> unconfirmed (it may have landed). Exactly once:

1. The idempotency key is made when the reply is drafted and sent with every attempt (Mastodon's
   Idempotency-Key header, Bluesky's record key), so the source itself refuses a second copy where it can.
2. `post_reply` claims the row with a compare-and-set UPDATE (approved -> posting) in its own transaction
   before any request: of two clicks, two tabs or two processes exactly one wins, the other is told the
   reply is already being posted. "posting" is on disk before the request leaves.
3. The source's `reply` sends one request and never retries it once it may have arrived: a timeout, a
   5xx or an unreadable answer becomes "unconfirmed", not "failed".
4. A reply left "unconfirmed", or "posting" past its lease (a crash between the request and the record),
   is claimed again the same way, and then the source is asked first (`find_reply`: the record key on
   Bluesky, the thread's replies by our account on Mastodon and Reddit). Found: recorded as posted,
   nothing is sent. Not found: sent again with the same key.
5. The scheduler looks for such replies on their source every few minutes (`settle_unconfirmed`) and
   records those that landed; it never sends one itself, so a reply not found waits for a person.

Sources without a reply API: a person copies the approved text, posts it on the source and says so
(`mark_replied_by_hand`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from monitor.auth.users import User
from monitor.errors import (
    GrumbleError,
    NoReplyApi,
    ReplyRejected,
    ReplyStateError,
    ReplyTooLong,
    ReplyUnconfirmed,
    SourceAuthError,
    SourceError,
    SourceNotFound,
    SourceRateLimited,
)
from monitor.mention import utcnow
from monitor.respond.replies import require_role
from monitor.respond.transitions import apply_transition
from monitor.sources.base import PostedReply, Replier, ReplyTarget
from monitor.store.cases import (
    CaseReply,
    get_case,
    get_reply,
    load_reply,
    mention_facts,
    replies_in,
    set_reply_if,
    update_case,
    update_reply,
)
from monitor.store.schema import case_replies
from monitor.store.triage import record_event

log = logging.getLogger(__name__)

# A "posting" row older than this is taken to be left by a crashed process and may be claimed again.
POSTING_LEASE = timedelta(minutes=5)
# After an unconfirmed attempt, give the source this long to show a reply that did land before looking.
RECHECK_AFTER = timedelta(seconds=30)
# How long after an unconfirmed attempt the scheduler keeps looking for it on the source by itself.
SETTLE_FOR = timedelta(days=2)
SCHEDULER_ACTOR = "scheduler"


def reply_target(engine: Engine, case_id: int) -> ReplyTarget:
    with engine.connect() as connection:
        case = get_case(connection, case_id)
        facts = mention_facts(connection, case.mention_id)
    return ReplyTarget(
        source=facts.source,
        external_id=facts.external_id,
        url=facts.url,
        author=facts.author,
        parent_id=facts.parent_id,
        raw=facts.raw,
    )


@dataclass(frozen=True)
class _Claim:
    reply: CaseReply  # as it was before the claim
    attempt: int
    recovering: bool  # an earlier attempt may have landed: look on the source first


def _claimable(reply: CaseReply, now: datetime, lease: timedelta, recheck_after: timedelta) -> str | None:
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


def _claim(
    engine: Engine, reply_id: int, actor: str, now: datetime, lease: timedelta, recheck: timedelta
) -> _Claim:
    """Take the reply for this caller: written as "posting" before any request leaves."""
    with engine.begin() as connection:
        reply = get_reply(connection, reply_id)
        refusal = _claimable(reply, now, lease, recheck)
        if refusal is not None:
            raise ReplyStateError(refusal)
        won = set_reply_if(
            connection,
            reply_id,
            (reply.status,),
            at_attempt=reply.attempts,
            status="posting",
            attempts=reply.attempts + 1,
            claimed_at=now,
            updated_at=now,
        )
        if not won:
            raise ReplyStateError(
                "this reply is already being posted (another click or process got there first)"
            )
        case = get_case(connection, reply.case_id)
        attempt = reply.attempts + 1
        note = f"attempt {attempt}"
        recovering = reply.status != "approved"
        if recovering:
            note += "; looking on the source for the earlier attempt first"
        record_event(connection, case.mention_id, "reply_posting", reply.status, "posting", actor, now, note)
    return _Claim(reply, attempt, recovering)


def _finish(
    engine: Engine,
    reply_id: int,
    actor: str,
    status: str,
    now: datetime,
    note: str | None,
    attempt: int | None = None,
    **values: Any,
) -> CaseReply:
    """Record an attempt's outcome. A reply the source published is recorded whoever holds the claim now;
    any other outcome only while this attempt still holds it (a later one may have taken over)."""
    with engine.begin() as connection:
        reply = get_reply(connection, reply_id)
        if status in ("posted", "posted_by_hand"):
            if reply.done:
                if reply.remote_id != values.get("remote_id"):
                    log.error(
                        "reply %d: published again as %s; first as %s",
                        reply_id,
                        values.get("remote_id"),
                        reply.remote_id,
                    )
                return reply
            update_reply(connection, reply_id, status=status, updated_at=now, **values)
        elif not set_reply_if(
            connection, reply_id, ("posting",), at_attempt=attempt, status=status, updated_at=now, **values
        ):
            log.warning(
                "reply %d: %s of attempt %s not recorded: a later attempt took over",
                reply_id,
                status,
                attempt,
            )
            return reply
        case = get_case(connection, reply.case_id)
        action = {"posted": "reply_posted", "posted_by_hand": "reply_by_hand", "failed": "reply_failed"}.get(
            status, "reply_unconfirmed"
        )
        record_event(connection, case.mention_id, action, reply.status, status, actor, now, note)
        if status in ("posted", "posted_by_hand"):
            # The first reply that reached the customer stops the response clock; later ones do not.
            first_response_at = case.first_response_at or now
            update_case(connection, case.id, first_response_at=first_response_at, updated_at=now)
            apply_transition(connection, case.mention_id, "reply", "posted", actor, now)
        return get_reply(connection, reply_id)


def _failure_kind(exc: GrumbleError) -> str:
    if isinstance(exc, ReplyRejected):
        return exc.reason
    if isinstance(exc, ReplyTooLong):
        return "too_long"
    if isinstance(exc, SourceAuthError):
        return "auth"
    if isinstance(exc, SourceRateLimited):
        return "rate_limited"
    if isinstance(exc, SourceNotFound):
        return "deleted"
    return "rejected"


def post_reply(
    engine: Engine,
    reply_id: int,
    user: User,
    replier: Replier,
    now: datetime | None = None,
    lease: timedelta = POSTING_LEASE,
    recheck_after: timedelta = RECHECK_AFTER,
) -> CaseReply:
    """Publish an approved reply through its source, exactly once (see the module docstring).

    Returns the reply as recorded: posted (remote_id, remote_url), failed (error, error_kind; the text
    kept) or unconfirmed (error; retry later). Raises ReplyStateError when the reply is not to be posted
    now (not approved, already posted, being posted by another caller)."""
    require_role(user, "responder", "post a reply")
    now = now or utcnow()
    reply = load_reply(engine, reply_id)
    if reply.source != replier.name:
        raise NoReplyApi(f"reply {reply_id} is for {reply.source}, not {replier.name}")
    if reply.status == "approved":
        # Limits can change between approval and posting (an instance lowers its limit): check again.
        length = replier.measure(reply.text)
        if not length.ok:
            message = f"the reply is {length.describe()} on {reply.source}: edit it, then submit it again"
            with engine.begin() as connection:
                if set_reply_if(
                    connection,
                    reply_id,
                    ("approved",),
                    status="failed",
                    error=message,
                    error_kind="too_long",
                    updated_at=now,
                ):
                    case = get_case(connection, reply.case_id)
                    record_event(
                        connection,
                        case.mention_id,
                        "reply_failed",
                        "approved",
                        "failed",
                        user.name,
                        now,
                        message,
                    )
                    return get_reply(connection, reply_id)
    claim = _claim(engine, reply_id, user.name, now, lease, recheck_after)
    target = reply_target(engine, reply.case_id)
    key, text = claim.reply.idempotency_key, claim.reply.text
    if claim.recovering:
        try:
            found = replier.find_reply(target, text, key)
        except GrumbleError as exc:
            message = f"could not check {reply.source} for the earlier attempt, so nothing was sent: {exc}"
            log.warning("reply %d: %s", reply_id, message)
            return _finish(
                engine, reply_id, user.name, "unconfirmed", now, message, claim.attempt, error=message
            )
        if found is not None:
            log.info("reply %d: an earlier attempt had landed at %s; not posting again", reply_id, found.url)
            return _posted(engine, reply_id, user.name, now, found, "found on the source; not posted again")
    try:
        posted = replier.reply(target, text, key)
    except ReplyUnconfirmed as exc:
        message = f"{exc}; the next attempt checks {reply.source} before posting again"
        log.warning("reply %d unconfirmed: %s", reply_id, exc)
        return _finish(engine, reply_id, user.name, "unconfirmed", now, message, claim.attempt, error=message)
    except (SourceError, ReplyTooLong) as exc:
        log.warning("reply %d failed: %s", reply_id, exc)
        return _finish(
            engine,
            reply_id,
            user.name,
            "failed",
            now,
            str(exc),
            claim.attempt,
            error=str(exc),
            error_kind=_failure_kind(exc),
        )
    except Exception as exc:
        # Unknown: it may have landed. Recorded as unconfirmed so the next try looks first.
        message = f"unexpected {type(exc).__name__}: {exc}; the next attempt checks the source first"
        log.exception("reply %d: unexpected error while posting", reply_id)
        _finish(engine, reply_id, user.name, "unconfirmed", now, message, claim.attempt, error=message)
        raise
    log.info("reply %d posted to %s: %s", reply_id, reply.source, posted.url)
    return _posted(engine, reply_id, user.name, now, posted, posted.url)


def _posted(
    engine: Engine, reply_id: int, actor: str, now: datetime, posted: PostedReply, note: str | None
) -> CaseReply:
    # Where the store has it ("pending" until App Store Connect publishes it), on a schema that keeps it.
    state: dict[str, Any] = {"remote_state": posted.state} if "remote_state" in case_replies.c else {}
    return _finish(
        engine,
        reply_id,
        actor,
        "posted",
        now,
        note,
        remote_id=posted.id,
        remote_url=posted.url,
        posted_at=now,
        error=None,
        error_kind=None,
        **state,
    )


def settle_unconfirmed(
    engine: Engine,
    repliers: Callable[[str], Replier | None],
    now: datetime | None = None,
    recheck_after: timedelta = RECHECK_AFTER,
    lease: timedelta = POSTING_LEASE,
) -> list[CaseReply]:
    """Look on the source for replies left "unconfirmed" (or "posting" past their lease) and record
    those that did land as posted. Nothing is ever sent from here: a reply not found stays as it
    was, for a person to retry. Returns the replies it recorded as posted."""
    now = now or utcnow()
    settled = []
    for reply in replies_in(engine, ("unconfirmed", "posting")):
        # Looked at when a Retry click could claim it, and not forever after.
        if _claimable(reply, now, lease, recheck_after) is not None:
            continue
        if reply.claimed_at is None or now >= reply.claimed_at + SETTLE_FOR:
            continue
        replier = repliers(reply.source)
        if replier is None:
            continue
        try:
            found = replier.find_reply(reply_target(engine, reply.case_id), reply.text, reply.idempotency_key)
        except GrumbleError as exc:
            log.info("reply %d: could not check %s for it yet: %s", reply.id, reply.source, exc)
            continue
        if found is None:
            continue
        # Recorded whoever holds the reply now: a published reply is a fact, and a Retry click that
        # raced this check looks on the source first too, so it will not post a second copy.
        posted = _posted(
            engine, reply.id, SCHEDULER_ACTOR, now, found, "found on the source by the scheduler"
        )
        if posted.remote_id == found.id:
            log.info("reply %d: the unconfirmed attempt had landed at %s", reply.id, found.url)
            settled.append(posted)
    return settled


def mark_replied_by_hand(engine: Engine, reply_id: int, user: User, now: datetime | None = None) -> CaseReply:
    """For sources without a reply API: the approved text was copied and posted on the source by a person."""
    require_role(user, "responder", "record a reply")
    now = now or utcnow()
    with engine.begin() as connection:
        reply = get_reply(connection, reply_id)
        if not set_reply_if(
            connection, reply_id, ("approved",), status="posting", claimed_at=now, updated_at=now
        ):
            refusal = _claimable(reply, now, POSTING_LEASE, RECHECK_AFTER) or "this reply is not approved"
            raise ReplyStateError(refusal)
    return _finish(
        engine, reply_id, user.name, "posted_by_hand", now, "copied and posted by hand", posted_at=now
    )
