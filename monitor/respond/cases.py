"""The responder workflow: a case per mention, replies drafted from templates, approval, and posting a
reply publicly through the source exactly once.

Case: status (new, in_progress, waiting_for_approval, replied, resolved, dismissed), assignee (by hand,
or by `[[responder.rules]]` when the mention is scored), tags, notes, and a clock: `opened_at` is when
the case was opened, while the clock (`clock_from`) runs from when the mention reached us, since that is
how long the customer has waited; the response and resolution targets of `[responder]` fix its due times.
Every change writes a `mention_events` row (who, what, when, before, after): one audit trail.

A reply goes draft -> (awaiting_approval ->) approved -> posting -> posted, or -> failed (the source
refused it: the text is kept and `error` says why), or -> unconfirmed (it may have landed). Exactly once:

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
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, update

from monitor.auth.users import User
from monitor.config import Config, ResponderRule, ResponderSettings
from monitor.errors import (
    ApprovalError,
    CaseError,
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
from monitor.ranking import priority_from_key
from monitor.respond.reply_text import new_idempotency_key, render
from monitor.sources.base import PostedReply, Replier, ReplyTarget, TextLength
from monitor.store.cases import (
    AWAITING_RESPONSE,
    Case,
    CaseReply,
    case_for_mention,
    get_case,
    get_reply,
    insert_case,
    insert_reply,
    latest_reply,
    mention_facts,
    replies_for_case,
    replies_in,
    set_reply_if,
    uncased_scored_since,
    update_case,
    update_reply,
    watches_of,
)
from monitor.store.schema import mentions
from monitor.store.triage import record_event, triage_in

log = logging.getLogger(__name__)

# Statuses a person sets; "replied" comes from a posted reply, "waiting_for_approval" from a submitted one.
MANUAL_STATUSES = ("new", "in_progress", "resolved", "dismissed")
TRIAGE_FOR_STATUS = {"resolved": "handled", "dismissed": "dismissed", "new": "open", "in_progress": "open"}
EDITABLE = ("draft", "awaiting_approval", "approved", "failed")
# A "posting" row older than this is taken to be left by a crashed process and may be claimed again.
POSTING_LEASE = timedelta(minutes=5)
# After an unconfirmed attempt, give the source this long to show a reply that did land before looking.
RECHECK_AFTER = timedelta(seconds=30)
# Sources without a reply API: what their own reply boxes take (App Store developer responses: 5,970).
MANUAL_LIMITS = {"appstore": 5970}
DEFAULT_MANUAL_LIMIT = 10_000
MAX_TAGS = 20
MAX_TAG_CHARS = 40
RULES_ACTOR = "rules"
SCHEDULER_ACTOR = "scheduler"


# --- cases ---------------------------------------------------------------------------------------------


def rule_assignee(
    rules: Sequence[ResponderRule], watches: list[str], source: str, label: str | None
) -> str | None:
    """The first matching rule's assignee."""
    for rule in rules:
        if rule.matches(watches, source, label):
            return rule.assignee
    return None


def open_case(
    engine: Engine, mention_id: int, actor: str, settings: ResponderSettings, now: datetime | None = None
) -> Case:
    """The mention's case, opened now if it has none (assigned by the first matching rule)."""
    now = now or utcnow()
    with engine.begin() as connection:
        existing = case_for_mention(connection, mention_id)
        if existing is not None:
            return existing
        facts = mention_facts(connection, mention_id)
        assignee = rule_assignee(
            settings.rules, watches_of(connection, mention_id), facts.source, facts.label
        )
        clock_from = facts.collected_at
        inserted = insert_case(
            connection,
            {
                "mention_id": mention_id,
                "status": "new",
                "assignee": assignee,
                "tags": [],
                "opened_at": now,
                "clock_from": clock_from,
                "response_due_at": clock_from + timedelta(minutes=settings.response_target_minutes),
                "resolution_due_at": clock_from + timedelta(minutes=settings.resolution_target_minutes),
                "created_at": now,
                "updated_at": now,
            },
        )
        if inserted:
            note = f"assigned to {assignee} by a rule" if assignee else None
            record_event(connection, mention_id, "case", None, "new", actor, now, note)
        case = case_for_mention(connection, mention_id)
    assert case is not None
    return case


def apply_rules(
    engine: Engine,
    settings: ResponderSettings,
    now: datetime | None = None,
    window: timedelta = timedelta(days=2),
    limit: int = 1000,
) -> int:
    """Open and assign a case for each recently scored open mention that a rule matches. Returns how many.

    Run after scoring (the scheduler does), since rules may ask for a label."""
    if not settings.rules:
        return 0
    now = now or utcnow()
    opened = 0
    with engine.connect() as connection:
        candidates = [
            (row.id, watches_of(connection, row.id), row.source, row.label)
            for row in uncased_scored_since(connection, now - window, limit)
        ]
    for mention_id, watches, source, label in candidates:
        if rule_assignee(settings.rules, watches, source, label) is not None:
            open_case(engine, mention_id, RULES_ACTOR, settings, now)
            opened += 1
    return opened


def assign(
    engine: Engine, case_id: int, assignee: str | None, actor: str, now: datetime | None = None
) -> Case:
    now = now or utcnow()
    assignee = (assignee or "").strip() or None
    with engine.begin() as connection:
        case = get_case(connection, case_id)
        if case.assignee != assignee:
            update_case(connection, case_id, assignee=assignee, updated_at=now)
            record_event(connection, case.mention_id, "assign", case.assignee, assignee, actor, now)
        return get_case(connection, case_id)


def _sync_triage(connection: Connection, mention_id: int, status: str, actor: str, now: datetime) -> None:
    """Resolving a case marks its mention handled, dismissing it dismissed, reopening it open."""
    triage = TRIAGE_FOR_STATUS.get(status)
    if triage is None:
        return
    current = connection.scalar(
        mentions.select().with_only_columns(mentions.c.triage).where(mentions.c.id == mention_id)
    )
    if current == triage:
        return
    connection.execute(
        update(mentions)
        .where(mentions.c.id == mention_id)
        .values(triage=triage, triaged_at=now, triaged_by=actor)
    )
    record_event(connection, mention_id, "triage", current, triage, actor, now, "with the case")


def set_status(engine: Engine, case_id: int, status: str, actor: str, now: datetime | None = None) -> Case:
    if status not in MANUAL_STATUSES:
        raise CaseError(
            f"a case cannot be set to {status!r} by hand; choose {', '.join(MANUAL_STATUSES)} "
            "(replied comes from posting a reply, waiting_for_approval from submitting one)"
        )
    now = now or utcnow()
    with engine.begin() as connection:
        case = get_case(connection, case_id)
        if case.status == status:
            return case
        values: dict[str, Any] = {"status": status, "updated_at": now}
        values["resolved_at"] = now if status == "resolved" else None
        update_case(connection, case_id, **values)
        record_event(connection, case.mention_id, "status", case.status, status, actor, now)
        _sync_triage(connection, case.mention_id, status, actor, now)
        return get_case(connection, case_id)


# The other direction of TRIAGE_FOR_STATUS: what marking a mention does to its case.
STATUS_FOR_TRIAGE = {"handled": "resolved", "dismissed": "dismissed"}
CLOSED = ("resolved", "dismissed")


def triage(engine: Engine, mention_id: int, state: str, actor: str, now: datetime | None = None) -> None:
    """Mark a mention handled, dismissed or open again, and move its case along in the same transaction:
    handled resolves it, dismissed dismisses it, reopening a closed case puts it back in progress. So the
    inbox, the case and the digest never disagree about whether someone dealt with it."""
    now = now or utcnow()
    with engine.begin() as connection:
        if triage_in(connection, mention_id, state, actor) is None:
            return
        case = case_for_mention(connection, mention_id)
        if case is None:
            return
        status = STATUS_FOR_TRIAGE.get(state) or ("in_progress" if case.status in CLOSED else None)
        if status is None or status == case.status:
            return
        update_case(
            connection,
            case.id,
            status=status,
            updated_at=now,
            resolved_at=now if status == "resolved" else None,
        )
        record_event(connection, mention_id, "status", case.status, status, actor, now, "with the mention")


def add_note(engine: Engine, case_id: int, text: str, actor: str, now: datetime | None = None) -> None:
    """An internal note: kept in the audit trail, never sent anywhere."""
    text = text.strip()
    if not text:
        raise CaseError("a note needs some text")
    now = now or utcnow()
    with engine.begin() as connection:
        case = get_case(connection, case_id)
        update_case(connection, case_id, updated_at=now)
        record_event(connection, case.mention_id, "note", None, None, actor, now, text)


def clean_tags(tags: Sequence[str]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags:
        value = " ".join(str(tag).split())[:MAX_TAG_CHARS]
        if value and value.lower() not in (t.lower() for t in cleaned):
            cleaned.append(value)
    if len(cleaned) > MAX_TAGS:
        raise CaseError(f"a case takes at most {MAX_TAGS} tags; found {len(cleaned)}")
    return cleaned


def set_tags(
    engine: Engine, case_id: int, tags: Sequence[str], actor: str, now: datetime | None = None
) -> Case:
    now = now or utcnow()
    cleaned = clean_tags(tags)
    with engine.begin() as connection:
        case = get_case(connection, case_id)
        if list(case.tags) != cleaned:
            update_case(connection, case_id, tags=cleaned, updated_at=now)
            record_event(connection, case.mention_id, "tags", list(case.tags), cleaned, actor, now)
        return get_case(connection, case_id)


# --- reply text ----------------------------------------------------------------------------------------


def template_values(engine: Engine, config: Config, mention_id: int) -> dict[str, str | None]:
    """{author}, {brand}, {product}, {link} for a mention: brand and product from its first watch that
    names them, else from [responder]."""
    with engine.connect() as connection:
        facts = mention_facts(connection, mention_id)
        watch_names = watches_of(connection, mention_id)
    watches = [watch for watch in config.watches if watch.name in watch_names]
    brand = next((w.brand for w in watches if w.brand), None) or config.responder.brand
    product = next((w.product for w in watches if w.product), None) or config.responder.product
    return {"author": facts.author, "brand": brand, "product": product, "link": facts.url}


def render_template(engine: Engine, config: Config, mention_id: int, template_name: str) -> str:
    for template in config.reply_templates:
        if template.name == template_name:
            return render(template.text, template_values(engine, config, mention_id), template.name)
    known = ", ".join(t.name for t in config.reply_templates) or "none"
    raise CaseError(f"no reply template named {template_name!r}; configured: {known}")


def measure(source: str, text: str, replier: Replier | None) -> TextLength:
    """The length as the source counts it; sources without a reply API by their own reply boxes."""
    if replier is not None:
        return replier.measure(text)
    return TextLength(len(text), MANUAL_LIMITS.get(source, DEFAULT_MANUAL_LIMIT), "characters")


def _check_length(length: TextLength, source: str) -> None:
    if length.count == 0:
        raise ReplyTooLong(f"the reply to this {source} mention is empty")
    if not length.ok:
        raise ReplyTooLong(
            f"the reply is {length.describe()} on {source}: shorten it by {length.count - length.limit:,}"
        )


# --- replies -------------------------------------------------------------------------------------------


def current_reply(engine: Engine, case_id: int) -> CaseReply | None:
    """The case's latest reply, whatever its state."""
    replies = replies_for_case(engine, case_id)
    return replies[-1] if replies else None


def save_draft(
    engine: Engine,
    case_id: int,
    text: str,
    actor: User,
    template: str | None = None,
    now: datetime | None = None,
) -> CaseReply:
    """Write the case's draft: edits the reply not yet sent (an approval given to other words lapses),
    or starts a new one with a fresh idempotency key."""
    _require(actor, "responder", "draft a reply")
    if not text.strip():
        raise CaseError("a reply needs some text")
    now = now or utcnow()
    with engine.begin() as connection:
        case = get_case(connection, case_id)
        facts = mention_facts(connection, case.mention_id)
        latest = latest_reply(connection, case_id)
        if latest is not None and latest.status in ("posting", "unconfirmed"):
            raise ReplyStateError(
                "the last reply may already be public (it is being posted or was not confirmed): "
                "retry it, which checks the source first, before writing another"
            )
        if latest is not None and latest.status in EDITABLE:
            if latest.text == text and latest.status == "draft":
                return latest
            changed = set_reply_if(
                connection,
                latest.id,
                EDITABLE,
                text=text,
                template=template or latest.template,
                status="draft",
                approved_by=None,
                approved_at=None,
                updated_at=now,
            )
            if not changed:
                raise ReplyStateError("the reply changed while you were editing it; reload and try again")
            record_event(connection, case.mention_id, "reply_edit", latest.status, "draft", actor.name, now)
            reply_id = latest.id
        else:
            reply_id = insert_reply(
                connection,
                {
                    "case_id": case_id,
                    "source": facts.source,
                    "status": "draft",
                    "text": text,
                    "template": template,
                    "idempotency_key": new_idempotency_key(),
                    "author": actor.name,
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            note = f"from template {template}" if template else None
            record_event(connection, case.mention_id, "reply_draft", None, "draft", actor.name, now, note)
        if case.status == "new":
            update_case(connection, case_id, status="in_progress", updated_at=now)
            record_event(connection, case.mention_id, "status", "new", "in_progress", actor.name, now)
        return get_reply(connection, reply_id)


def approval_reasons(user: User, priority: float, settings: ResponderSettings) -> list[str]:
    """Why a reply by `user` to a mention of this priority waits for an approver (none: it does not)."""
    reasons = []
    if user.role in settings.approval_roles:
        reasons.append(f"replies by the {user.role} role need approval")
    if settings.approval_min_priority is not None and priority >= settings.approval_min_priority:
        reasons.append(f"priority {priority:.2f} is at least {settings.approval_min_priority:g}")
    return reasons


def submit_reply(
    engine: Engine,
    reply_id: int,
    user: User,
    settings: ResponderSettings,
    length: TextLength,
    now: datetime | None = None,
) -> CaseReply:
    """Check the length, then approve at once or wait for an approver, as `[responder]` says."""
    _require(user, "responder", "submit a reply")
    now = now or utcnow()
    with engine.begin() as connection:
        reply = get_reply(connection, reply_id)
        case = get_case(connection, reply.case_id)
        if reply.status not in ("draft", "failed"):
            raise ReplyStateError(f"this reply is {reply.status.replace('_', ' ')}, not a draft to submit")
        _check_length(length, reply.source)
        facts = mention_facts(connection, case.mention_id)
        reasons = approval_reasons(user, priority_from_key(facts.rank_key, now), settings)
        status = "awaiting_approval" if reasons else "approved"
        if not set_reply_if(
            connection,
            reply_id,
            ("draft", "failed"),
            status=status,
            error=None,
            error_kind=None,
            updated_at=now,
        ):
            raise ReplyStateError("the reply changed meanwhile; reload and try again")
        note = "waits for approval: " + "; ".join(reasons) if reasons else "no approval needed"
        record_event(connection, case.mention_id, "reply_submit", reply.status, status, user.name, now, note)
        if reasons and case.status in AWAITING_RESPONSE:
            update_case(connection, case.id, status="waiting_for_approval", updated_at=now)
            record_event(
                connection, case.mention_id, "status", case.status, "waiting_for_approval", user.name, now
            )
        return get_reply(connection, reply_id)


def can_approve(user: User, reply: CaseReply, settings: ResponderSettings) -> bool:
    return user.can(settings.approver_role) and user.name != reply.author


def approve_reply(
    engine: Engine, reply_id: int, approver: User, settings: ResponderSettings, now: datetime | None = None
) -> CaseReply:
    now = now or utcnow()
    with engine.begin() as connection:
        reply = get_reply(connection, reply_id)
        if not approver.can(settings.approver_role):
            raise ApprovalError(
                f"approving replies needs the {settings.approver_role} role; "
                f"{approver.name} is a {approver.role}"
            )
        if approver.name == reply.author:
            raise ApprovalError("a reply is approved by someone other than the person who wrote it")
        if not set_reply_if(
            connection,
            reply_id,
            ("awaiting_approval",),
            status="approved",
            approved_by=approver.name,
            approved_at=now,
            updated_at=now,
        ):
            raise ReplyStateError(f"this reply is {reply.status.replace('_', ' ')}, not waiting for approval")
        case = get_case(connection, reply.case_id)
        record_event(
            connection, case.mention_id, "reply_approve", reply.status, "approved", approver.name, now
        )
        if case.status == "waiting_for_approval":
            update_case(connection, case.id, status="in_progress", updated_at=now)
            record_event(
                connection, case.mention_id, "status", case.status, "in_progress", approver.name, now
            )
        return get_reply(connection, reply_id)


def return_reply(
    engine: Engine,
    reply_id: int,
    approver: User,
    settings: ResponderSettings,
    reason: str,
    now: datetime | None = None,
) -> CaseReply:
    """An approver sends the reply back to its author as a draft, saying why."""
    now = now or utcnow()
    if not approver.can(settings.approver_role):
        raise ApprovalError(f"sending a reply back needs the {settings.approver_role} role")
    with engine.begin() as connection:
        reply = get_reply(connection, reply_id)
        if not set_reply_if(connection, reply_id, ("awaiting_approval",), status="draft", updated_at=now):
            raise ReplyStateError(f"this reply is {reply.status.replace('_', ' ')}, not waiting for approval")
        case = get_case(connection, reply.case_id)
        record_event(
            connection,
            case.mention_id,
            "reply_return",
            reply.status,
            "draft",
            approver.name,
            now,
            reason or None,
        )
        if case.status == "waiting_for_approval":
            update_case(connection, case.id, status="in_progress", updated_at=now)
            record_event(
                connection, case.mention_id, "status", case.status, "in_progress", approver.name, now
            )
        return get_reply(connection, reply_id)


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
            case_values: dict[str, Any] = {"updated_at": now}
            if case.first_response_at is None:
                case_values["first_response_at"] = now
            if case.status in AWAITING_RESPONSE:
                case_values["status"] = "replied"
                record_event(connection, case.mention_id, "status", case.status, "replied", actor, now)
            update_case(connection, case.id, **case_values)
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
    _require(user, "responder", "post a reply")
    now = now or utcnow()
    reply = _load(engine, reply_id)
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
    )


# How long after an unconfirmed attempt the scheduler keeps looking for it on the source by itself.
SETTLE_FOR = timedelta(days=2)


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
    _require(user, "responder", "record a reply")
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


def _require(user: User, role: str, what: str) -> None:
    if not user.can(role):
        raise CaseError(f"to {what} needs the {role} role; {user.name} is a {user.role}")


def _load(engine: Engine, reply_id: int) -> CaseReply:
    with engine.connect() as connection:
        return get_reply(connection, reply_id)
