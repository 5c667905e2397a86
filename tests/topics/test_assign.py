"""A newly scored unhappy mention joins its nearest topic at once, through the scoring job."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from monitor.config import parse_config
from monitor.jobs import Jobs, ModelHolder
from monitor.mention import Mention
from monitor.store import topics as store
from monitor.store.mentions import import_mentions
from monitor.store.schema import mention_topics, mentions
from monitor.topics.embed import EmbedderHolder
from monitor.topics.refit import refit_watch
from tests.alerts.conftest import NOW
from tests.topics.conftest import WATCH, WordEmbedder, add_corpus


def jobs_for(engine: Engine, model: Any, embedder: WordEmbedder, **topics: Any) -> Jobs:
    config = parse_config(
        {"database_url": "sqlite://", "watches": [{"name": "acme", "keywords": ["acme"]}], "topics": topics},
        None,
        {},
    )
    jobs = Jobs(config, engine, ModelHolder(lambda: model))
    jobs.embedder = EmbedderHolder(lambda: embedder)
    return jobs


def review(n: int, text: str, stars: float) -> Mention:
    return Mention(source="appstore", external_id=f"r{n}", text=text, created_at=NOW, rating=stars)


def placed(engine: Engine) -> dict[str, tuple[int, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(mentions.c.external_id, mention_topics.c.topic_id, mention_topics.c.how).join(
                mention_topics, mention_topics.c.mention_id == mentions.c.id
            )
        )
        return {external_id: (topic_id, how) for external_id, topic_id, how in rows}


def test_a_scored_unhappy_mention_joins_its_nearest_topic_and_a_happy_one_none(
    sqlite_engine: Engine, tiny_model: Any, embedder: WordEmbedder
) -> None:
    corpus = add_corpus(sqlite_engine)
    refit_watch(sqlite_engine, embedder, WATCH, now=NOW)
    before = placed(sqlite_engine)
    login_topic = before[f"m{1000 + 1}"][0]  # the first login complaint's topic
    with sqlite_engine.connect() as connection:
        size = {t.id: t.size for t in store.watch_topics(connection, "acme")}
    import_mentions(
        sqlite_engine,
        "acme",
        [
            # Stars decide the verdict over the (tiny, random) model's reading of the text.
            review(1, "acme locked me out: password reset code never comes, cannot login", 1.0),
            review(2, "acme is lovely, the login is quick", 5.0),
        ],
    )
    jobs_for(sqlite_engine, tiny_model, embedder).score()
    after = placed(sqlite_engine)
    assert after["r1"] == (login_topic, "nearest")
    assert "r2" not in after  # a happy review is in no complaint topic
    assert {k: v for k, v in after.items() if k.startswith("m")} == before
    with sqlite_engine.connect() as connection:
        grown = {t.id: t.size for t in store.watch_topics(connection, "acme")}
    assert grown == {**size, login_topic: size[login_topic] + 1}
    assert len(corpus["login"]) == 40


def test_with_no_topics_yet_scoring_never_loads_the_encoder(sqlite_engine: Engine, tiny_model: Any) -> None:
    def refuse() -> WordEmbedder:
        raise AssertionError("the encoder was loaded")

    import_mentions(sqlite_engine, "acme", [review(1, "acme never refunded me", 1.0)])
    jobs = jobs_for(sqlite_engine, tiny_model, WordEmbedder())
    jobs.embedder = EmbedderHolder(refuse)
    jobs.score()  # the watch has no topics yet: nothing to join
    assert placed(sqlite_engine) == {}
