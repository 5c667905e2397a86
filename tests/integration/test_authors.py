"""Authors: the VIP mark moves their mentions' stored priority on that source only, and scoring after
the mark includes it (on PostgreSQL too); the author page's queries."""

import math
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from models import Score
from monitor.config import ResponderSettings
from monitor.mention import utcnow
from monitor.ranking import VIP_FACTOR, priority_from_key
from monitor.respond.cases import open_case
from monitor.score.run import score_pending
from monitor.store.authors import audience, author_cases, is_vip, said, set_vip
from monitor.store.filters import MentionFilter
from monitor.store.mentions import import_mentions
from monitor.store.schema import mentions
from monitor.surface.inbox import inbox_rows
from tests.factories import mention


class Negative:
    version = "v1"
    languages = frozenset({"en"})

    def predict(self, texts: list[str]) -> list[Score]:
        return [Score("negative", 0.8, 0.15, 0.05, "en") for _ in texts]


def _keys(engine: Engine) -> dict[str, float | None]:
    with engine.connect() as connection:
        return dict(connection.execute(select(mentions.c.external_id, mentions.c.rank_key)).all())


@pytest.mark.both_databases
def test_a_vip_mark_moves_the_authors_priority_on_that_source_and_scoring_keeps_it(engine: Engine) -> None:
    now = utcnow()
    import_mentions(
        engine,
        "acme",
        [
            mention(1, source="reddit", author="kim", created_at=now - timedelta(hours=1)),
            mention(2, source="mastodon", author="kim", created_at=now - timedelta(hours=1)),
            mention(3, source="reddit", author="lee", created_at=now - timedelta(hours=1)),
        ],
    )
    assert score_pending(engine, Negative()) == 3
    before = _keys(engine)
    assert set_vip(engine, "reddit", "kim", True, "rick", now)
    assert not set_vip(engine, "reddit", "kim", True, "rick", now)  # already: nothing moves twice
    after = _keys(engine)
    assert math.isclose(after["m1"] - before["m1"], math.log(VIP_FACTOR))  # type: ignore[operator]
    assert after["m2"] == before["m2"] and after["m3"] == before["m3"]  # another source, another author
    rows = inbox_rows(engine, MentionFilter(labels=["negative"]))
    assert (rows[0].external_id, rows[0].vip) == ("m1", True)
    assert math.isclose(rows[0].priority, VIP_FACTOR * rows[1].priority, rel_tol=1e-6)
    assert "VIP author" in rows[0].priority_reasons() and "× VIP 2" in rows[0].priority_breakdown()

    # A mention of the VIP's scored after the mark is ranked with it too.
    import_mentions(
        engine, "acme", [mention(4, source="reddit", author="kim", created_at=now - timedelta(hours=1))]
    )
    assert score_pending(engine, Negative()) == 1
    assert math.isclose(_keys(engine)["m4"], after["m1"])  # type: ignore[arg-type]

    assert set_vip(engine, "reddit", "kim", False, "rick", now)
    assert not is_vip(engine, "reddit", "kim")
    final = _keys(engine)
    assert math.isclose(final["m1"], before["m1"])  # type: ignore[arg-type]
    assert math.isclose(priority_from_key(final["m4"], now), priority_from_key(before["m1"], now))


def test_the_author_page_queries(engine: Engine) -> None:
    now = utcnow()
    import_mentions(
        engine,
        "acme",
        [
            mention(1, source="reddit", author="kim", author_reach=300, created_at=now - timedelta(days=2)),
            mention(2, source="reddit", author="kim", author_reach=500, created_at=now - timedelta(days=1)),
            mention(3, source="mastodon", author="kim", author_reach=9000, created_at=now),
            mention(4, source="reddit", author="lee", created_at=now),
        ],
    )
    score_pending(engine, Negative())
    set_vip(engine, "mastodon", "kim", True, "rick", now)
    seen = audience(engine, "kim")
    assert [(s.source, s.mentions, s.negatives, s.reach, s.vip) for s in seen] == [
        ("reddit", 2, 2, 500, False),
        ("mastodon", 1, 1, 9000, True),
    ]
    assert seen[0].first_at < seen[0].last_at
    assert [(row["external_id"], row["vip"]) for row in said(engine, "kim")] == [
        ("m3", True),
        ("m2", False),
        ("m1", False),
    ]
    ids = {row["external_id"]: row["id"] for row in said(engine, "kim")}
    open_case(engine, ids["m2"], "rick", ResponderSettings())
    assert [(c.source, c.case.mention_id, c.replies) for c in author_cases(engine, "kim")] == [
        ("reddit", ids["m2"], [])
    ]
    assert author_cases(engine, "lee") == []
