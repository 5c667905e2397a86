"""A care team's queues as WHERE clauses over `mentions`: who a mention's case is assigned to, its status,
its tags, whether it is past its response target, whether a reply waits for a given person's approval,
and whether it belongs only to competitor watches. `filters.filtered` applies them with the rest of a
MentionFilter, so the inbox, its counts, the export and the API share one meaning for each.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Engine, String, cast, exists, or_, select

from monitor.store.cases import AWAITING_RESPONSE
from monitor.store.schema import case_replies, cases, mention_watches, mentions, reply_versions

APPROVAL_PENDING = "awaiting_approval"


def _case(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """The mention has a case meeting `conditions` (a mention has at most one case). IN, not EXISTS:
    the cases a queue asks for are few beside the mentions, and are listed once, where EXISTS asked
    again for every open mention walked (a queue's count on 70,000 open negatives: 20-40 ms, not
    250-500)."""
    return mentions.c.id.in_(select(cases.c.mention_id).where(*conditions))


def assigned_to(person: str) -> ColumnElement[bool]:
    return _case(cases.c.assignee == person)


def assigned_to_someone() -> ColumnElement[bool]:
    return _case(cases.c.assignee.is_not(None))


def unassigned() -> ColumnElement[bool]:
    """Nobody is on it: no case yet, or a case without an assignee."""
    return ~assigned_to_someone()


def case_status_in(statuses: Sequence[str]) -> ColumnElement[bool]:
    return _case(cases.c.status.in_(list(statuses)))


def _like_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def tagged_any(tags: Sequence[str]) -> ColumnElement[bool]:
    """The case carries one of `tags` (exactly as written). Tags are a JSON list on both databases; a
    match on the list's text, each tag as json.dumps writes it (quotes included), reads the same in
    SQLite and PostgreSQL without a JSON function of either."""
    text = cast(cases.c.tags, String)
    return _case(or_(*(text.like(f"%{_like_literal(json.dumps(tag))}%", escape="\\") for tag in tags)))


def overdue(now: datetime) -> ColumnElement[bool]:
    """Past its response target without a reply: the rule `Case.overdue` states for one case."""
    return _case(
        cases.c.status.in_(AWAITING_RESPONSE),
        cases.c.first_response_at.is_(None),
        cases.c.response_due_at.is_not(None),
        cases.c.response_due_at <= now,
    )


def awaiting_approval_by(person: str, also_as: Sequence[str] = ()) -> ColumnElement[bool]:
    """A reply to the mention waits for `person`'s approval: the rule of respond/reply_approval.py in
    SQL. It asked for them, for one of `also_as` (the other ways its `approver` names them, such as
    "role:admin"), or for nobody in particular; and they wrote none of it, neither its first text nor
    any later version. Whether they hold the approver role at all is the caller's check."""
    wrote = exists().where(reply_versions.c.reply_id == case_replies.c.id, reply_versions.c.author == person)
    asked = case_replies.c.approver.is_(None) | case_replies.c.approver.in_([person, *also_as])
    waiting = select(case_replies.c.case_id).where(
        case_replies.c.status == APPROVAL_PENDING, case_replies.c.author != person, asked, ~wrote
    )
    return _case(cases.c.id.in_(waiting))


def only_in_watches(names: Sequence[str]) -> ColumnElement[bool]:
    """Every watch the mention matched is one of `names` (and it matched one): e.g. a competitor's
    complaint that says nothing of the brand. A mention that also matched another watch is not."""
    link = mention_watches.c
    inside = exists().where(link.mention_id == mentions.c.id, link.watch.in_(list(names)))
    outside = exists().where(link.mention_id == mentions.c.id, link.watch.not_in(list(names)))
    return inside & ~outside


def tags_in_use(engine: Engine, limit: int = 10_000) -> list[str]:
    """The tags the most recently changed cases carry, for the inbox's tag filter to choose from."""
    query = (
        select(cases.c.tags).where(cases.c.tags.is_not(None)).order_by(cases.c.updated_at.desc()).limit(limit)
    )
    with engine.connect() as connection:
        found = {str(tag) for tags in connection.scalars(query) if isinstance(tags, list) for tag in tags}
    return sorted(found, key=str.lower)
