"""What people see of a watch's complaint topics: each active topic with its size, its share of the
watch's unhappy mentions, this period against the one before, and its most representative mentions.
One view for the CLI, the dashboard's Topics page and the digests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from monitor.mention import utcnow
from monitor.store import topics as store

PERIOD = timedelta(days=7)


@dataclass(frozen=True)
class TopicSummary:
    id: int
    watch: str
    name: str
    size: int
    share: float  # of the watch's unhappy mentions in a topic
    this_period: int
    last_period: int
    created_at: datetime
    seed: str | None = None
    named_by: str | None = None
    auto_name: str = ""
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def trend(self) -> str:
        """This period against the one before, in words a digest can carry."""
        if self.last_period == 0:
            return "new" if self.this_period else "quiet"
        change = (self.this_period - self.last_period) / self.last_period
        return f"{change:+.0%}"


def summaries(
    engine: Engine,
    watch: str,
    *,
    now: datetime | None = None,
    period: timedelta = PERIOD,
    examples: int = 0,
) -> list[TopicSummary]:
    """The watch's active topics, largest first."""
    now = now or utcnow()
    with engine.connect() as connection:
        topics = store.watch_topics(connection, watch)
        current = store.counts_between(connection, watch, now - period, now)
        before = store.counts_between(connection, watch, now - 2 * period, now - period)
        total = sum(t.size for t in topics) or 1
        found = [
            TopicSummary(
                id=t.id,
                watch=watch,
                name=t.name,
                size=t.size,
                share=t.size / total,
                this_period=current.get(t.id, 0),
                last_period=before.get(t.id, 0),
                created_at=t.created_at,
                seed=t.seed,
                named_by=t.named_by,
                auto_name=t.auto_name,
                examples=store.examples(connection, t.id, examples) if examples else [],
            )
            for t in topics
        ]
    return sorted(found, key=lambda s: (-s.size, s.id))


def topic_choices(engine: Engine, watches: list[str]) -> dict[int, str]:
    """{topic id: "watch: name"} of every active topic of these watches (the inbox's topic filter)."""
    with engine.connect() as connection:
        return {
            t.id: f"{watch}: {t.name}" if len(watches) > 1 else t.name
            for watch in watches
            for t in store.watch_topics(connection, watch)
        }


def mention_topics(engine: Engine, mention_id: int) -> list[store.MentionTopic]:
    """The mention's complaint topic in each of its watches that has one (the mention page)."""
    with engine.connect() as connection:
        return store.topics_of(connection, [mention_id]).get(mention_id, [])


@dataclass(frozen=True)
class PeriodTopic:
    """A topic's mentions posted in a period (a digest's), against the period as long before it."""

    watch: str
    name: str
    count: int
    previous: int
    new: bool  # first fitted within the period


def period_topics(engine: Engine, watches: list[str], start: datetime, end: datetime) -> list[PeriodTopic]:
    """Every active topic of these watches with a mention posted in [start, end), busiest first."""
    found = []
    with engine.connect() as connection:
        for watch in watches:
            current = store.counts_between(connection, watch, start, end)
            before = store.counts_between(connection, watch, start - (end - start), start)
            for topic in store.watch_topics(connection, watch):
                if current.get(topic.id, 0):
                    found.append(
                        PeriodTopic(
                            watch,
                            topic.name,
                            current[topic.id],
                            before.get(topic.id, 0),
                            topic.created_at >= start,
                        )
                    )
    return sorted(found, key=lambda t: (-t.count, t.watch, t.name))


@dataclass(frozen=True)
class TopicDay:
    day: datetime  # the UTC day's start
    watch: str
    topic: str
    count: int


def topic_days(engine: Engine, watches: list[str], start: datetime, end: datetime) -> list[TopicDay]:
    """Mentions per topic per UTC day in [start, end), for the Trends chart (topics over time)."""
    counted: dict[tuple[datetime, str, str], int] = {}
    with engine.connect() as connection:
        for watch in watches:
            names = {t.id: t.name for t in store.watch_topics(connection, watch)}
            for topic_id, created_at in store.topic_times(connection, watch, start, end):
                if topic_id in names:
                    day = created_at.replace(hour=0, minute=0, second=0, microsecond=0)
                    key = (day, watch, names[topic_id])
                    counted[key] = counted.get(key, 0) + 1
    return [TopicDay(day, watch, name, n) for (day, watch, name), n in sorted(counted.items())]
