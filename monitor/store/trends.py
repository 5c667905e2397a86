"""Aggregates for the trends and sources pages and the spike alert: counts per time bucket, by label and
by watch or source, and where a watch's or source's history starts."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection, Engine, Select, case, func, select

from monitor.store.filters import MentionFilter, filtered
from monitor.store.schema import mention_watches, mentions

Unit = Literal["hour", "day"]
GroupBy = Literal["watch", "source"]


@dataclass(frozen=True)
class BucketCount:
    bucket: datetime
    group: str
    label: str
    count: int


def _bucket(dialect: str, unit: Unit) -> Any:
    if dialect == "postgresql":
        return func.date_trunc(unit, func.timezone("UTC", mentions.c.created_at))
    return func.strftime(
        "%Y-%m-%d %H:00:00" if unit == "hour" else "%Y-%m-%d 00:00:00", mentions.c.created_at
    )


def _as_datetime(value: Any) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _group(by: GroupBy) -> Any:
    return (mention_watches.c.watch if by == "watch" else mentions.c.source).label("grp")


def _per_group(query: Select[Any], where: MentionFilter, by: GroupBy) -> Select[Any]:
    """`query` (which selects `_group(by)`) over the mentions `where` selects, a mention counted under
    each of its watches (only those asked for) when grouped by watch."""
    if by == "watch":
        query = query.select_from(
            mentions.join(mention_watches, mention_watches.c.mention_id == mentions.c.id)
        )
        if where.watches:
            # On the joined link itself: the filter's EXISTS would correlate away its only table, and
            # a mention of several watches counts only under those asked for.
            query = query.where(mention_watches.c.watch.in_(where.watches))
            where = replace(where, watches=())
    return filtered(query, where)


def volume(engine: Engine, where: MentionFilter, unit: Unit, by: GroupBy) -> list[BucketCount]:
    bucket = _bucket(engine.dialect.name, unit).label("bucket")
    label = func.coalesce(mentions.c.label, "unscored").label("label")
    group = _group(by)
    query = select(bucket, group, label, func.count().label("n"))
    query = _per_group(query, where, by).group_by(bucket, group, label).order_by(bucket)
    with engine.connect() as connection:
        return [
            BucketCount(_as_datetime(row.bucket), row.grp, row.label, int(row.n))
            for row in connection.execute(query)
        ]


def negative_counts(engine: Engine, where: MentionFilter, by: GroupBy) -> dict[str, tuple[int, int]]:
    """Per watch or source: (all mentions, negative ones) among those `where` selects."""
    group = _group(by)
    negative = func.sum(case((mentions.c.label == "negative", 1), else_=0))
    query = _per_group(select(group, func.count().label("n"), negative.label("neg")), where, by)
    with engine.connect() as connection:
        return {row.grp: (int(row.n), int(row.neg or 0)) for row in connection.execute(query.group_by(group))}


def texts(engine: Engine, where: MentionFilter, limit: int = 5000) -> list[str]:
    """The newest texts matching `where`, for term counts; bounded so a busy month stays quick."""
    query = filtered(select(mentions.c.title, mentions.c.text), where).order_by(mentions.c.created_at.desc())
    with engine.connect() as connection:
        return [f"{row.title or ''} {row.text}" for row in connection.execute(query.limit(limit))]


def first_mention_at(connection: Connection, where: MentionFilter) -> datetime | None:
    """When the history of what `where` selects (a watch, a source) starts: the first mention's time.
    Days before it are unknown, not quiet."""
    query = filtered(select(mentions.c.created_at), where).order_by(mentions.c.created_at).limit(1)
    first: datetime | None = connection.scalar(query)
    return first
