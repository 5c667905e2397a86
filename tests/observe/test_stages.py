"""The stages move their metrics: collection counts new mentions and source failures per source, scoring
counts mentions per source, times each batch, and measures how long a mention waited for its score."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, update

from models import Score
from monitor.collect.run import collect
from monitor.errors import SourceUnavailable
from monitor.observe.metrics import source_label
from monitor.score import run
from monitor.score.run import score_pending
from monitor.store.mentions import import_mentions
from monitor.store.schema import mentions
from tests.factories import BASE_TIME, mention, watch
from tests.fake_sources import PagedSource
from tests.observe.conftest import sample

# The fake source is no registered kind: its counts go to the "other" label (metrics.source_label).
PAGED = source_label(PagedSource.name)


def test_collection_counts_new_mentions_per_source_and_not_the_repeats(sqlite_engine: Engine) -> None:
    before = sample("grumble_mentions_collected_total", source=PAGED)
    source = PagedSource(total=25, page_size=10)
    collect(sqlite_engine, watch(), source, now=BASE_TIME)
    assert sample("grumble_mentions_collected_total", source=PAGED) == before + 25
    collect(sqlite_engine, watch(), source, now=BASE_TIME)
    assert sample("grumble_mentions_collected_total", source=PAGED) == before + 25


def test_a_failing_source_is_counted_with_what_it_stored_first_and_a_skipped_run_is_not(
    sqlite_engine: Engine,
) -> None:
    collected = sample("grumble_mentions_collected_total", source=PAGED)
    failures = sample("grumble_source_failures_total", source=PAGED)
    source = PagedSource(total=30, page_size=10, fail_at=20, error=SourceUnavailable("paged", "HTTP 503"))
    result = collect(sqlite_engine, watch(), source, now=BASE_TIME)
    assert result.error is not None
    assert sample("grumble_source_failures_total", source=PAGED) == failures + 1
    assert sample("grumble_mentions_collected_total", source=PAGED) == collected + 20
    assert collect(sqlite_engine, watch(), source, now=BASE_TIME).skipped_until is not None  # backing off
    assert sample("grumble_source_failures_total", source=PAGED) == failures + 1


def scoring_samples(*sources: str) -> dict[str, float]:
    values = {f"scored {s}": sample("grumble_mentions_scored_total", source=s) for s in sources}
    values["batches"] = sample("grumble_score_batch_seconds_count")
    values["waits"] = sample("grumble_score_delay_seconds_count")
    values["waited"] = sample("grumble_score_delay_seconds_sum")
    for bound in ("300.0", "900.0"):
        values[f"waits <= {bound}"] = sample("grumble_score_delay_seconds_bucket", le=bound)
    return values


def moved(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {key: round(after[key] - before[key], 3) for key in before}


def test_scoring_counts_per_source_times_batches_and_measures_the_wait_since_arrival(
    sqlite_engine: Engine, tiny_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_mentions(sqlite_engine, "acme", [mention(1, source="reddit"), mention(2, source="reddit")])
    import_mentions(sqlite_engine, "acme", [mention(3, source="appstore")])
    # They arrived at BASE_TIME, and are scored ten minutes later.
    with sqlite_engine.begin() as connection:
        connection.execute(update(mentions).values(collected_at=BASE_TIME))
    before = scoring_samples("reddit", "appstore")
    monkeypatch.setattr(run, "utcnow", lambda: BASE_TIME + timedelta(minutes=10))
    assert score_pending(sqlite_engine, tiny_model, batch_size=2) == 3
    assert moved(before, scoring_samples("reddit", "appstore")) == {
        "scored reddit": 2,
        "scored appstore": 1,
        "batches": 2,  # batch_size 2: a batch of two and a batch of one
        "waits": 3,
        "waited": 3 * 600,
        "waits <= 300.0": 0,
        "waits <= 900.0": 3,
    }


class OtherVersion:
    version = "other-2"
    languages = frozenset({"en"})

    def predict(self, texts: Sequence[str]) -> list[Score]:
        return [Score("neutral", 0.1, 0.8, 0.1, "en") for _ in texts]


class Broken(OtherVersion):
    def predict(self, texts: Sequence[str]) -> list[Score]:
        raise RuntimeError("out of memory")


def test_a_rescore_is_counted_but_has_no_wait_and_a_failed_batch_counts_nothing(
    sqlite_engine: Engine, tiny_model: Any
) -> None:
    import_mentions(sqlite_engine, "acme", [mention(1, source="reddit"), mention(2, source="reddit")])
    score_pending(sqlite_engine, tiny_model)
    before = scoring_samples("reddit")
    with pytest.raises(RuntimeError, match="out of memory"):
        score_pending(sqlite_engine, Broken(), rescore=True)
    failed = moved(before, scoring_samples("reddit"))
    assert (failed["scored reddit"], failed["waits"]) == (0, 0)
    assert score_pending(sqlite_engine, OtherVersion(), rescore=True) == 2
    rescored = moved(before, scoring_samples("reddit"))
    assert (rescored["scored reddit"], rescored["waits"]) == (2, 0)
