"""Refits find the reasons, keep ids and names when the topics are the same, and keep people's edits."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from monitor.store import topics as store
from monitor.store.schema import mention_topics, mentions
from monitor.topics import edits
from monitor.topics.refit import refit_watch
from tests.alerts.conftest import NOW
from tests.topics.conftest import REASONS, WATCH, WordEmbedder, add_corpus


def assignment(engine: Engine) -> dict[int, int]:
    with engine.connect() as connection:
        rows = connection.execute(select(mention_topics.c.mention_id, mention_topics.c.topic_id))
        return {int(m): int(t) for m, t in rows}


def topic_of_reason(engine: Engine, ids: list[int]) -> int:
    found = assignment(engine)
    topics = {found[i] for i in ids}
    assert len(topics) == 1, f"one reason spread over topics {topics}"
    return topics.pop()


def test_a_refit_groups_each_reason_names_it_without_the_brand_and_leaves_nobody_out(
    sqlite_engine: Engine, embedder: WordEmbedder
) -> None:
    corpus = add_corpus(sqlite_engine)
    outcome = refit_watch(sqlite_engine, embedder, WATCH, now=NOW)
    assert outcome.skipped is None and outcome.mentions == 120
    found = assignment(sqlite_engine)
    assert len(found) == 120  # no outlier bucket: every unhappy mention is in a topic
    by_reason = {reason: topic_of_reason(sqlite_engine, ids) for reason, ids in corpus.items()}
    assert len(set(by_reason.values())) == 3
    with sqlite_engine.connect() as connection:
        topics = {t.id: t for t in store.watch_topics(connection, "acme")}
    # The seed topic anchors its reason and carries the team's word as its name.
    assert topics[by_reason["refund"]].name == "refund" and topics[by_reason["refund"]].seed == "refund"
    for reason in ("login", "delivery"):
        name = topics[by_reason[reason]].name
        assert set(" ".join(name.split(" · ")).split()) <= set(REASONS[reason].split()), name
        assert "acme" not in name and "acmehelp" not in name and "http" not in name


def test_a_refit_of_the_same_mentions_keeps_every_id_name_and_assignment(
    sqlite_engine: Engine, embedder: WordEmbedder
) -> None:
    add_corpus(sqlite_engine)
    refit_watch(sqlite_engine, embedder, WATCH, now=NOW)
    first = assignment(sqlite_engine)
    with sqlite_engine.connect() as connection:
        names = {t.id: t.name for t in store.watch_topics(connection, "acme")}
    calls = embedder.calls
    outcome = refit_watch(sqlite_engine, embedder, WATCH, now=NOW + dt.timedelta(days=1))
    assert embedder.calls == calls  # the vectors were stored: a refit does not embed again
    assert assignment(sqlite_engine) == first
    assert outcome.created == [] and outcome.merged == [] and outcome.retired == [] and outcome.renamed == []
    with sqlite_engine.connect() as connection:
        assert {t.id: t.name for t in store.watch_topics(connection, "acme")} == names


def partition(engine: Engine) -> set[frozenset[str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(mentions.c.external_id, mention_topics.c.topic_id).join(
                mention_topics, mention_topics.c.mention_id == mentions.c.id
            )
        )
        groups: dict[int, set[str]] = {}
        for external_id, topic_id in rows:
            groups.setdefault(topic_id, set()).add(external_id)
    return {frozenset(group) for group in groups.values()}


def test_the_same_mentions_read_in_another_order_make_the_same_topics(
    sqlite_engine: Engine, engine: Engine, embedder: WordEmbedder
) -> None:
    add_corpus(sqlite_engine)
    add_corpus(engine, order_seed=7)  # stored shuffled: other ids, another reading order
    refit_watch(sqlite_engine, embedder, WATCH, now=NOW)
    refit_watch(engine, embedder, WATCH, now=NOW)
    assert partition(sqlite_engine) == partition(engine)


def test_new_mentions_of_the_same_reasons_keep_their_topics_and_a_new_reason_gets_new_ones(
    sqlite_engine: Engine, embedder: WordEmbedder
) -> None:
    add_corpus(sqlite_engine, reasons=("refund", "login"))
    refit_watch(sqlite_engine, embedder, WATCH, now=NOW)
    before = assignment(sqlite_engine)
    more = add_corpus(sqlite_engine, start=100, seed=3, created_at=NOW + dt.timedelta(hours=1))
    outcome = refit_watch(sqlite_engine, embedder, WATCH, now=NOW + dt.timedelta(days=1))
    after = assignment(sqlite_engine)
    kept = sum(after[i] == topic for i, topic in before.items()) / len(before)
    assert kept >= 0.9
    assert {after[i] for i in more["delivery"]} <= set(outcome.created)
    created = [e.topic_id for e in store.events(sqlite_engine, "acme") if e.kind == "created"]
    assert set(outcome.created) <= set(created)


def test_a_persons_rename_survives_a_refit(sqlite_engine: Engine, embedder: WordEmbedder) -> None:
    corpus = add_corpus(sqlite_engine)
    refit_watch(sqlite_engine, embedder, WATCH, now=NOW)
    login = topic_of_reason(sqlite_engine, corpus["login"])
    edits.rename(sqlite_engine, login, "Can't sign in", "ana", now=NOW)
    add_corpus(sqlite_engine, start=100, seed=5, created_at=NOW + dt.timedelta(hours=1))
    refit_watch(sqlite_engine, embedder, WATCH, now=NOW + dt.timedelta(days=1))
    with sqlite_engine.connect() as connection:
        topic = store.get_topic(connection, login)
    assert topic is not None and topic.status == "active"
    assert topic.name == "Can't sign in" and topic.named_by == "ana"
    renamed = [e for e in store.events(sqlite_engine, "acme") if e.kind == "renamed"]
    assert [(e.actor, e.detail["to"]) for e in renamed] == [("ana", "Can't sign in")]


def test_a_persons_merge_and_split_survive_a_refit(sqlite_engine: Engine, embedder: WordEmbedder) -> None:
    corpus = add_corpus(sqlite_engine)
    refit_watch(sqlite_engine, embedder, WATCH, now=NOW)
    login = topic_of_reason(sqlite_engine, corpus["login"])
    delivery = topic_of_reason(sqlite_engine, corpus["delivery"])
    edits.merge(sqlite_engine, delivery, login, "ana", now=NOW)
    assert topic_of_reason(sqlite_engine, corpus["login"] + corpus["delivery"]) == login
    refit_watch(sqlite_engine, embedder, WATCH, now=NOW + dt.timedelta(days=1))
    assert topic_of_reason(sqlite_engine, corpus["login"] + corpus["delivery"]) == login

    refund = topic_of_reason(sqlite_engine, corpus["refund"])
    edits.merge(sqlite_engine, refund, login, "ana", now=NOW)  # now all three in one
    new = edits.split(sqlite_engine, login, "ana", now=NOW)
    halves = assignment(sqlite_engine)
    assert {halves[i] for i in corpus["login"] + corpus["delivery"] + corpus["refund"]} == {login, new}
    refit_watch(sqlite_engine, embedder, WATCH, now=NOW + dt.timedelta(days=2))
    with sqlite_engine.connect() as connection:
        active = {t.id for t in store.watch_topics(connection, "acme")}
    assert {login, new} <= active
    # The halves stay apart: no mention crosses the person's line (a refit may still find more).
    after = assignment(sqlite_engine)
    assert all(after[i] == new for i, topic in halves.items() if topic == new)
    assert all(after[i] != new for i, topic in halves.items() if topic == login)
    kinds = [(e.kind, e.actor) for e in store.events(sqlite_engine, "acme")]
    assert ("split", "ana") in kinds and kinds.count(("merged", "ana")) == 2


def test_a_watch_with_few_unhappy_mentions_has_no_topics_yet(
    sqlite_engine: Engine, embedder: WordEmbedder
) -> None:
    add_corpus(sqlite_engine, per_reason=3)
    outcome = refit_watch(sqlite_engine, embedder, WATCH, now=NOW)
    assert outcome.skipped is not None and "9 unhappy mentions" in outcome.skipped
    assert embedder.calls == 0 and assignment(sqlite_engine) == {}


def test_a_refit_keeps_a_topic_joined_while_it_ran_and_drops_a_mention_no_longer_unhappy(
    sqlite_engine: Engine, embedder: WordEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = add_corpus(sqlite_engine)
    refit_watch(sqlite_engine, embedder, WATCH, now=NOW)
    late, cheered = corpus["login"][0], corpus["refund"][0]
    before = assignment(sqlite_engine)
    with sqlite_engine.begin() as connection:  # a person corrects one to positive
        connection.execute(update(mentions).where(mentions.c.id == cheered).values(label="positive"))
    read = store.unhappy_mentions

    def without_late(*args: Any, **kwargs: Any) -> list[store.UnhappyMention]:
        # As if `late` was scored, and joined its topic, after the refit had read the mentions.
        return [m for m in read(*args, **kwargs) if m.id != late]

    monkeypatch.setattr(store, "unhappy_mentions", without_late)
    outcome = refit_watch(sqlite_engine, embedder, WATCH, now=NOW + dt.timedelta(days=1))
    after = assignment(sqlite_engine)
    assert before[late] in outcome.kept and after[late] == before[late]
    assert cheered not in after
    assert len(after) == 119
