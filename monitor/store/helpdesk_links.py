"""Reading and writing the helpdesk hand-off's rows (helpdesk_tables.py): plain functions over a
connection, in the caller's transaction, as store/cases.py does for cases and replies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, exists, or_, select, update

from monitor.errors import CaseError
from monitor.store.engine import dialect_insert
from monitor.store.filters import still_open
from monitor.store.schema import helpdesk_deliveries, helpdesk_links, mention_watches, mentions

LINK_STATES = ("sending", "sent", "unconfirmed", "failed")


@dataclass(frozen=True)
class HelpdeskLink:
    id: int
    mention_id: int
    helpdesk: str
    marker: str
    state: str
    remote_id: str | None
    remote_url: str | None
    remote_status: str | None
    attempts: int
    claimed_at: datetime | None
    next_attempt_at: datetime | None
    error: str | None
    requested_by: str
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None

    @property
    def sent(self) -> bool:
        return self.state == "sent"


def _link(row: Any) -> HelpdeskLink:
    return HelpdeskLink(**{name: row._mapping[name] for name in HelpdeskLink.__dataclass_fields__})


def get_link(connection: Connection, mention_id: int, helpdesk: str) -> HelpdeskLink | None:
    row = connection.execute(
        select(helpdesk_links).where(
            helpdesk_links.c.mention_id == mention_id, helpdesk_links.c.helpdesk == helpdesk
        )
    ).first()
    return None if row is None else _link(row)


def load_link(connection: Connection, link_id: int) -> HelpdeskLink:
    row = connection.execute(select(helpdesk_links).where(helpdesk_links.c.id == link_id)).one()
    return _link(row)


def links_for_mention(engine: Engine, mention_id: int) -> list[HelpdeskLink]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(helpdesk_links)
            .where(helpdesk_links.c.mention_id == mention_id)
            .order_by(helpdesk_links.c.helpdesk)
        )
        return [_link(row) for row in rows]


def link_by_remote(connection: Connection, helpdesk: str, remote_id: str) -> HelpdeskLink | None:
    row = connection.execute(
        select(helpdesk_links).where(
            helpdesk_links.c.helpdesk == helpdesk, helpdesk_links.c.remote_id == remote_id
        )
    ).first()
    return None if row is None else _link(row)


def insert_link(connection: Connection, values: dict[str, Any]) -> bool:
    """False when the mention already has a link to that helpdesk (another caller made it first)."""
    insert = dialect_insert(connection)
    # RETURNING, not rowcount: psycopg reports a row for an INSERT that ON CONFLICT skipped.
    result = connection.execute(
        insert(helpdesk_links)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["mention_id", "helpdesk"])
        .returning(helpdesk_links.c.id)
    )
    return result.first() is not None


def set_link_if(
    connection: Connection, link_id: int, states: Sequence[str], at_attempt: int | None = None, **values: Any
) -> bool:
    """Compare-and-set: write `values` only while the link is in one of `states` (and, given
    `at_attempt`, still on that attempt). True when this caller's write won."""
    conditions = [helpdesk_links.c.id == link_id, helpdesk_links.c.state.in_(states)]
    if at_attempt is not None:
        conditions.append(helpdesk_links.c.attempts == at_attempt)
    result = connection.execute(update(helpdesk_links).where(*conditions).values(**values))
    return bool(result.rowcount)


def update_link(connection: Connection, link_id: int, **values: Any) -> None:
    connection.execute(update(helpdesk_links).where(helpdesk_links.c.id == link_id).values(**values))


def due_links(engine: Engine, now: datetime, lease: timedelta, limit: int = 100) -> list[HelpdeskLink]:
    """Hand-offs to try again now: failed or unconfirmed ones whose backoff is over, and ones left
    "sending" past their lease (a crash between the request and its record)."""
    query = (
        select(helpdesk_links)
        .where(
            or_(
                and_(
                    helpdesk_links.c.state.in_(("failed", "unconfirmed")),
                    helpdesk_links.c.next_attempt_at <= now,
                ),
                and_(helpdesk_links.c.state == "sending", helpdesk_links.c.claimed_at <= now - lease),
            )
        )
        .order_by(helpdesk_links.c.id)
        .limit(limit)
    )
    with engine.connect() as connection:
        return [_link(row) for row in connection.execute(query)]


def handoff_facts(connection: Connection, mention_id: int) -> Any:
    """What a hand-off carries: the text, its author and link, the scores and the rank."""
    row = connection.execute(
        select(
            mentions.c.id,
            mentions.c.source,
            mentions.c.text,
            mentions.c.title,
            mentions.c.author,
            mentions.c.url,
            mentions.c.created_at,
            mentions.c.rating,
            mentions.c.label,
            mentions.c.negative,
            mentions.c.neutral,
            mentions.c.positive,
            mentions.c.rank_key,
        ).where(mentions.c.id == mention_id)
    ).first()
    if row is None:
        raise CaseError(f"no mention with id {mention_id}")
    return row


def rule_matches(
    connection: Connection,
    helpdesk: str,
    since: datetime,
    limit: int,
    *,
    source: str | None,
    watch: str | None,
    verdict: str | None,
    min_rank_key: float | None,
) -> list[int]:
    """Open mentions scored since `since` that one rule matches (None: any) and that have no link to
    `helpdesk` yet, oldest first. The rule is in the query, so mentions it does not match never crowd
    out those it does; each one sent (or tried) gets its link and leaves the next run's answer."""
    conditions = [
        mentions.c.scored_at >= since,
        still_open(),
        ~exists().where(helpdesk_links.c.mention_id == mentions.c.id, helpdesk_links.c.helpdesk == helpdesk),
    ]
    if source is not None:
        conditions.append(mentions.c.source == source)
    if verdict is not None:
        conditions.append(mentions.c.label == verdict)
    if min_rank_key is not None:
        conditions.append(mentions.c.rank_key >= min_rank_key)
    if watch is not None:
        conditions.append(
            exists().where(mention_watches.c.mention_id == mentions.c.id, mention_watches.c.watch == watch)
        )
    query = select(mentions.c.id).where(*conditions).order_by(mentions.c.id).limit(limit)
    return list(connection.scalars(query))


def record_delivery(
    connection: Connection,
    helpdesk: str,
    key: str,
    at: datetime,
    delivery_id: str | None,
    event: str | None,
    remote_id: str | None,
) -> bool:
    """Keep a delivery's key; False when it was already kept (a replay: do nothing). In the caller's
    transaction, with what the delivery does, so a crash keeps neither and the retry acts once."""
    insert = dialect_insert(connection)
    result = connection.execute(
        insert(helpdesk_deliveries)
        .values(
            helpdesk=helpdesk,
            key=key,
            delivery_id=(delivery_id or "")[:128] or None,
            event=(event or "")[:64] or None,
            remote_id=remote_id,
            outcome="received",
            received_at=at,
        )
        .on_conflict_do_nothing(index_elements=["helpdesk", "key"])
        .returning(helpdesk_deliveries.c.key)
    )
    return result.first() is not None


def set_delivery_outcome(connection: Connection, helpdesk: str, key: str, outcome: str) -> None:
    connection.execute(
        update(helpdesk_deliveries)
        .where(helpdesk_deliveries.c.helpdesk == helpdesk, helpdesk_deliveries.c.key == key)
        .values(outcome=outcome[:200])
    )


@dataclass(frozen=True)
class Delivery:
    helpdesk: str
    delivery_id: str | None
    event: str | None
    remote_id: str | None
    outcome: str
    received_at: datetime


def recent_deliveries(engine: Engine, limit: int = 50) -> list[Delivery]:
    """The newest deliveries acted on, for `grumble status` and a log view."""
    query = select(helpdesk_deliveries).order_by(helpdesk_deliveries.c.received_at.desc()).limit(limit)
    with engine.connect() as connection:
        return [
            Delivery(row.helpdesk, row.delivery_id, row.event, row.remote_id, row.outcome, row.received_at)
            for row in connection.execute(query)
        ]
