"""Posting an approved reply publicly through its source, exactly once.

After approval a reply goes -> posting -> posted, or -> failed (the source refused it: the text is kept
and `error` says why), or -> unconfirmed (it may have landed). Exactly once:

1. The idempotency key is made when the reply is drafted and sent with every attempt (Mastodon's
   Idempotency-Key header, Bluesky's record key), so the source itself refuses a second copy where it can.
2. `post_reply` claims the row with a compare-and-set UPDATE (approved -> posting) in its own transaction
   before any request: of two clicks, two tabs or two processes exactly one wins, the other is told the
   reply is already being posted. "posting" is on disk before the request leaves. The outcome is
   recorded in one more transaction: those two, around the request, are the only ones a post takes
   (each move is reply_states.py's, with its event and the case's transition).
3. The source's `reply` sends one request and never retries it once it may have arrived: a timeout, a
   5xx or an unreadable answer becomes "unconfirmed", not "failed".
4. A reply left "unconfirmed", or "posting" past its lease (a crash between the request and the record),
   is claimed again the same way, and then the source is asked first (`find_reply`: the record key on
   Bluesky, the thread's replies by our account on Mastodon and Reddit). Found: recorded as posted,
   nothing is sent. Not found: sent again with the same key.
5. The scheduler looks for such replies on their source every few minutes (`settle_unconfirmed`) and
   records those that landed; it never sends one itself, so a reply not found waits for a person.

Sources without a reply API: a person copies the approved text, posts it on the source and says so
with the text or link that was sent (`mark_replied_by_hand`), kept in the mention's history.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
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
from monitor.respond.reply_claim import POSTING_LEASE as POSTING_LEASE
from monitor.respond.reply_claim import RECHECK_AFTER as RECHECK_AFTER
from monitor.respond.reply_claim import Claim, claim_in, claimable
from monitor.respond.reply_states import move_reply
from monitor.sources.base import PostedReply, Replier, ReplyTarget
from monitor.store.cases import CaseReply, get_case, get_reply, mention_facts, replies_in
from monitor.store.schema import case_replies

log = logging.getLogger(__name__)

# How long after an unconfirmed attempt the scheduler keeps looking for it on the source by itself.
SETTLE_FOR = timedelta(days=2)
SCHEDULER_ACTOR = "scheduler"
# What "Mark replied by hand" keeps of what was sent: a link is also the reply's remote_url.
LINK_PREFIXES = ("https://", "http://")


def reply_target(engine: Engine, case_id: int) -> ReplyTarget:
    with engine.connect() as connection:
        case = get_case(connection, case_id)
        return target_of(mention_facts(connection, case.mention_id))


def target_of(facts: Any) -> ReplyTarget:
    """Where a reply goes, from the mention's facts (store.cases.mention_facts)."""
    return ReplyTarget(
        source=facts.source,
        external_id=facts.external_id,
        url=facts.url,
        author=facts.author,
        parent_id=facts.parent_id,
        raw=facts.raw,
    )


def _finish(
    engine: Engine,
    reply_id: int,
    actor: str,
    move: str,
    now: datetime,
    note: str | None,
    attempt: int | None = None,
    **values: Any,
) -> CaseReply:
    """Record an attempt's outcome. A reply the source published is recorded whoever holds the claim now;
    any other outcome only while this attempt still holds it (a later one may have taken over)."""
    with engine.begin() as connection:
        reply = get_reply(connection, reply_id)
        if move == "post" and reply.done:
            if reply.remote_id != values.get("remote_id"):
                log.error(
                    "reply %d: published again as %s; first as %s",
                    reply_id,
                    values.get("remote_id"),
                    reply.remote_id,
                )
            return reply
        if move != "post" and (reply.status != "posting" or reply.attempts != attempt):
            log.warning(
                "reply %d: %s of attempt %s not recorded: a later attempt took over", reply_id, move, attempt
            )
            return reply
        case = get_case(connection, reply.case_id)
        moved = move_reply(connection, reply, case, move, actor, now, note, at_attempt=attempt, **values)
        if moved is None:
            log.warning(
                "reply %d: %s of attempt %s not recorded: it changed meanwhile", reply_id, move, attempt
            )
            return get_reply(connection, reply_id)
        return moved.reply


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
    with engine.begin() as connection:
        reply = get_reply(connection, reply_id)
        if reply.source != replier.name:
            raise NoReplyApi(f"reply {reply_id} is for {reply.source}, not {replier.name}")
        case = get_case(connection, reply.case_id)
        target = target_of(mention_facts(connection, case.mention_id))
        claim = claim_in(connection, reply, case, target, replier, user.name, now, lease, recheck_after)
        if not isinstance(claim, Claim):
            return claim  # refused before anything was sent
    return send_claimed(engine, claim, replier, user.name, now)


def send_claimed(engine: Engine, claim: Claim, replier: Replier, actor: str, now: datetime) -> CaseReply:
    """The request of a claimed attempt (its claim committed), then its outcome in one transaction."""
    reply_id, source = claim.reply.id, claim.reply.source
    key, text = claim.reply.idempotency_key, claim.reply.text
    if claim.recovering:
        try:
            found = replier.find_reply(claim.target, text, key)
        except GrumbleError as exc:
            message = f"could not check {source} for the earlier attempt, so nothing was sent: {exc}"
            log.warning("reply %d: %s", reply_id, message)
            return _finish(engine, reply_id, actor, "unconfirm", now, message, claim.attempt, error=message)
        if found is not None:
            log.info("reply %d: an earlier attempt had landed at %s; not posting again", reply_id, found.url)
            return _posted(engine, reply_id, actor, now, found, "found on the source; not posted again")
    try:
        posted = replier.reply(claim.target, text, key)
    except ReplyUnconfirmed as exc:
        message = f"{exc}; the next attempt checks {source} before posting again"
        log.warning("reply %d unconfirmed: %s", reply_id, exc)
        return _finish(engine, reply_id, actor, "unconfirm", now, message, claim.attempt, error=message)
    except (SourceError, ReplyTooLong) as exc:
        log.warning("reply %d failed: %s", reply_id, exc)
        return _finish(
            engine,
            reply_id,
            actor,
            "fail",
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
        _finish(engine, reply_id, actor, "unconfirm", now, message, claim.attempt, error=message)
        raise
    log.info("reply %d posted to %s: %s", reply_id, source, posted.url)
    return _posted(engine, reply_id, actor, now, posted, posted.url)


def _posted(
    engine: Engine, reply_id: int, actor: str, now: datetime, posted: PostedReply, note: str | None
) -> CaseReply:
    # Where the store has it ("pending" until App Store Connect publishes it), on a schema that keeps it.
    state: dict[str, Any] = {"remote_state": posted.state} if "remote_state" in case_replies.c else {}
    return _finish(
        engine,
        reply_id,
        actor,
        "post",
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
        if claimable(reply, now, lease, recheck_after) is not None:
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


def mark_replied_by_hand(
    engine: Engine, reply_id: int, user: User, now: datetime | None = None, sent: str | None = None
) -> CaseReply:
    """For sources without a reply API: a person posted the approved reply on the source and says what
    was sent, the text or a link to it (None: the approved text as it was copied). What was sent goes
    into the mention's history; a link is also where the reply is."""
    require_role(user, "responder", "record a reply")
    now = now or utcnow()
    what = (sent or "").strip()
    with engine.begin() as connection:
        reply = get_reply(connection, reply_id)
        if reply.status != "approved":
            raise ReplyStateError(
                claimable(reply, now, POSTING_LEASE, RECHECK_AFTER) or "this reply is not approved"
            )
        what = what or reply.text
        link = what if what.startswith(LINK_PREFIXES) and not any(c.isspace() for c in what) else None
        case = get_case(connection, reply.case_id)
        moved = move_reply(
            connection,
            reply,
            case,
            "post_by_hand",
            user.name,
            now,
            f"sent: {what}",
            claimed_at=now,
            posted_at=now,
            remote_url=link,
        )
        if moved is None:
            raise ReplyStateError("the reply changed meanwhile; reload and try again")
        return moved.reply
