"""A mention's complaint topic on its own page, topics over time on Trends and each competitor's topics
on Compare, through AppTest on a real SQLite store fitted by the real refit (test_pages.py has the
Topics page, the inbox and the digest)."""

from __future__ import annotations

import io
from collections.abc import Callable

import pyarrow as pa

from monitor.store import topics as store
from tests.dashboard.conftest import Seeded, make_store, run_app
from tests.dashboard.test_compare_page import GLOBEX
from tests.topics.test_pages import with_topics

__all__ = ["make_store"]  # a fixture


def test_the_mention_page_names_its_topic_and_links_to_the_others_in_it(
    make_store: Callable[[str], Seeded],
) -> None:
    seeded, corpus = with_topics(make_store)
    mention_id = corpus["refund"][0]
    with seeded.engine.connect() as connection:
        [found] = store.topics_of(connection, [mention_id]).values()
    topic = found[0]
    app = run_app("views/mention.py", {"id": str(mention_id)})
    links = [link.proto for link in app.get("page_link") if "Complaint topic" in link.proto.label]
    assert [link.label for link in links] == [f"Complaint topic: {topic.name}: every mention in it"]
    [back] = [link.proto for link in app.get("page_link") if link.proto.label == "Back to the inbox"]
    assert links[0].page_script_hash == back.page_script_hash  # to the inbox, filtered by the topic
    assert links[0].query_string == f"topic={topic.topic_id}"
    assert any(f"topic: {topic.name}" in c.value for c in app.caption)  # and on its card

    # A mention without a topic (the store's own, fitted into none) shows no topic link.
    app = run_app("views/mention.py", {"id": str(seeded.ids["m4"])})
    assert not [link for link in app.get("page_link") if "Complaint topic" in link.proto.label]


def test_trends_charts_each_topic_per_day(make_store: Callable[[str], Seeded]) -> None:
    seeded, _ = with_topics(make_store)
    with seeded.engine.connect() as connection:
        sizes = {t.name: t.size for t in store.watch_topics(connection, "acme")}
    app = run_app("views/trends.py")
    assert "Complaint topics over time" in [s.value for s in app.subheader]
    charted: set[str] = set()
    total = 0
    for element in app.main:
        if type(element).__name__ == "UnknownElement" and "vega" in element.type:
            rows = pa.ipc.open_stream(io.BytesIO(element.proto.datasets[0].data.data)).read_all().to_pylist()
            if rows and "topic" in rows[0]:
                charted |= {row["topic"] for row in rows}
                total += sum(int(row["mentions"]) for row in rows)
    # One watch: plain names. Every mention in a topic was posted today: one point per topic, its size.
    assert charted == set(sizes) and total == sum(sizes.values()) >= 60


def test_compare_lists_each_competitors_topics(make_store: Callable[[str], Seeded]) -> None:
    seeded, _ = with_topics(lambda extra: make_store(extra + GLOBEX))
    with seeded.engine.connect() as connection:
        sizes = {t.name: t.size for t in store.watch_topics(connection, "acme")}
    app = run_app("views/compare.py")
    [table] = [frame.value for frame in app.dataframe if "topic" in frame.value.columns]
    assert set(table["watch"]) == {"acme"}  # the competitor's; globex, the brand, has none fitted
    assert dict(zip(table["topic"], table["mentions"], strict=True)) == sizes
    assert set(table["new"]) == {"yes"}  # fitted just now, within the period
