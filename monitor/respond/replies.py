"""A case's reply until it is ready to post: drafted (from a template or by hand), edited, submitted,
and approved or sent back, as `[responder]`'s approval rules say.

A reply goes draft -> (awaiting_approval ->) approved, then on through posting.py. Editing a reply not
yet sent makes it a draft again, so an approval given to other words lapses. A reply's idempotency key
is made when it is drafted and kept through every attempt to post it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from monitor.auth.users import User
from monitor.config import Config, ResponderSettings
from monitor.errors import ApprovalError, CaseError, ReplyStateError, ReplyTooLong
from monitor.mention import utcnow
from monitor.ranking import priority_from_key
from monitor.respond.transitions import apply_transition
from monitor.sources.base import Replier, TextLength
from monitor.sources.reply_text import new_idempotency_key, render
from monitor.store.cases import (
    CaseReply,
    get_case,
    get_reply,
    insert_reply,
    latest_reply,
    mention_facts,
    replies_for_case,
    set_reply_if,
    watches_of,
)
from monitor.store.triage import record_event

EDITABLE = ("draft", "awaiting_approval", "approved", "failed")
# Sources without a reply API: what their own reply boxes take (App Store developer responses: 5,970).
MANUAL_LIMITS = {"appstore": 5970, "app_store_connect": 5970}
DEFAULT_MANUAL_LIMIT = 10_000


def require_role(user: User, role: str, what: str) -> None:
    if not user.can(role):
        raise CaseError(f"to {what} needs the {role} role; {user.name} is a {user.role}")


# --- text -----------------------------------------------------------------------------------------------


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


# --- drafting and approval ------------------------------------------------------------------------------


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
    require_role(actor, "responder", "draft a reply")
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
        apply_transition(connection, case.mention_id, "reply", "drafted", actor.name, now)
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
    require_role(user, "responder", "submit a reply")
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
        if reasons:
            apply_transition(connection, case.mention_id, "reply", "awaits_approval", user.name, now)
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
        apply_transition(connection, case.mention_id, "reply", "approved", approver.name, now)
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
        apply_transition(connection, case.mention_id, "reply", "sent_back", approver.name, now)
        return get_reply(connection, reply_id)
