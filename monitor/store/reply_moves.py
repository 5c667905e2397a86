"""The reply rows that respond/reply_states.py writes: a reply's status moved by compare-and-set (the
row comes back from the same statement), every version of its text with who wrote it, and the case's
first response. The reads behind drafting and posting are in store/cases.py."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, select, update

from monitor.store.cases import CaseReply, reply_from_row
from monitor.store.schema import case_replies, cases, reply_versions


@dataclass(frozen=True)
class ReplyVersion:
    """One version of a reply's text: who wrote it, as which role, and whose approval it lapsed."""

    version: int
    text: str
    author: str
    author_role: str
    at: datetime
    lapsed_approval: str | None


def insert_reply_row(connection: Connection, values: dict[str, Any]) -> CaseReply:
    row = connection.execute(case_replies.insert().values(**values).returning(*case_replies.c)).one()
    return reply_from_row(row)


def move_reply_row(
    connection: Connection,
    reply_id: int,
    statuses: Iterable[str],
    at_attempt: int | None = None,
    at_version: int | None = None,
    **values: Any,
) -> CaseReply | None:
    """Compare-and-set: change the reply only while it is in one of `statuses` (and, when given, still at
    that attempt count and text version); the reply afterwards, or None when another caller got there
    first. Of two callers racing on one reply exactly one gets the row."""
    condition = and_(case_replies.c.id == reply_id, case_replies.c.status.in_(list(statuses)))
    if at_attempt is not None:
        condition = and_(condition, case_replies.c.attempts == at_attempt)
    if at_version is not None:
        condition = and_(condition, case_replies.c.version == at_version)
    statement = update(case_replies).where(condition).values(**values).returning(*case_replies.c)
    row = connection.execute(statement).first()
    return None if row is None else reply_from_row(row)


def add_version(
    connection: Connection,
    reply_id: int,
    version: int,
    text: str,
    author: str,
    author_role: str,
    at: datetime,
    lapsed_approval: str | None = None,
) -> None:
    connection.execute(
        reply_versions.insert().values(
            reply_id=reply_id,
            version=version,
            text=text,
            author=author,
            author_role=author_role,
            at=at,
            lapsed_approval=lapsed_approval,
        )
    )


def versions_of(connection: Connection, reply_id: int) -> list[ReplyVersion]:
    """Every version of the reply's text, the first first."""
    v = reply_versions.c
    query = (
        select(v.version, v.text, v.author, v.author_role, v.at, v.lapsed_approval)
        .where(v.reply_id == reply_id)
        .order_by(v.version)
    )
    return [ReplyVersion(*row) for row in connection.execute(query)]


def load_versions(engine: Engine, reply_id: int) -> list[ReplyVersion]:
    with engine.connect() as connection:
        return versions_of(connection, reply_id)


def latest_reply_authors(engine: Engine, mention_id: int) -> list[str]:
    """Everyone who wrote a version of the mention's latest reply, in the order they first wrote."""
    latest = (
        select(func.max(case_replies.c.id))
        .join(cases, cases.c.id == case_replies.c.case_id)
        .where(cases.c.mention_id == mention_id)
        .scalar_subquery()
    )
    query = (
        select(reply_versions.c.author)
        .where(reply_versions.c.reply_id == latest)
        .order_by(reply_versions.c.version)
    )
    with engine.connect() as connection:
        return list(dict.fromkeys(connection.scalars(query)))


def stamp_first_response(connection: Connection, case_id: int, at: datetime) -> None:
    """The first reply that reached the customer stops the response clock; later ones do not."""
    connection.execute(
        update(cases)
        .where(cases.c.id == case_id, cases.c.first_response_at.is_(None))
        .values(first_response_at=at, updated_at=at)
    )
