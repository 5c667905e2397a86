"""What people see of a topic (the CLI, the Topics page, the digests read it): its size, its share of
the watch's unhappy mentions, this period against the one before, and its most representative mentions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select

from monitor.store import topics as store
from monitor.store.schema import mention_topics
from monitor.topics.refit import refit_watch
from monitor.topics.report import summaries
from tests.alerts.conftest import NOW
from tests.topics.conftest import WATCH, WordEmbedder, add_corpus


def test_a_topic_shows_its_size_share_trend_and_closest_mentions(
    sqlite_engine: Engine, embedder: WordEmbedder
) -> None:
    # The week before: 20 complaints of each reason. This week: 10 more about refunds, none else.
    add_corpus(sqlite_engine, per_reason=20, created_at=NOW - dt.timedelta(days=10))
    refunds = add_corpus(
        sqlite_engine,
        per_reason=10,
        start=500,
        seed=3,
        reasons=("refund",),
        created_at=NOW - dt.timedelta(days=1),
    )
    refit_watch(sqlite_engine, embedder, WATCH, now=NOW)
    found = summaries(sqlite_engine, "acme", now=NOW, examples=2)
    assert [t.size for t in found] == sorted((t.size for t in found), reverse=True)  # largest first
    assert sum(t.size for t in found) == 70 and abs(sum(t.share for t in found) - 1) < 1e-9
    with sqlite_engine.connect() as connection:
        [[mine]] = store.topics_of(connection, refunds["refund"][:1]).values()
        closest = (
            connection.execute(
                select(mention_topics.c.mention_id)
                .where(mention_topics.c.topic_id == mine.topic_id)
                .order_by(mention_topics.c.similarity.desc(), mention_topics.c.mention_id)
                .limit(2)
            )
            .scalars()
            .all()
        )
    [refund] = [t for t in found if t.id == mine.topic_id]
    assert (refund.this_period, refund.last_period, refund.trend) == (10, 20, "-50%")
    assert refund.share == refund.size / 70
    quiet = [t for t in found if t.id != refund.id]
    assert quiet and all(t.this_period == 0 and t.trend == "-100%" for t in quiet)
    assert all(len(t.examples) == 2 for t in found)
    assert [example["id"] for example in refund.examples] == list(closest)  # nearest its centroid
