"""The one filter every view shares (inbox, trends, export), turned into WHERE clauses."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Select, select

from monitor.mention import utcnow
from monitor.ranking import now_offset
from monitor.store.link_input import search_text
from monitor.store.schema import mention_topics, mention_watches, mentions, topics

TRIAGE_STATES = ("open", "handled", "dismissed")


def still_open() -> ColumnElement[bool]:
    """A mention someone must still look at: open, and not deleted by its author. The digests, the
    alerts and the responder rules ask this; the inbox's filter says the same for "open" (`filtered`)."""
    return (mentions.c.triage == "open") & mentions.c.deleted_at.is_(None)


@dataclass(frozen=True)
class MentionFilter:
    watches: Sequence[str] = ()
    sources: Sequence[str] = ()
    labels: Sequence[str] = ()
    since: datetime | None = None
    until: datetime | None = None
    triage: Sequence[str] = ()
    search: str | None = None
    min_priority: float | None = None
    now: datetime | None = None  # for min_priority and overdue; default: the time of the query
    # The team's queues (store/queues.py): the mention's case and its replies.
    assignee: str | None = None  # a person's name: cases assigned to them
    assigned: bool | None = None  # True: assigned to someone; False: to nobody (or no case yet)
    case_statuses: Sequence[str] = ()
    tags: Sequence[str] = ()  # the case has any of them
    overdue: bool = False  # past the response target without a reply
    approver: str | None = None  # a reply waits for this person's approval, and they wrote none of it
    approver_as: Sequence[str] = ()  # the other names a reply's approver may call them ("role:admin")
    # Left out: mentions that matched only these watches (competitor watches, outside the care inbox).
    exclude_watches: Sequence[str] = ()
    topics: Sequence[int] = ()  # in any of these complaint topics (monitor/topics/)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def filtered(query: Select[Any], where: MentionFilter) -> Select[Any]:
    c = mentions.c
    if where.watches:
        # EXISTS, not IN (subquery): walking the inbox index, each candidate is one primary-key probe,
        # instead of first building the set of every mention of the watch.
        linked = select(mention_watches.c.mention_id).where(
            mention_watches.c.mention_id == c.id, mention_watches.c.watch.in_(where.watches)
        )
        query = query.where(linked.exists())
    if where.sources:
        query = query.where(c.source.in_(where.sources))
    if where.labels:
        query = query.where(c.label.in_(where.labels))
    if where.triage:
        query = query.where(c.triage.in_(where.triage))
        if "open" in where.triage:
            # A post its author deleted is nobody's to answer: it is never an open item (it still shows
            # as handled or dismissed, and in the export).
            query = query.where(c.deleted_at.is_(None) | (c.triage != "open"))
    if where.since is not None:
        query = query.where(c.created_at >= where.since)
    if where.until is not None:
        query = query.where(c.created_at < where.until)
    search = search_text(where.search)
    if search is not None:
        pattern = _like_pattern(search)
        query = query.where(
            c.text.ilike(pattern, escape="\\")
            | c.title.ilike(pattern, escape="\\")
            | c.author.ilike(pattern, escape="\\")
        )
    if where.min_priority is not None and where.min_priority > 0:
        # priority >= p  <=>  rank_key >= ln(p) + the time term: a range on the indexed key.
        query = query.where(c.rank_key >= math.log(where.min_priority) + now_offset(where.now or utcnow()))
    return _queued(query, where)


def _queued(query: Select[Any], where: MentionFilter) -> Select[Any]:
    # Imported here: queues.py reads store/cases.py, which imports this module.
    from monitor.store import queues

    if where.assignee is not None:
        query = query.where(queues.assigned_to(where.assignee))
    if where.assigned is not None:
        query = query.where(queues.assigned_to_someone() if where.assigned else queues.unassigned())
    if where.case_statuses:
        query = query.where(queues.case_status_in(where.case_statuses))
    if where.tags:
        query = query.where(queues.tagged_any(where.tags))
    if where.overdue:
        query = query.where(queues.overdue(where.now or utcnow()))
    if where.approver is not None:
        query = query.where(queues.awaiting_approval_by(where.approver, where.approver_as))
    if where.exclude_watches:
        query = query.where(~queues.only_in_watches(where.exclude_watches))
    if where.topics:
        query = query.where(in_topics(where.topics))
    return query


def in_topics(topic_ids: Sequence[int]) -> ColumnElement[bool]:
    """Mentions in any of these complaint topics (the inbox's topic filter)."""
    linked = select(mention_topics.c.mention_id).where(
        mention_topics.c.mention_id == mentions.c.id, mention_topics.c.topic_id.in_(list(topic_ids))
    )
    return linked.exists()


def watch_names(connection: Connection, ids: Sequence[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    if ids:
        query = select(mention_watches.c.mention_id, mention_watches.c.watch).where(
            mention_watches.c.mention_id.in_(ids)
        )
        for mention_id, watch in connection.execute(query):
            names.setdefault(mention_id, []).append(watch)
    return {key: sorted(value) for key, value in names.items()}


def topic_names(connection: Connection, ids: Sequence[int]) -> dict[int, list[str]]:
    """Each mention's complaint topic names (one per watch that has topics), by watch name."""
    names: dict[int, list[str]] = {}
    if ids:
        query = (
            select(mention_topics.c.mention_id, topics.c.name)
            .join(topics, topics.c.id == mention_topics.c.topic_id)
            .where(mention_topics.c.mention_id.in_(ids))
            .order_by(mention_topics.c.mention_id, mention_topics.c.watch)
        )
        for mention_id, name in connection.execute(query):
            names.setdefault(mention_id, []).append(name)
    return names


def rows_with_watches(engine: Engine, query: Select[Any]) -> list[dict[str, Any]]:
    """Run a query over `mentions` and add each row's watch names under "watches" and its complaint
    topics' names under "topics"."""
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(query)]
        names = watch_names(connection, [row["id"] for row in rows])
        topic_of = topic_names(connection, [row["id"] for row in rows])
    for row in rows:
        row["watches"] = names.get(row["id"], [])
        row["topics"] = topic_of.get(row["id"], [])
    return rows
