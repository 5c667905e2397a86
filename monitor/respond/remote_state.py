"""Replies a store publishes later than it takes them: the case keeps the store's word on where they are.

App Store Connect holds a developer response as PENDING_PUBLISH until Apple publishes it (hours, a day).
The reply is recorded as posted when Apple takes it, with `remote_state` "pending" (posting.py stores the
source's `PostedReply.state`); `refresh_remote_states`, run by the settle-replies job every few minutes,
asks the store again about each reply still pending and records "published" when it is, or "replaced"
when the store now shows another text (someone answered again in App Store Connect, or from another
case reply), each as an event in the mention's history. The case panel words the state with
`remote_state_label`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, update

from monitor.errors import GrumbleError
from monitor.mention import utcnow
from monitor.respond.posting import SCHEDULER_ACTOR, reply_target
from monitor.sources.base import Replier
from monitor.store.cases import CaseReply, get_case, get_reply, posted_replies_in_state
from monitor.store.schema import case_replies
from monitor.store.triage import record_event

log = logging.getLogger(__name__)

PENDING = "pending"
PUBLISHED = "published"
REPLACED = "replaced"
# Apple publishes within a day or two; a reply still pending after this is left for a person to look at.
CHECK_FOR = timedelta(days=14)
# Whose review a pending reply waits for, by source.
REVIEWERS = {"app_store_connect": "Apple"}


def remote_state_label(source: str, state: str | None) -> str | None:
    """How the case panel says where the store has the reply; None when the source does not say."""
    if state is None:
        return None
    if state == PENDING:
        return f"pending {REVIEWERS.get(source, 'the store')}'s review"
    if state == REPLACED:
        return "replaced on the store by a later response"
    return state.replace("_", " ")


def refresh_remote_states(
    engine: Engine,
    repliers: Callable[[str], Replier | None],
    now: datetime | None = None,
) -> list[CaseReply]:
    """Ask the store about each posted reply still pending; record what changed. Sends nothing.
    Returns the replies whose state changed."""
    now = now or utcnow()
    changed = []
    for reply in posted_replies_in_state(engine, PENDING, now - CHECK_FOR):
        replier = repliers(reply.source)
        if replier is None:
            continue
        try:
            found = replier.find_reply(reply_target(engine, reply.case_id), reply.text, reply.idempotency_key)
        except GrumbleError as exc:
            log.info("reply %d: could not ask %s where it is: %s", reply.id, reply.source, exc)
            continue
        state = REPLACED if found is None else found.state
        if state is None or state == PENDING:
            continue
        updated = _record(engine, reply, state, now)
        if updated is not None:
            log.info("reply %d: %s says it is %s", reply.id, reply.source, state)
            changed.append(updated)
    return changed


def _record(engine: Engine, reply: CaseReply, state: str, now: datetime) -> CaseReply | None:
    """Compare-and-set from pending, so two schedulers record the change once."""
    with engine.begin() as connection:
        result = connection.execute(
            update(case_replies)
            .where(and_(case_replies.c.id == reply.id, case_replies.c.remote_state == PENDING))
            .values(remote_state=state)
        )
        if result.rowcount != 1:
            return None
        case = get_case(connection, reply.case_id)
        note = "the store now shows another response to this review" if state == REPLACED else None
        record_event(connection, case.mention_id, "reply_state", PENDING, state, SCHEDULER_ACTOR, now, note)
        return get_reply(connection, reply.id)
