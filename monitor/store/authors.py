"""Authors: the VIP mark (per source, since names are only unique per source) and what the author page
shows: everything said under a name, the audience on each source, past cases and their replies.

Marking an author VIP moves the stored rank_key of their scored mentions by ranking.VIP_SHIFT in the
same transaction, and scoring adds it to the ones scored later (`vip_flag` in the pending query), so
the inbox, digests and alerts all rank a VIP's mentions higher without computing anything at read time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, case, delete, exists, func, select, update

from monitor.ranking import VIP_SHIFT
from monitor.store.cases import Case, CaseReply, case_from_row, reply_from_row
from monitor.store.filters import rows_with_watches
from monitor.store.schema import case_replies, cases, mentions, vip_authors


def vip_flag() -> ColumnElement[bool]:
    """A column for a query over `mentions`: whether the mention's author is marked VIP on its source."""
    return (
        exists()
        .where(vip_authors.c.source == mentions.c.source, vip_authors.c.author == mentions.c.author)
        .label("vip")
    )


def is_vip(engine: Engine, source: str, author: str) -> bool:
    query = select(vip_authors.c.author).where(vip_authors.c.source == source, vip_authors.c.author == author)
    with engine.connect() as connection:
        return connection.scalar(query) is not None


def set_vip(engine: Engine, source: str, author: str, vip: bool, actor: str, now: datetime) -> bool:
    """Mark or unmark an author VIP and move their mentions' keys with it. Returns whether it changed."""
    with engine.begin() as connection:
        marked = connection.scalar(
            select(func.count())
            .select_from(vip_authors)
            .where(vip_authors.c.source == source, vip_authors.c.author == author)
        )
        if bool(marked) == vip:
            return False
        if vip:
            connection.execute(
                vip_authors.insert().values(source=source, author=author, set_by=actor, set_at=now)
            )
        else:
            connection.execute(
                delete(vip_authors).where(vip_authors.c.source == source, vip_authors.c.author == author)
            )
        connection.execute(
            update(mentions)
            .where(mentions.c.source == source, mentions.c.author == author, mentions.c.rank_key.is_not(None))
            .values(rank_key=mentions.c.rank_key + (VIP_SHIFT if vip else -VIP_SHIFT))
        )
    return True


@dataclass(frozen=True)
class SourceAudience:
    """One source an author wrote on: how many mentions, how many negative, their largest audience."""

    source: str
    mentions: int
    negatives: int
    reach: int | None
    first_at: datetime
    last_at: datetime
    vip: bool


@dataclass(frozen=True)
class AuthorCase:
    case: Case
    source: str
    text: str
    replies: list[CaseReply]


def audience(engine: Engine, author: str) -> list[SourceAudience]:
    c = mentions.c
    negatives = func.sum(case((c.label == "negative", 1), else_=0))
    query = (
        select(
            c.source,
            func.count().label("n"),
            negatives.label("negatives"),
            func.max(c.author_reach).label("reach"),
            func.min(c.created_at).label("first_at"),
            func.max(c.created_at).label("last_at"),
            func.max(vip_authors.c.author).label("vip"),
        )
        .select_from(
            mentions.outerjoin(
                vip_authors, and_(vip_authors.c.source == c.source, vip_authors.c.author == c.author)
            )
        )
        .where(c.author == author)
        .group_by(c.source)
        .order_by(func.count().desc(), c.source)
    )
    with engine.connect() as connection:
        return [
            SourceAudience(
                row.source,
                int(row.n),
                int(row.negatives or 0),
                row.reach,
                row.first_at,
                row.last_at,
                row.vip is not None,
            )
            for row in connection.execute(query)
        ]


def said(engine: Engine, author: str, limit: int = 50) -> list[dict[str, Any]]:
    """The author's mentions on every source, newest first, each with its `vip` flag."""
    query = (
        select(mentions, vip_flag())
        .where(mentions.c.author == author)
        .order_by(mentions.c.created_at.desc(), mentions.c.id.desc())
        .limit(limit)
    )
    return rows_with_watches(engine, query)


def author_cases(engine: Engine, author: str, limit: int = 20) -> list[AuthorCase]:
    """Cases about the author's mentions, newest first, with their replies: two queries."""
    query = (
        select(cases, mentions.c.source.label("mention_source"), mentions.c.text.label("mention_text"))
        .join(mentions, mentions.c.id == cases.c.mention_id)
        .where(mentions.c.author == author)
        .order_by(cases.c.opened_at.desc(), cases.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as connection:
        found = [
            (case_from_row(row), row.mention_source, row.mention_text) for row in connection.execute(query)
        ]
        replies: dict[int, list[CaseReply]] = {}
        if found:
            reply_rows = connection.execute(
                select(case_replies)
                .where(case_replies.c.case_id.in_([case.id for case, _, _ in found]))
                .order_by(case_replies.c.id)
            )
            for row in reply_rows:
                reply = reply_from_row(row)
                replies.setdefault(reply.case_id, []).append(reply)
    return [AuthorCase(case, source, text, replies.get(case.id, [])) for case, source, text in found]
