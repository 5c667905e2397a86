"""Complaint topics in the store: the unhappy mentions a watch clusters, the topics, each mention's
topic, and the topics' history (the mentions' vectors: topic_vectors.py). Plain functions; the caller
owns the transaction where one is passed in (monitor/topics/ writes a refit in one)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, insert, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from monitor.store.mentions import scoring_text
from monitor.store.schema import (
    alert_events,
    mention_topics,
    mention_watches,
    mentions,
    topic_events,
    topics,
)
from monitor.store.topic_vectors import Vector, from_bytes, to_bytes

# Stars at or under this are an unhappy rating, whatever the text says (the verdict rule agrees).
UNHAPPY_STARS = 2.0
# A refit reads at most this many of a watch's latest unhappy mentions (about 15 MB of vectors).
REFIT_LIMIT = 20_000


def unhappy() -> ColumnElement[bool]:
    """What topics are about: mentions the verdict calls negative, or rated 1-2 stars."""
    return or_(mentions.c.label == "negative", mentions.c.rating <= UNHAPPY_STARS)


@dataclass(frozen=True)
class UnhappyMention:
    id: int
    text: str
    created_at: datetime


def unhappy_mentions(
    connection: Connection, watch: str, *, ids: Collection[int] | None = None, limit: int = REFIT_LIMIT
) -> list[UnhappyMention]:
    """The watch's unhappy mentions not deleted by their author, latest first (or only `ids`)."""
    c = mentions.c
    query = (
        select(c.id, c.title, c.text, c.created_at)
        .join(mention_watches, mention_watches.c.mention_id == c.id)
        .where(mention_watches.c.watch == watch, unhappy(), c.deleted_at.is_(None))
        .order_by(c.created_at.desc(), c.id.desc())
        .limit(limit)
    )
    if ids is not None:
        query = query.where(c.id.in_(list(ids)))
    return [
        UnhappyMention(row.id, scoring_text(row.title, row.text), row.created_at)
        for row in connection.execute(query)
    ]


def watches_of(connection: Connection, mention_ids: Collection[int]) -> dict[int, list[str]]:
    rows = connection.execute(
        select(mention_watches.c.mention_id, mention_watches.c.watch).where(
            mention_watches.c.mention_id.in_(list(mention_ids))
        )
    )
    found: dict[int, list[str]] = {}
    for mention_id, watch in rows:
        found.setdefault(mention_id, []).append(watch)
    return found


# Topics


@dataclass(frozen=True)
class Topic:
    id: int
    watch: str
    name: str
    auto_name: str
    named_by: str | None
    seed: str | None
    status: str
    merged_into: int | None
    centroid: Vector
    size: int
    pinned: bool
    created_at: datetime
    updated_at: datetime


def _topic(row: Any) -> Topic:
    return Topic(
        id=row.id,
        watch=row.watch,
        name=row.name,
        auto_name=row.auto_name,
        named_by=row.named_by,
        seed=row.seed,
        status=row.status,
        merged_into=row.merged_into,
        centroid=from_bytes(row.centroid),
        size=row.size,
        pinned=bool(row.pinned),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def watch_topics(connection: Connection, watch: str, statuses: Iterable[str] = ("active",)) -> list[Topic]:
    query = (
        select(topics)
        .where(topics.c.watch == watch, topics.c.status.in_(list(statuses)))
        .order_by(topics.c.id)
    )
    return [_topic(row) for row in connection.execute(query)]


def lock_watches(connection: Connection, watches: Collection[str]) -> None:
    """Take these watches' topics until the transaction ends. A refit and the scoring job's assignment
    both do, before they read: otherwise an assignment made against the topics a refit is replacing
    lands in a retired topic or, on PostgreSQL, collides with the refit's row for the same mention.
    PostgreSQL: the topic rows, in id order (two lockers never deadlock); SQLite: its write lock."""
    if connection.dialect.name == "sqlite":
        if not connection.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        return
    connection.execute(
        select(topics.c.id).where(topics.c.watch.in_(list(watches))).order_by(topics.c.id).with_for_update()
    ).all()


def get_topic(connection: Connection, topic_id: int) -> Topic | None:
    row = connection.execute(select(topics).where(topics.c.id == topic_id)).first()
    return _topic(row) if row else None


def add_topic(
    connection: Connection,
    watch: str,
    name: str,
    centroid: Vector,
    size: int,
    now: datetime,
    *,
    seed: str | None = None,
    pinned: bool = False,
) -> int:
    result = connection.execute(
        insert(topics).values(
            watch=watch,
            name=name,
            auto_name=name,
            seed=seed,
            status="active",
            centroid=to_bytes(centroid),
            size=size,
            pinned=int(pinned),
            created_at=now,
            updated_at=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None  # an insert of one row always has it
    return int(key[0])


def change_topic(connection: Connection, topic_id: int, now: datetime, **values: Any) -> None:
    if "centroid" in values:
        values["centroid"] = to_bytes(values["centroid"])
    if "pinned" in values:
        values["pinned"] = int(values["pinned"])
    connection.execute(update(topics).where(topics.c.id == topic_id).values(updated_at=now, **values))


def record_event(
    connection: Connection,
    watch: str,
    topic_id: int | None,
    kind: str,
    actor: str,
    detail: Mapping[str, Any],
    now: datetime,
) -> None:
    connection.execute(
        insert(topic_events).values(
            watch=watch, topic_id=topic_id, kind=kind, actor=actor, detail=dict(detail), at=now
        )
    )


@dataclass(frozen=True)
class TopicEvent:
    watch: str
    topic_id: int | None
    kind: str
    actor: str
    detail: Mapping[str, Any]
    at: datetime


def events(engine: Engine, watch: str | None = None, *, limit: int = 200) -> list[TopicEvent]:
    query = select(topic_events).order_by(topic_events.c.id.desc()).limit(limit)
    if watch is not None:
        query = query.where(topic_events.c.watch == watch)
    with engine.connect() as connection:
        return [
            TopicEvent(r.watch, r.topic_id, r.kind, r.actor, r.detail or {}, r.at)
            for r in connection.execute(query)
        ]


# Assignments


@dataclass(frozen=True)
class Assignment:
    mention_id: int
    topic_id: int
    similarity: float


def replace_assignments(
    connection: Connection,
    watch: str,
    rows: Sequence[Assignment],
    how: str,
    now: datetime,
    active: Collection[int],
) -> None:
    """A refit's assignment: `rows` replace their mentions' rows. Another mention of the watch (one
    scored while the refit ran, or older than the most a refit reads) keeps its topic while the topic
    is one of the refit's `active` ones and the mention is still unhappy; other rows go."""
    still_unhappy = select(mentions.c.id).where(unhappy(), mentions.c.deleted_at.is_(None))
    connection.execute(
        delete(mention_topics).where(
            mention_topics.c.watch == watch,
            or_(
                mention_topics.c.topic_id.not_in(list(active)),
                mention_topics.c.mention_id.not_in(still_unhappy),
            ),
        )
    )
    assign(connection, watch, rows, how, now)


def assign(connection: Connection, watch: str, rows: Sequence[Assignment], how: str, now: datetime) -> None:
    """Put each mention in its topic for this watch (moving it if it was in another)."""
    if not rows:
        return
    connection.execute(
        delete(mention_topics).where(
            mention_topics.c.watch == watch,
            mention_topics.c.mention_id.in_([row.mention_id for row in rows]),
        )
    )
    connection.execute(
        insert(mention_topics),
        [
            {
                "mention_id": row.mention_id,
                "watch": watch,
                "topic_id": row.topic_id,
                "similarity": float(row.similarity),
                "how": how,
                "assigned_at": now,
            }
            for row in rows
        ],
    )


def current_topics(connection: Connection, watch: str, mention_ids: Collection[int]) -> dict[int, int]:
    """{mention id: topic id} for those of `mention_ids` already in a topic of the watch."""
    rows = connection.execute(
        select(mention_topics.c.mention_id, mention_topics.c.topic_id).where(
            mention_topics.c.watch == watch, mention_topics.c.mention_id.in_(list(mention_ids))
        )
    )
    return {int(m): int(t) for m, t in rows}


def add_to_sizes(connection: Connection, changes: Mapping[int, int], now: datetime) -> None:
    """Move topic sizes by `changes` ({topic id: +n or -n}) without recounting every member."""
    for topic_id, change in changes.items():
        if change:
            connection.execute(
                update(topics)
                .where(topics.c.id == topic_id)
                .values(size=topics.c.size + change, updated_at=now)
            )


def members(connection: Connection, topic_id: int) -> list[int]:
    query = select(mention_topics.c.mention_id).where(mention_topics.c.topic_id == topic_id)
    return [row[0] for row in connection.execute(query.order_by(mention_topics.c.mention_id))]


def recount(connection: Connection, watch: str, now: datetime) -> None:
    """Each active topic's size from its members."""
    counts: dict[int, int] = {
        int(topic_id): int(count)
        for topic_id, count in connection.execute(
            select(mention_topics.c.topic_id, func.count())
            .where(mention_topics.c.watch == watch)
            .group_by(mention_topics.c.topic_id)
        )
    }
    for topic in watch_topics(connection, watch):
        if counts.get(topic.id, 0) != topic.size:
            change_topic(connection, topic.id, now, size=int(counts.get(topic.id, 0)))


@dataclass(frozen=True)
class MentionTopic:
    watch: str
    topic_id: int
    name: str


def topics_of(connection: Connection, mention_ids: Collection[int]) -> dict[int, list[MentionTopic]]:
    """The topic of each mention, per watch (for the inbox cards, the mention page and the export)."""
    if not mention_ids:
        return {}
    rows = connection.execute(
        select(mention_topics.c.mention_id, mention_topics.c.watch, topics.c.id, topics.c.name)
        .join(topics, topics.c.id == mention_topics.c.topic_id)
        .where(mention_topics.c.mention_id.in_(list(mention_ids)))
        .order_by(mention_topics.c.mention_id, mention_topics.c.watch)
    )
    found: dict[int, list[MentionTopic]] = {}
    for mention_id, watch, topic_id, name in rows:
        found.setdefault(mention_id, []).append(MentionTopic(watch, topic_id, name))
    return found


def counts_between(connection: Connection, watch: str, start: datetime, end: datetime) -> dict[int, int]:
    """Per topic of the watch: its mentions posted in [start, end)."""
    query = (
        select(mention_topics.c.topic_id, func.count())
        .join(mentions, mentions.c.id == mention_topics.c.mention_id)
        .where(
            mention_topics.c.watch == watch,
            and_(mentions.c.created_at >= start, mentions.c.created_at < end),
        )
        .group_by(mention_topics.c.topic_id)
    )
    return {int(topic_id): int(count) for topic_id, count in connection.execute(query)}


def examples(connection: Connection, topic_id: int, limit: int = 3) -> list[dict[str, Any]]:
    """The topic's most representative mentions: the closest to its centroid."""
    query = (
        select(mentions.c.id, mentions.c.text, mentions.c.url, mentions.c.created_at)
        .join(mention_topics, mention_topics.c.mention_id == mentions.c.id)
        .where(mention_topics.c.topic_id == topic_id)
        .order_by(mention_topics.c.similarity.desc(), mentions.c.id)
        .limit(limit)
    )
    return [dict(row._mapping) for row in connection.execute(query)]


def last_alerted(connection: Connection, topic_id: int) -> tuple[str, datetime] | None:
    """The key and last sighting of this topic's latest emerging-topic alert (monitor/topics/emerging.py)."""
    row = connection.execute(
        select(alert_events.c.key, alert_events.c.last_seen_at)
        .where(alert_events.c.key.like(f"emerging:{topic_id}:%"))
        .order_by(alert_events.c.last_seen_at.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def first_topic_at(connection: Connection, watch: str) -> datetime | None:
    """When the watch's first topic was made (its first refit)."""
    found: datetime | None = connection.scalar(
        select(func.min(topics.c.created_at)).where(topics.c.watch == watch)
    )
    return found


def topic_times(
    connection: Connection, watch: str, start: datetime, end: datetime
) -> list[tuple[int, datetime]]:
    """(topic id, posted at) of the watch's topic mentions posted in [start, end)."""
    query = (
        select(mention_topics.c.topic_id, mentions.c.created_at)
        .join(mentions, mentions.c.id == mention_topics.c.mention_id)
        .where(mention_topics.c.watch == watch, mentions.c.created_at >= start, mentions.c.created_at < end)
    )
    return [(int(topic_id), created_at) for topic_id, created_at in connection.execute(query)]
