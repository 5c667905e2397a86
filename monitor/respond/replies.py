"""A case's reply until it is ready to post: drafted (from a template or by hand), edited, submitted,
and approved or sent back, as `[responder]`'s approval rules say (reply_approval.py).

A reply goes draft -> (awaiting_approval ->) approved, then on through posting.py; every move is one
entry of reply_states.py's table, written by its one writer. Editing a reply not yet sent makes it a
draft again, so an approval given to other words lapses. Every text is kept as a version with who
wrote it; a draft saved over a version someone else wrote since it was loaded (`base_version`) is
refused with both texts (DraftConflict), never silently replaced. A reply's idempotency key is made
when it is drafted and kept through every attempt to post it.

Each step has an engine function (its own transaction) and a `*_in` function over the caller's
connection, so a click that is several steps (reply_send.py) is one transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine

from monitor.auth.users import User
from monitor.config import Config, ResponderSettings
from monitor.errors import ApprovalError, CaseError, DraftConflict, ReplyStateError, ReplyTooLong
from monitor.mention import utcnow
from monitor.ranking import priority_from_key
from monitor.respond.reply_approval import approval_reasons as approval_reasons
from monitor.respond.reply_approval import (
    approver_refusal,
    authors,
    choose_approver,
    default_approver,
    require_approver,
    submit_note,
    version_reasons,
)
from monitor.respond.reply_states import EDITABLE as EDITABLE
from monitor.respond.reply_states import Moved, allowed, move_reply, refusal, start_reply
from monitor.sources.base import Replier, TextLength
from monitor.sources.reply_text import new_idempotency_key, render
from monitor.store.cases import (
    Case,
    CaseReply,
    get_case,
    get_reply,
    latest_reply,
    mention_facts,
    replies_for_case,
    watches_of,
)
from monitor.store.reply_moves import ReplyVersion, add_version, versions_of
from monitor.surface.render import mention_link

# approval_reasons and EDITABLE are re-exported (`as`): the panel and the API read a reply's rules here.

# Sources without a reply API: what their own reply boxes take (App Store developer responses: 5,970).
MANUAL_LIMITS = {"appstore": 5970, "app_store_connect": 5970}
DEFAULT_MANUAL_LIMIT = 10_000


def require_role(user: User, role: str, what: str) -> None:
    if not user.can(role):
        raise CaseError(f"to {what} needs the {role} role; {user.name} is a {user.role}")


# --- text -----------------------------------------------------------------------------------------------


def template_values(engine: Engine, config: Config, mention_id: int) -> dict[str, str | None]:
    """{author}, {brand}, {product}, {link}, {case_link} for a mention: brand and product from its first
    watch that names them, else from [responder] (the product, else the watch's own name); the case
    link is its page in the dashboard."""
    with engine.connect() as connection:
        facts = mention_facts(connection, mention_id)
        watch_names = watches_of(connection, mention_id)
    watches = [watch for watch in config.watches if watch.name in watch_names]
    brand = next((w.brand for w in watches if w.brand), None) or config.responder.brand
    product = next((w.product for w in watches if w.product), None) or config.responder.product
    product = product or next((w.name for w in watches), None)
    return {
        "author": facts.author,
        "brand": brand,
        "product": product,
        "link": facts.url,
        "case_link": mention_link(config.dashboard.public_url, mention_id),
    }


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


# --- drafting -------------------------------------------------------------------------------------------


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
    base_version: int | None = None,
) -> CaseReply:
    """Write the case's draft: edits the reply not yet sent (an approval given to other words lapses),
    or starts a new one with a fresh idempotency key. `base_version`: the version the writer loaded
    (0: none); when someone else saved another since, DraftConflict (None: no check)."""
    now = now or utcnow()
    with engine.begin() as connection:
        case = get_case(connection, case_id)
        source = mention_facts(connection, case.mention_id).source
        return draft_in(connection, case, source, text, actor, now, template, base_version).reply


def draft_in(
    connection: Connection,
    case: Case,
    source: str,
    text: str,
    actor: User,
    now: datetime,
    template: str | None = None,
    base_version: int | None = None,
) -> Moved:
    """save_draft in the caller's transaction; the reply and the case afterwards."""
    require_role(actor, "responder", "draft a reply")
    if not text.strip():
        raise CaseError("a reply needs some text")
    latest = latest_reply(connection, case.id)
    if latest is not None and latest.status in ("posting", "unconfirmed"):
        raise ReplyStateError(refusal("edit", latest))
    if latest is None or latest.status not in EDITABLE:
        return _start(connection, case, source, text, actor, now, template, base_version)
    if latest.text == text and latest.status == "draft":
        return Moved(latest, case)
    versions = versions_of(connection, latest.id)
    if base_version is not None:
        _refuse_conflict(latest, versions, text, actor, base_version)
    lapsed = latest.approved_by if latest.status == "approved" else None
    version = latest.version + 1 if latest.text != text else latest.version
    note = f"{lapsed} had approved it" if lapsed else None
    moved = move_reply(
        connection,
        latest,
        case,
        "edit",
        actor.name,
        now,
        note,
        at_version=latest.version,
        text=text,
        template=template or latest.template,
        approved_by=None,
        approved_at=None,
        approver=None,
        version=version,
    )
    if moved is None:
        raise ReplyStateError("the reply changed while you were editing it; reload and try again")
    if version != latest.version:
        add_version(connection, latest.id, version, text, actor.name, actor.role, now, lapsed)
    return moved


def _start(
    connection: Connection,
    case: Case,
    source: str,
    text: str,
    actor: User,
    now: datetime,
    template: str | None,
    base_version: int | None,
) -> Moved:
    if base_version:
        # The draft this writer loaded was posted (or withdrawn) meanwhile: a new reply would be a
        # follow-up they did not mean to write.
        raise ReplyStateError("the reply you were editing was posted meanwhile; reload to see it")
    values = {
        "source": source,
        "text": text,
        "template": template,
        "idempotency_key": new_idempotency_key(),
        "author": actor.name,
        "attempts": 0,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    note = f"from the canned reply {template}" if template else None  # one name: canned.py
    started = start_reply(connection, case, values, actor.name, now, note)
    add_version(connection, started.reply.id, 1, text, actor.name, actor.role, now)
    return started


def _refuse_conflict(
    latest: CaseReply, versions: list[ReplyVersion], text: str, actor: User, base_version: int
) -> None:
    """Refuse to save over versions someone else wrote after the one this writer loaded."""
    theirs = [v for v in versions if v.version > base_version and v.author != actor.name]
    if not theirs or latest.text == text:
        return
    by = theirs[-1].author
    raise DraftConflict(
        f"{by} saved another version of this reply (version {latest.version}) since you opened it: "
        "compare the two texts, then keep theirs or save yours over it",
        yours=text,
        theirs=latest.text,
        theirs_by=by,
        version=latest.version,
    )


# --- submitting and approval ------------------------------------------------------------------------------


def submit_reply(
    engine: Engine,
    reply_id: int,
    user: User,
    settings: ResponderSettings,
    length: TextLength,
    now: datetime | None = None,
    approver: User | str | None = None,
) -> CaseReply:
    """Check the length, then approve at once or wait for an approver, as reply_approval.py says.
    `approver`: a person, or a role ("role:admin"), asked to approve it (default: the approver role)."""
    now = now or utcnow()
    with engine.begin() as connection:
        reply = get_reply(connection, reply_id)
        case = get_case(connection, reply.case_id)
        rank_key = mention_facts(connection, case.mention_id).rank_key
        return submit_in(connection, reply, case, rank_key, user, settings, length, now, approver).reply


def submit_in(
    connection: Connection,
    reply: CaseReply,
    case: Case,
    rank_key: float | None,
    user: User,
    settings: ResponderSettings,
    length: TextLength,
    now: datetime,
    approver: User | str | None = None,
) -> Moved:
    """submit_reply in the caller's transaction. Every check comes before its first write, so a caller
    keeps what it wrote before (the draft) when the submit is refused."""
    require_role(user, "responder", "submit a reply")
    if not allowed("submit", reply.status):
        raise ReplyStateError(refusal("submit", reply))
    _check_length(length, reply.source)
    versions = versions_of(connection, reply.id)
    chosen = choose_approver(approver, authors(reply, versions), settings)
    reasons = approval_reasons(user, priority_from_key(rank_key, now), settings)
    reasons += version_reasons(versions, user, settings)
    if chosen is not None and not reasons:
        reasons.append(f"{user.name} asked for it")
    waits_for = (chosen or default_approver(settings)) if reasons else None
    moved = move_reply(
        connection,
        reply,
        case,
        "submit_for_approval" if waits_for else "submit",
        user.name,
        now,
        submit_note(waits_for, reasons) if waits_for else "no approval needed",
        at_version=reply.version,
        error=None,
        error_kind=None,
        approver=waits_for,
    )
    if moved is None:
        raise ReplyStateError("the reply changed meanwhile; reload and try again")
    return moved


def can_approve(
    user: User, reply: CaseReply, settings: ResponderSettings, wrote: set[str] | None = None
) -> bool:
    """Whether `user` may approve it; `wrote`: everyone who wrote a version (default: its first author)."""
    return approver_refusal(user, reply, wrote or {reply.author}, settings) is None


def approve_reply(
    engine: Engine, reply_id: int, approver: User, settings: ResponderSettings, now: datetime | None = None
) -> CaseReply:
    """Approve the reply as it is now: by its chosen approver, who wrote none of it."""
    now = now or utcnow()
    with engine.begin() as connection:
        reply = get_reply(connection, reply_id)
        return approve_in(
            connection, reply, get_case(connection, reply.case_id), approver, settings, now
        ).reply


def approve_in(
    connection: Connection,
    reply: CaseReply,
    case: Case,
    approver: User,
    settings: ResponderSettings,
    now: datetime,
) -> Moved:
    """approve_reply in the caller's transaction."""
    require_approver(approver, reply, authors(reply, versions_of(connection, reply.id)), settings)
    moved = move_reply(
        connection,
        reply,
        case,
        "approve",
        approver.name,
        now,
        f"version {reply.version}",
        at_version=reply.version,
        approved_by=approver.name,
        approved_at=now,
    )
    if moved is None:
        raise ReplyStateError("the reply changed while you were reading it; reload and look again")
    return moved


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
    reason = reason.strip()
    if not reason:
        raise CaseError("say why the reply goes back, so its author knows what to change")
    with engine.begin() as connection:
        reply = get_reply(connection, reply_id)
        case = get_case(connection, reply.case_id)
        moved = move_reply(connection, reply, case, "send_back", approver.name, now, reason, approver=None)
        if moved is None:
            raise ReplyStateError("the reply changed meanwhile; reload and try again")
        return moved.reply
