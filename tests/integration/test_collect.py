from dataclasses import replace
from datetime import timedelta

from sqlalchemy import Engine

from monitor.collect.run import ALERT_AFTER_FAILURES, SOURCE_BACKOFF, collect
from monitor.errors import SourceRateLimited, SourceUnavailable
from monitor.mention import Page, Watch
from monitor.store.collect_state import get_state
from monitor.store.filters import MentionFilter
from monitor.store.mentions import count_mentions, iter_all
from tests.factories import BASE_TIME, mention, watch
from tests.fake_sources import PagedSource


def test_pages_are_stored_with_their_cursor_until_the_source_has_no_more(engine: Engine) -> None:
    source = PagedSource(total=25, page_size=10)
    result = collect(engine, watch(), source, now=BASE_TIME)
    assert (result.fetched, result.new, result.pages, result.ok) == (25, 25, 3, True)
    assert source.calls == [None, '{"next": 10}', '{"next": 20}']
    assert get_state(engine, "acme", "paged").cursor == '{"next": 25}'
    again = collect(engine, watch(), source, now=BASE_TIME)
    assert again.new == 0
    assert count_mentions(engine) == 25


def test_a_failure_keeps_the_cursor_and_what_was_stored_then_backs_off(engine: Engine, caplog) -> None:  # type: ignore[no-untyped-def]
    source = PagedSource(total=30, page_size=10, fail_at=20, error=SourceUnavailable("paged", "HTTP 503"))
    result = collect(engine, watch(), source, now=BASE_TIME)
    assert result.error == "paged: HTTP 503"
    assert result.new == 20
    state = get_state(engine, "acme", "paged")
    assert state.cursor == '{"next": 20}'
    assert state.consecutive_failures == 1
    # A jittered minute: more than half of it, at most all of it.
    assert state.next_attempt_at is not None
    assert BASE_TIME + timedelta(seconds=30) < state.next_attempt_at <= BASE_TIME + timedelta(minutes=1)
    # Before the backoff expires the job is skipped without asking the source.
    calls = len(source.calls)
    skipped = collect(engine, watch(), source, now=BASE_TIME + timedelta(seconds=30))
    assert skipped.skipped_until == state.next_attempt_at
    assert len(source.calls) == calls
    # A forced run (collect --once) goes anyway; failures pile up into an ERROR-level alert.
    for _ in range(ALERT_AFTER_FAILURES - 1):
        collect(engine, watch(), source, force=True, now=BASE_TIME)
    assert get_state(engine, "acme", "paged").consecutive_failures == ALERT_AFTER_FAILURES
    assert any(r.levelname == "ERROR" and "paged" in r.getMessage() for r in caplog.records)
    source.fail_at = None
    assert collect(engine, watch(), source, force=True, now=BASE_TIME).new == 10
    assert get_state(engine, "acme", "paged").consecutive_failures == 0


def test_retry_after_is_honoured(engine: Engine) -> None:
    source = PagedSource(total=5, page_size=5, fail_at=0, error=SourceRateLimited("paged", "HTTP 429", 900))
    collect(engine, watch(), source, now=BASE_TIME)
    assert get_state(engine, "acme", "paged").next_attempt_at == BASE_TIME + timedelta(seconds=900)


def test_backoff_is_exponential_and_capped_even_after_a_long_outage() -> None:
    assert [SOURCE_BACKOFF.nominal(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert SOURCE_BACKOFF.nominal(50) == timedelta(hours=1)
    for failures, minutes in ((1, 1), (4, 8), (50, 60)):
        delay = SOURCE_BACKOFF.delay(failures)
        assert timedelta(minutes=minutes) / 2 < delay <= timedelta(minutes=minutes)


def test_the_backoff_is_the_one_passed_in(engine: Engine) -> None:
    pinned = replace(SOURCE_BACKOFF, random=lambda: 0.0)  # no jitter: exactly the nominal wait
    source = PagedSource(total=5, page_size=5, fail_at=0, error=SourceUnavailable("paged", "HTTP 503"))
    for failures, minutes in ((1, 1), (2, 2), (3, 4)):
        collect(engine, watch(), source, force=True, now=BASE_TIME, backoff=pinned)
        state = get_state(engine, "acme", "paged")
        assert (state.consecutive_failures, state.next_attempt_at) == (
            failures,
            BASE_TIME + timedelta(minutes=minutes),
        )


class ListingSource:
    name = "listing"

    def fetch(self, watch: Watch, cursor: str | None) -> Page:
        items = [
            mention(1, source="listing", text="Acme refund please"),
            mention(2, source="listing", text="Unrelated post"),
            mention(3, source="listing", text="Acme jobs board refund"),
        ]
        return Page(items, "done", unsearched=True)


def test_watch_words_filter_what_is_stored(engine: Engine) -> None:
    w = Watch(name="acme", keywords=("acme",), excluded=("jobs",))
    result = collect(engine, w, ListingSource(), now=BASE_TIME)
    assert (result.fetched, result.kept) == (3, 1)
    assert [r["external_id"] for r in iter_all(engine, MentionFilter())] == ["m1"]


class PartlyFailingSource:
    """Two pages; the feed it calls `b` fails on the first page only."""

    name = "feeds"

    def __init__(self) -> None:
        self.broken = True

    def fetch(self, watch: Watch, cursor: str | None) -> Page:
        first = cursor is None
        warnings = ("feed b failed (1 of 2 feeds): HTTP 404",) if self.broken else ()
        items = [mention(1 if first else 2, source="feeds", text="Acme broke my order")]
        return Page(items, "p1" if first else "p2", has_more=first, warnings=warnings * (1 + first))


def test_a_partial_failure_stores_the_rest_and_marks_the_source_degraded_until_a_clean_run(
    engine: Engine,
) -> None:
    source = PartlyFailingSource()
    result = collect(engine, watch(), source, now=BASE_TIME)
    assert result.ok and result.new == 2
    assert result.warnings == ("feed b failed (1 of 2 feeds): HTTP 404",)  # once, though two pages said it
    state = get_state(engine, "acme", "feeds")
    assert state.health == "degraded" and state.consecutive_failures == 0 and state.next_attempt_at is None
    assert state.problem == "feed b failed (1 of 2 feeds): HTTP 404"

    source.broken = False
    collect(engine, watch(), source, force=True, now=BASE_TIME)
    state = get_state(engine, "acme", "feeds")
    assert (state.health, state.problem, state.last_warning) == ("ok", "", None)


def test_a_failure_outranks_a_warning_in_health(engine: Engine) -> None:
    collect(engine, watch(), PartlyFailingSource(), now=BASE_TIME)

    class DownSource(PartlyFailingSource):
        def fetch(self, watch: Watch, cursor: str | None) -> Page:
            raise SourceUnavailable("feeds", "HTTP 503")

    failing = DownSource()
    collect(engine, watch(), failing, force=True, now=BASE_TIME)
    state = get_state(engine, "acme", "feeds")
    assert (state.health, state.problem) == ("failing", "feeds: HTTP 503")
