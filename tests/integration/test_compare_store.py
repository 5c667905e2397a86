"""The comparison's query and figures on SQLite and on a real PostgreSQL server."""

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from monitor.store.compare import WatchVolume, period_volumes
from monitor.store.filters import MentionFilter
from monitor.store.mentions import import_mentions, iter_all, save_scores
from monitor.surface.compare import load_comparison
from tests.factories import BASE_TIME, mention, watch

pytestmark = pytest.mark.both_databases

START = BASE_TIME
END = BASE_TIME + timedelta(days=7)


def seed(engine: Engine) -> None:
    """acme: three this week (two negative, one of them also a globex mention), one the week before;
    globex: that shared one and one of its own; a mention at the week's end belongs to the next week."""
    at = {"now": START + timedelta(days=1), "before": START - timedelta(days=1)}
    shared = mention(3, text="Acme and Globex both lost my refund", created_at=at["now"])
    import_mentions(
        engine,
        "acme",
        [
            mention(1, text="acme refund refused, refund please", created_at=START),
            mention(2, text="acme is fine", created_at=at["now"]),
            shared,
            mention(4, text="acme refund was slow", created_at=at["before"]),
            mention(5, text="acme crashes", created_at=END),
        ],
    )
    import_mentions(
        engine, "globex", [shared, mention(6, text="globex support ignores me", created_at=at["now"])]
    )
    import_mentions(engine, "other", [mention(7, text="unrelated", created_at=at["now"])])
    negative = {"m1", "m3", "m4", "m5", "m6"}
    save_scores(
        engine,
        [
            {"id": row["id"], "label": "negative" if row["external_id"] in negative else "neutral"}
            for row in iter_all(engine, MentionFilter())
        ],
    )


def test_volumes_per_watch_in_a_half_open_period(engine: Engine) -> None:
    seed(engine)
    assert period_volumes(engine, ["acme", "globex", "initech"], START, END) == [
        WatchVolume("acme", 3, 2),
        WatchVolume("globex", 2, 2),
    ]
    assert period_volumes(engine, ["acme"], START - timedelta(days=7), START) == [WatchVolume("acme", 1, 1)]
    assert period_volumes(engine, [], START, END) == []


def test_comparison_figures_and_complaint_terms_from_the_store(engine: Engine) -> None:
    seed(engine)
    acme = watch("acme", keywords=("acme",), competitors=("globex", "initech"))
    watches = [acme, watch("globex", keywords=("globex",)), watch("initech")]
    comparison = load_comparison(engine, acme, watches, END, timedelta(days=7))
    rows = {row.watch: row for row in comparison.rows}
    assert list(rows) == ["acme", "globex", "initech"]
    assert (rows["acme"].current.total, rows["acme"].current.negative) == (3, 2)
    assert rows["acme"].current.share_of_voice == pytest.approx(0.6)
    assert rows["globex"].current.share_of_voice == pytest.approx(0.4)
    assert rows["acme"].previous.share_of_voice == 1.0 and rows["globex"].previous.total == 0
    assert rows["acme"].negative_share_change == pytest.approx(2 / 3 - 1)
    assert rows["initech"].current.share_of_voice == 0.0 and rows["initech"].terms == ()
    acme_terms = {t.term: (t.count, t.previous) for t in rows["acme"].terms}
    assert acme_terms["refund"] == (2, 1)  # once per text, against last week's "refund was slow"
    assert "lost" in acme_terms and "acme" not in acme_terms and "globex" not in acme_terms
    assert "fine" not in acme_terms  # from a neutral mention
    assert {t.term for t in rows["globex"].terms} >= {"refund", "support", "ignores"}
