"""Cases and their replies: the queries behind monitor/respond/, the inbox flags and the digest.

The audit trail is `mention_events`, the same table triage writes: a case's changes are events of its
mention, so the mention page shows one history. `before` and `after` hold short values (a status, an
assignee, tags); longer detail (a note, a failure reason, a reply's URL) goes into `note`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, exists, func, select, update

from monitor.errors import CaseError
from monitor.store.engine import dialect_insert
from monitor.store.filters import still_open
from monitor.store.schema import case_replies, cases, mention_events, mention_watches, mentions
from monitor.store.triage import MentionEvent

CASE_STATUSES = ("new", "in_progress", "waiting_for_approval", "replied", "resolved", "dismissed")
# A case in one of these still owes the customer an answer: it can be overdue.
AWAITING_RESPONSE = ("new", "in_progress", "waiting_for_approval")
REPLY_STATUSES = (
    "draft",  # being written; editable
    "awaiting_approval",  # submitted; an approver must say yes
    "approved",  # ready to post (or to copy, for a source without a reply API)
    "posting",  # claimed by one caller, written before the network call
    "unconfirmed",  # the last attempt may have landed: the next one looks on the source first
    "posted",  # the source published it: remote_id and remote_url say where
    "posted_by_hand",  # copied and posted by a person, for sources without a reply API
    "failed",  # the source refused it and did not publish it; the text is kept, `error` says why
)


@dataclass(frozen=True)
class Case:
    id: int
    mention_id: int
    status: str
    assignee: str | None
    tags: tuple[str, ...]
    opened_at: datetime
    clock_from: datetime
    response_due_at: datetime | None
    resolution_due_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    created_at: datetime
    updated_at: datetime

    def overdue(self, now: datetime) -> bool:
        """Past its response target without a reply."""
        return (
            self.status in AWAITING_RESPONSE
            and self.first_response_at is None
            and self.response_due_at is not None
            and self.response_due_at <= now
        )

    @property
    def time_to_first_response(self) -> timedelta | None:
        return None if self.first_response_at is None else self.first_response_at - self.clock_from

    @property
    def time_to_resolution(self) -> timedelta | None:
        return None if self.resolved_at is None else self.resolved_at - self.clock_from


@dataclass(frozen=True)
class CaseReply:
    id: int
    case_id: int
    source: str
    status: str
    text: str
    template: str | None
    idempotency_key: str
    author: str
    approved_by: str | None
    approved_at: datetime | None
    attempts: int
    claimed_at: datetime | None
    remote_id: str | None
    remote_url: str | None
    error: str | None
    error_kind: str | None
    created_at: datetime
    updated_at: datetime
    posted_at: datetime | None
    # Where the source has the posted reply when it publishes later ("pending", "published"); else None.
    remote_state: str | None = None
    # The text's version (store/reply_moves.py keeps each) and the approver chosen at submit (a user's
    # name, or "role:<role>"); None before it is submitted.
    version: int = 1
    approver: str | None = None

    @property
    def done(self) -> bool:
        return self.status in ("posted", "posted_by_hand")


@dataclass(frozen=True)
class CaseBadge:
    """What an inbox card shows about its mention's case."""

    case_id: int
    status: str
    assignee: str | None
    overdue: bool


@dataclass(frozen=True)
class OverdueCase:
    """A case past its response target without a reply: for the inbox and the digest."""

    case_id: int
    mention_id: int
    source: str
    author: str | None
    url: str | None
    text: str
    status: str
    assignee: str | None
    opened_at: datetime
    response_due_at: datetime

    def overdue_by(self, now: datetime) -> timedelta:
        return now - self.response_due_at


def case_from_row(row: Any) -> Case:
    tags = row.tags if isinstance(row.tags, list) else []
    return Case(
        id=row.id,
        mention_id=row.mention_id,
        status=row.status,
        assignee=row.assignee,
        tags=tuple(str(tag) for tag in tags),
        opened_at=row.opened_at,
        clock_from=row.clock_from,
        response_due_at=row.response_due_at,
        resolution_due_at=row.resolution_due_at,
        first_response_at=row.first_response_at,
        resolved_at=row.resolved_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def reply_from_row(row: Any) -> CaseReply:
    return CaseReply(**{column.name: getattr(row, column.name) for column in case_replies.columns})


# --- cases ---------------------------------------------------------------------------------------------


def case_for_mention(connection: Connection, mention_id: int) -> Case | None:
    row = connection.execute(select(cases).where(cases.c.mention_id == mention_id)).first()
    return None if row is None else case_from_row(row)


def find_case(engine: Engine, mention_id: int) -> Case | None:
    with engine.connect() as connection:
        return case_for_mention(connection, mention_id)


def get_case(connection: Connection, case_id: int) -> Case:
    row = connection.execute(select(cases).where(cases.c.id == case_id)).first()
    if row is None:
        raise CaseError(f"no case with id {case_id}")
    return case_from_row(row)


def load_case(engine: Engine, case_id: int) -> Case:
    with engine.connect() as connection:
        return get_case(connection, case_id)


def insert_case(connection: Connection, values: dict[str, Any]) -> bool:
    """Insert unless the mention has a case already (two openers at once: one row, no error).

    RETURNING, not rowcount: on PostgreSQL an INSERT that ON CONFLICT skipped reports rowcount -1 through
    SQLAlchemy's implicit returning, which read as "inserted" and audited a second opening."""
    insert = dialect_insert(connection)(cases).values(**values)
    statement = insert.on_conflict_do_nothing().returning(cases.c.id)
    return connection.execute(statement).first() is not None


def case_opener(connection: Connection, mention_id: int) -> str | None:
    """Who opened the mention's case (its first "case" event), or None when no event says."""
    query = (
        select(mention_events.c.actor)
        .where(mention_events.c.mention_id == mention_id, mention_events.c.action == "case")
        .order_by(mention_events.c.id)
        .limit(1)
    )
    found = connection.scalar(query)
    return None if found is None else str(found)


def update_case(connection: Connection, case_id: int, **values: Any) -> None:
    connection.execute(update(cases).where(cases.c.id == case_id).values(**values))


def mention_facts(connection: Connection, mention_id: int) -> Any:
    """What the workflow reads from a mention: source, ids, author, link, label, rank, watches."""
    row = connection.execute(
        select(
            mentions.c.id,
            mentions.c.source,
            mentions.c.external_id,
            mentions.c.author,
            mentions.c.url,
            mentions.c.parent_id,
            mentions.c.raw,
            mentions.c.label,
            mentions.c.rank_key,
            mentions.c.triage,
            mentions.c.collected_at,
        ).where(mentions.c.id == mention_id)
    ).first()
    if row is None:
        raise CaseError(f"no mention with id {mention_id}")
    return row


def watches_of(connection: Connection, mention_id: int) -> list[str]:
    query = select(mention_watches.c.watch).where(mention_watches.c.mention_id == mention_id)
    return sorted(connection.scalars(query))


def uncased_scored_since(connection: Connection, since: datetime, limit: int) -> list[Any]:
    """Mentions scored since `since` that have no case yet: what assignment rules look at."""
    query = (
        select(mentions.c.id, mentions.c.source, mentions.c.label)
        .where(
            mentions.c.scored_at >= since,
            still_open(),
            ~exists().where(cases.c.mention_id == mentions.c.id),
        )
        .order_by(mentions.c.id)
        .limit(limit)
    )
    return list(connection.execute(query))


def case_notes(engine: Engine, mention_id: int) -> list[MentionEvent]:
    query = (
        select(mention_events)
        .where(mention_events.c.mention_id == mention_id, mention_events.c.action == "note")
        .order_by(mention_events.c.id)
    )
    with engine.connect() as connection:
        return [
            MentionEvent(row.action, row.before, row.after, row.note, row.actor, row.at)
            for row in connection.execute(query)
        ]


def overdue_cases(engine: Engine, now: datetime, limit: int = 500) -> list[OverdueCase]:
    """Cases past their response target without a reply, the longest overdue first (for the digest)."""
    query = (
        select(
            cases.c.id,
            cases.c.mention_id,
            cases.c.status,
            cases.c.assignee,
            cases.c.opened_at,
            cases.c.response_due_at,
            mentions.c.source,
            mentions.c.author,
            mentions.c.url,
            mentions.c.text,
        )
        .join(mentions, mentions.c.id == cases.c.mention_id)
        .where(
            cases.c.status.in_(AWAITING_RESPONSE),
            cases.c.first_response_at.is_(None),
            cases.c.response_due_at <= now,
            mentions.c.deleted_at.is_(None),  # a deleted post has nobody left to answer
        )
        .order_by(cases.c.response_due_at, cases.c.id)
        .limit(limit)
    )
    with engine.connect() as connection:
        return [
            OverdueCase(
                case_id=row.id,
                mention_id=row.mention_id,
                source=row.source,
                author=row.author,
                url=row.url,
                text=row.text,
                status=row.status,
                assignee=row.assignee,
                opened_at=row.opened_at,
                response_due_at=row.response_due_at,
            )
            for row in connection.execute(query)
        ]


def case_badges(engine: Engine, mention_ids: Sequence[int], now: datetime) -> dict[int, CaseBadge]:
    """One query for a page of inbox cards: each mention's case status, assignee and overdue flag."""
    if not mention_ids:
        return {}
    query = select(cases).where(cases.c.mention_id.in_(list(mention_ids)))
    with engine.connect() as connection:
        found = [case_from_row(row) for row in connection.execute(query)]
    return {
        case.mention_id: CaseBadge(case.id, case.status, case.assignee, case.overdue(now)) for case in found
    }


def cases_by_status(engine: Engine) -> dict[str, int]:
    query = select(cases.c.status, func.count()).group_by(cases.c.status)
    with engine.connect() as connection:
        return {status: int(n) for status, n in connection.execute(query)}


# --- replies -------------------------------------------------------------------------------------------


def get_reply(connection: Connection, reply_id: int) -> CaseReply:
    row = connection.execute(select(case_replies).where(case_replies.c.id == reply_id)).first()
    if row is None:
        raise CaseError(f"no reply with id {reply_id}")
    return reply_from_row(row)


def load_reply(engine: Engine, reply_id: int) -> CaseReply:
    with engine.connect() as connection:
        return get_reply(connection, reply_id)


def latest_reply(connection: Connection, case_id: int) -> CaseReply | None:
    row = connection.execute(
        select(case_replies)
        .where(case_replies.c.case_id == case_id)
        .order_by(case_replies.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else reply_from_row(row)


def replies_for_case(engine: Engine, case_id: int) -> list[CaseReply]:
    query = select(case_replies).where(case_replies.c.case_id == case_id).order_by(case_replies.c.id)
    with engine.connect() as connection:
        return [reply_from_row(row) for row in connection.execute(query)]


def replies_in(engine: Engine, statuses: Sequence[str]) -> list[CaseReply]:
    """Replies in these states, oldest first: e.g. "posting" and "unconfirmed" ones to look at again."""
    query = select(case_replies).where(case_replies.c.status.in_(list(statuses))).order_by(case_replies.c.id)
    with engine.connect() as connection:
        return [reply_from_row(row) for row in connection.execute(query)]


def posted_replies_in_state(engine: Engine, state: str, since: datetime) -> list[CaseReply]:
    """Posted replies whose source still had them in `state` (remote_state) and posted since `since`."""
    query = (
        select(case_replies)
        .where(
            case_replies.c.status == "posted",
            case_replies.c.remote_state == state,
            case_replies.c.posted_at >= since,
        )
        .order_by(case_replies.c.id)
    )
    with engine.connect() as connection:
        return [reply_from_row(row) for row in connection.execute(query)]
