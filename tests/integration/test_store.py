"""The store on SQLite and on a real PostgreSQL server."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from monitor.collect.saving import save_page
from monitor.store.collect_state import get_state, record_failure, record_success
from monitor.store.filters import MentionFilter
from monitor.store.mentions import (
    count_mentions,
    counts_by_source,
    import_mentions,
    iter_all,
    save_scores,
    unscored,
)
from tests.factories import BASE_TIME, mention

pytestmark = pytest.mark.both_databases


def test_a_mention_is_stored_once_and_linked_to_every_watch(engine: Engine) -> None:
    assert save_page(engine, "acme", "test", [mention(1), mention(2)], "c1").new == 2
    assert save_page(engine, "acme", "test", [mention(2), mention(3)], "c2").new == 1
    assert save_page(engine, "rival", "test", [mention(1)], "c9").new == 0
    assert count_mentions(engine) == 3
    rows = {row["external_id"]: row for row in iter_all(engine, MentionFilter())}
    assert rows["m1"]["watches"] == ["acme", "rival"]
    assert rows["m3"]["watches"] == ["acme"]
    assert [r["external_id"] for r in iter_all(engine, MentionFilter(watches=["rival"]))] == ["m1"]


def test_duplicates_within_one_batch_and_across_sources(engine: Engine) -> None:
    batch = [mention(1), mention(1, text="same id twice"), mention(1, source="other")]
    assert import_mentions(engine, "acme", batch) == 2
    assert counts_by_source(engine)["test"].stored == 1
    assert counts_by_source(engine)["other"].stored == 1


def test_cursor_moves_with_the_page(engine: Engine) -> None:
    save_page(engine, "acme", "test", [mention(1)], '{"after": 1}')
    state = get_state(engine, "acme", "test")
    assert state.cursor == '{"after": 1}'
    assert state.mentions_collected == 1


def test_every_field_round_trips_including_odd_text(engine: Engine) -> None:
    odd = "\u202eevil\u202c <script>alert(1)</script> 😀 مرحبا \x00nul"
    original = mention(
        1,
        text=odd,
        title="T",
        author_reach=12345678901,
        engagement=7,
        rating=1.5,
        parent_id="p0",
        language="ar",
        metrics={"likes": 3},
        raw={"nested": {"a": [1, 2]}},
        created_at=datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
    )
    import_mentions(engine, "acme", [original])
    [row] = list(iter_all(engine, MentionFilter()))
    assert row["text"] == odd.replace("\x00", "\ufffd")
    assert row["created_at"] == original.created_at
    assert row["created_at"].tzinfo is not None
    for key in ("title", "author", "url", "author_reach", "engagement", "rating", "parent_id", "language"):
        assert row[key] == getattr(original, key), key
    assert row["metrics"] == {"likes": 3}
    assert row["raw"] == {"nested": {"a": [1, 2]}}


def test_scores_and_pending(engine: Engine) -> None:
    import_mentions(engine, "acme", [mention(1, title="Refund?"), mention(2)])
    pending = unscored(engine, 10)
    assert [p.text for p in pending] == [
        "Refund?\nmention number 1 about acme",
        "mention number 2 about acme",
    ]
    now = datetime.now(UTC)
    save_scores(
        engine,
        [
            {
                "id": pending[0].id,
                "label": "negative",
                "negative": 0.9,
                "neutral": 0.05,
                "positive": 0.05,
                "detected_language": "en",
                "model_version": "v1",
                "scored_at": now,
            },
        ],
    )
    assert [p.id for p in unscored(engine, 10)] == [pending[1].id]
    assert [p.id for p in unscored(engine, 10, model_version="v2")] == [pending[0].id, pending[1].id]
    assert counts_by_source(engine)["test"].pending == 1


def test_health_failures_count_up_and_success_resets(engine: Engine) -> None:
    later = BASE_TIME + timedelta(minutes=5)
    assert record_failure(engine, "acme", "reddit", "boom", later, BASE_TIME) == 1
    assert record_failure(engine, "acme", "reddit", "boom again", later, BASE_TIME) == 2
    state = get_state(engine, "acme", "reddit")
    assert (state.last_error, state.consecutive_failures, state.next_attempt_at) == ("boom again", 2, later)
    record_success(engine, "acme", "reddit", later)
    state = get_state(engine, "acme", "reddit")
    assert state.consecutive_failures == 0
    assert state.last_success_at == later
    assert state.last_error == "boom again"


def test_ranked_inbox_filters_and_capped_count(engine: Engine) -> None:
    from monitor.ranking import rank_key
    from monitor.store.inbox import count, ranked

    import_mentions(engine, "acme", [mention(n, text=f"item {n} 100% _odd_") for n in range(1, 8)])
    # m5-m7 again, unchanged (a changed text would be an edit: tests/integration/test_edits.py).
    import_mentions(
        engine,
        "rival",
        [mention(n, text=f"item {n} 100% _odd_") if n <= 7 else mention(n) for n in range(5, 10)],
    )
    rows = {row["external_id"]: row for row in iter_all(engine, MentionFilter())}
    save_scores(
        engine,
        [
            {
                "id": row["id"],
                "label": "negative",
                "negative": n / 10,
                "neutral": 0.0,
                "positive": 0.0,
                "detected_language": None,
                "model_version": "v",
                "scored_at": BASE_TIME,
                "rank_key": rank_key(n / 10, row["created_at"]),
            }
            for n, row in enumerate(rows.values(), start=1)
        ],
    )
    order = [r["external_id"] for r in ranked(engine, MentionFilter(labels=["negative"]), limit=3)]
    assert order == ["m9", "m8", "m7"]
    assert [r["external_id"] for r in ranked(engine, MentionFilter(watches=["acme"]), limit=2)] == [
        "m7",
        "m6",
    ]
    assert count(engine, MentionFilter(watches=["acme"])) == 7
    assert count(engine, MentionFilter(watches=["acme", "rival"]), cap=5) == 6  # "5+"
    assert count(engine, MentionFilter(search="100%")) == 7
    assert count(engine, MentionFilter(search="0%_")) == 0  # LIKE wildcards in the search are literal
    now = BASE_TIME + timedelta(minutes=9)
    assert {r["external_id"] for r in ranked(engine, MentionFilter(min_priority=0.75, now=now))} == {
        "m8",
        "m9",
    }


def test_distinct_sources(engine: Engine) -> None:
    from monitor.store.mentions import distinct_sources

    assert distinct_sources(engine) == []
    import_mentions(engine, "acme", [mention(1, source="reddit"), mention(2, source="appstore"), mention(3)])
    assert distinct_sources(engine) == ["appstore", "reddit", "test"]
