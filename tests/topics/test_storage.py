"""The topic tables on both databases: vectors round-trip exactly, a refit's writes and a person's edits
land, a mention's topic is read back for the export, and deleting a mention takes its rows with it."""

from __future__ import annotations

import datetime as dt
import threading

import numpy as np
import pytest
from sqlalchemy import Engine, delete, func, select

from monitor.store import topic_vectors
from monitor.store import topics as store
from monitor.store.filters import MentionFilter
from monitor.store.mentions import iter_all
from monitor.store.schema import mention_embeddings, mention_topics, mentions
from monitor.topics import edits
from monitor.topics.assign import assign_new
from monitor.topics.embed import store_missing
from monitor.topics.refit import refit_watch
from tests.alerts.conftest import NOW
from tests.topics.conftest import WATCH, WordEmbedder, add_corpus

pytestmark = pytest.mark.both_databases


def test_topics_are_stored_and_read_back_on_both_databases(engine: Engine, embedder: WordEmbedder) -> None:
    corpus = add_corpus(engine, per_reason=20)
    with engine.begin() as connection:
        vector = np.linspace(-1, 1, 48, dtype=np.float32)
        topic_vectors.save_vectors(connection, {corpus["refund"][0]: vector}, "other-version", NOW)
        assert np.array_equal(
            topic_vectors.stored_vectors(connection, [corpus["refund"][0]], "other-version")[
                corpus["refund"][0]
            ],
            vector,
        )
    outcome = refit_watch(engine, embedder, WATCH, now=NOW)
    assert outcome.skipped is None and len(outcome.created) >= 2
    with engine.connect() as connection:
        topics = store.watch_topics(connection, "acme")
        # The vector of another encoder version was made again under this one.
        assert topic_vectors.stored_vectors(connection, [corpus["refund"][0]], "other-version") == {}
        assert corpus["refund"][0] in topic_vectors.stored_vectors(
            connection, [corpus["refund"][0]], embedder.version
        )
        found = store.topics_of(connection, corpus["login"][:1])
        assert sum(t.size for t in topics) == 60
        assert store.counts_between(
            connection, "acme", NOW - dt.timedelta(hours=1), NOW + dt.timedelta(hours=1)
        )
    [mine] = found[corpus["login"][0]]
    edits.rename(engine, mine.topic_id, "Can't sign in", "ana", now=NOW)
    exported = {row["id"]: row for row in iter_all(engine, MentionFilter())}
    row = exported[corpus["login"][0]]
    assert (row["topic_id"], row["topic"]) == (mine.topic_id, "Can't sign in")
    assert row["topics"] == [{"watch": "acme", "id": mine.topic_id, "name": "Can't sign in"}]
    with engine.begin() as connection:
        connection.execute(delete(mentions).where(mentions.c.id == corpus["login"][0]))
    with engine.connect() as connection:
        for table in (mention_topics, mention_embeddings):
            count = connection.scalar(
                select(func.count()).select_from(table).where(table.c.mention_id == corpus["login"][0])
            )
            assert count == 0
    [renamed] = [e for e in store.events(engine, "acme") if e.kind == "renamed"]
    assert renamed.actor == "ana" and renamed.detail == {"from": mine.name, "to": "Can't sign in"}


def test_a_new_mention_joins_its_topic_and_a_refit_keeps_the_ids_on_both_databases(
    engine: Engine, embedder: WordEmbedder
) -> None:
    corpus = add_corpus(engine, per_reason=20)
    refit_watch(engine, embedder, WATCH, now=NOW)
    with engine.connect() as connection:
        before = {t.id: (t.name, t.size) for t in store.watch_topics(connection, "acme")}
        [[delivery]] = store.topics_of(connection, corpus["delivery"][:1]).values()
    later = NOW + dt.timedelta(minutes=5)
    new = add_corpus(engine, per_reason=1, start=900, seed=7, reasons=("delivery",), created_at=later)
    assert assign_new(engine, lambda: embedder, new["delivery"], now=later) == 1
    with engine.connect() as connection:
        [[joined]] = store.topics_of(connection, new["delivery"]).values()
        grown = {t.id: t.size for t in store.watch_topics(connection, "acme")}
    assert joined.topic_id == delivery.topic_id
    assert grown == {i: size + (i == delivery.topic_id) for i, (_, size) in before.items()}
    outcome = refit_watch(engine, embedder, WATCH, now=later)
    assert sorted(outcome.kept) == sorted(before) and not outcome.created
    with engine.connect() as connection:
        assert {t.id: t.name for t in store.watch_topics(connection, "acme")} == {
            i: name for i, (name, _) in before.items()
        }
        assert (
            store.topics_of(connection, new["delivery"])[new["delivery"][0]][0].topic_id == delivery.topic_id
        )


def test_an_assignment_waits_for_a_refit_and_uses_its_topics_on_both_databases(
    engine: Engine, embedder: WordEmbedder
) -> None:
    add_corpus(engine, per_reason=20)
    refit_watch(engine, embedder, WATCH, now=NOW)
    new = add_corpus(engine, per_reason=1, start=900, seed=7, reasons=("login",))
    with engine.connect() as connection:  # its vector already stored: nothing for it to write first
        store_missing(engine, embedder, store.unhappy_mentions(connection, "acme", ids=new["login"]), NOW)
    assigned: list[int] = []
    worker = threading.Thread(
        target=lambda: assigned.append(assign_new(engine, lambda: embedder, new["login"]))
    )
    with engine.begin() as connection:
        store.lock_watches(connection, ["acme"])  # as a refit does first
        worker.start()
        worker.join(1.5)
        assert worker.is_alive() and not assigned  # it waits for the refit's transaction
        # What the refit writes meanwhile: every old topic retired, one new topic.
        for topic in store.watch_topics(connection, "acme"):
            store.change_topic(connection, topic.id, NOW, status="retired")
        only = store.add_topic(connection, "acme", "everything", np.ones(48, np.float32) / 48**0.5, 60, NOW)
    worker.join(30)
    assert assigned == [1]
    with engine.connect() as connection:  # read after the refit: its topic, not a retired one
        assert store.topics_of(connection, new["login"])[new["login"][0]][0].topic_id == only
