"""One click that is several steps, in as few transactions as the exactly-once protocol allows.

"Submit" on the case panel saves the text, submits it and, when nothing waits and the source has a
reply API, posts it; "Approve" approves and posts. The steps before the request and the claim are one
transaction; the request follows, and its outcome is one more (posting.py). A submit that is refused
(too long, a state, an approver who cannot approve) keeps the saved draft: submit_in checks everything
before it writes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from sqlalchemy import Engine

from monitor.auth.users import User
from monitor.config import ResponderSettings
from monitor.errors import GrumbleError
from monitor.mention import utcnow
from monitor.respond.posting import send_claimed, target_of
from monitor.respond.replies import approve_in, draft_in, submit_in
from monitor.respond.reply_claim import Claim, claim_in
from monitor.sources.base import Replier, TextLength
from monitor.store.cases import CaseReply, get_case, get_reply, mention_facts


class Route(Protocol):
    """How a mention's reply leaves Grumble (workflow.ReplyRoute): its replier, None to post by hand."""

    @property
    def replier(self) -> Replier | None: ...

    def measure(self, text: str) -> TextLength: ...


def submit_and_post(
    engine: Engine,
    case_id: int,
    text: str,
    user: User,
    settings: ResponderSettings,
    route_for: Callable[[str, str], Route],
    template: str | None = None,
    base_version: int | None = None,
    approver: User | str | None = None,
    now: datetime | None = None,
) -> CaseReply:
    """Save the text as the case's draft, submit it, and post it at once when it needs no approval and
    `route_for(source, external_id)` has a replier. Returns the reply as recorded."""
    now = now or utcnow()
    refused: GrumbleError | None = None
    taken: Claim | CaseReply | None = None
    replier: Replier | None = None
    with engine.begin() as connection:
        case = get_case(connection, case_id)
        facts = mention_facts(connection, case.mention_id)
        draft = draft_in(connection, case, facts.source, text, user, now, template, base_version)
        route = route_for(facts.source, facts.external_id)
        try:
            submitted = submit_in(
                connection,
                draft.reply,
                draft.case,
                facts.rank_key,
                user,
                settings,
                route.measure(text),
                now,
                approver,
            )
        except GrumbleError as exc:
            refused = exc  # raised once the draft is committed
        else:
            replier = route.replier if submitted.reply.status == "approved" else None
            taken = submitted.reply
            if replier is not None:
                target = target_of(facts)
                taken = claim_in(connection, submitted.reply, submitted.case, target, replier, user.name, now)
    if refused is not None:
        raise refused
    if isinstance(taken, Claim) and replier is not None:
        return send_claimed(engine, taken, replier, user.name, now)
    assert isinstance(taken, CaseReply)
    return taken


def approve_and_post(
    engine: Engine,
    reply_id: int,
    approver: User,
    settings: ResponderSettings,
    route_for: Callable[[str, str], Route],
    now: datetime | None = None,
) -> CaseReply:
    """Approve the reply and post it at once where `route_for(source, external_id)` has a replier."""
    now = now or utcnow()
    with engine.begin() as connection:
        reply = get_reply(connection, reply_id)
        case = get_case(connection, reply.case_id)
        facts = mention_facts(connection, case.mention_id)
        approved = approve_in(connection, reply, case, approver, settings, now)
        replier = route_for(facts.source, facts.external_id).replier
        if replier is None:
            return approved.reply
        claim = claim_in(
            connection, approved.reply, approved.case, target_of(facts), replier, approver.name, now
        )
        if not isinstance(claim, Claim):
            return claim
    return send_claimed(engine, claim, replier, approver.name, now)
