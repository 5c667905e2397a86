"""The Topics page and the inbox's topic filter and card, through AppTest on a real SQLite store; and a
digest's "top complaint topics this period" and "new this period"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from monitor.config import DigestList
from monitor.store import topics as store
from monitor.surface.digest import build_digest
from monitor.surface.shares import Counts
from monitor.topics.refit import refit_watch
from monitor.topics.report import PeriodTopic
from tests.alerts.conftest import NOW
from tests.dashboard.conftest import Seeded, make_store, run_app
from tests.topics.conftest import WATCH, WordEmbedder, add_corpus

__all__ = ["make_store"]  # a fixture


def with_topics(make: Callable[[str], Seeded]) -> tuple[Seeded, dict[str, list[int]]]:
    seeded = make("")
    corpus = add_corpus(seeded.engine, per_reason=20, start=100, created_at=dt.datetime.now(dt.UTC))
    refit_watch(seeded.engine, WordEmbedder(), WATCH)
    return seeded, corpus


def test_the_topics_page_lists_topics_and_a_rename_there_is_kept(make_store: Callable[[str], Seeded]) -> None:
    seeded, corpus = with_topics(make_store)
    app = run_app("views/topics.py")
    assert app.title[0].value == "Topics"
    table = app.dataframe[0].value
    assert table["mentions"].sum() >= 60 and len(table) >= 2
    with seeded.engine.connect() as connection:
        [found] = store.topics_of(connection, corpus["login"][:1]).values()
    topic_id = found[0].topic_id
    app.selectbox(key="t_topic").set_value(topic_id).run()
    app.text_input(key="t_name").input("Locked out").run()
    app.button(key="t_rename").click().run()
    assert not app.exception
    with seeded.engine.connect() as connection:
        topic = store.get_topic(connection, topic_id)
    assert topic is not None and (topic.name, topic.named_by) == ("Locked out", "local")
    assert "Locked out" in list(app.dataframe[0].value["topic"])


def test_the_inbox_filters_by_topic_and_shows_it_on_each_card(make_store: Callable[[str], Seeded]) -> None:
    seeded, corpus = with_topics(make_store)
    with seeded.engine.connect() as connection:
        [found] = store.topics_of(connection, corpus["delivery"][:1]).values()
    topic_id, name = found[0].topic_id, found[0].name
    app = run_app()
    app.multiselect(key="f_topic").set_value([str(topic_id)]).run()
    captions = [c.value for c in app.caption if c.value.startswith("Priority")]
    assert captions and all(f"topic: {name}" in c for c in captions)
    with seeded.engine.connect() as connection:
        topic = store.get_topic(connection, topic_id)
    assert topic is not None and f"{topic.size} mentions match" in " ".join(c.value for c in app.caption)


def test_a_digest_names_the_top_complaint_topics_and_the_new_ones() -> None:
    digest = build_digest(
        DigestList(name="daily", recipients=("a@example.com",), watches=("acme",)),
        [],
        counts=Counts(10, 5),
        previous=Counts(8, 3),
        failing=[],
        period_start=NOW - dt.timedelta(days=1),
        now=NOW,
        public_url="https://grumble.example",
        topics=[
            PeriodTopic("acme", "refund · charged twice", 7, 2, False),
            PeriodTopic("acme", "login · password", 3, 0, True),
        ],
    )
    assert "TOP COMPLAINT TOPICS THIS PERIOD" in digest.text
    assert "- refund · charged twice: 7 (+5)" in digest.text
    assert "New this period: login · password (3)" in digest.text
    assert "Top complaint topics this period" in digest.html and "login · password (3)" in digest.html
