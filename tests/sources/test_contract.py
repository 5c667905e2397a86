"""One contract, every source: run against each source's fake API on a real loopback HTTP server.

Reddit goes through the real `praw.Reddit` client (OAuth token endpoint included) pointed at the server.
"""

from __future__ import annotations

import json
import re
from datetime import UTC

import httpx
import pytest

from monitor.errors import (
    SourceAuthError,
    SourceError,
    SourceNotFound,
    SourceRateLimited,
    SourceResponseError,
    SourceUnavailable,
)
from monitor.mention import Mention, Page
from monitor.sources.base import USER_AGENT, Source
from tests.sources.fakes import HTML_PAGE, Adapter
from tests.support.http_replay import Reply


def drain(
    source: Source, adapter: Adapter, cursor: str | None, limit: int = 20
) -> tuple[list[Mention], str | None, list[Page]]:
    """Fetch like the collector does: page after page while the source has more."""
    pages: list[Page] = []
    mentions: list[Mention] = []
    for _ in range(limit):
        page = source.fetch(adapter.watch(), cursor)
        pages.append(page)
        mentions.extend(page.mentions)
        cursor = page.next_cursor
        if not page.has_more:
            return mentions, cursor, pages
    raise AssertionError(f"{adapter.name} still had more after {limit} pages")


def check_mention(mention: Mention, source: str) -> None:
    assert mention.source == source
    assert mention.external_id and isinstance(mention.external_id, str)
    assert isinstance(mention.text, str) and mention.text.strip()
    assert mention.created_at.tzinfo is not None and mention.created_at.utcoffset() == UTC.utcoffset(None)
    assert mention.url and mention.url.startswith("https://")
    assert mention.raw is not None
    json.dumps(mention.raw)  # the store keeps it as JSON


def test_first_run_backfills_to_the_bound_then_only_new(adapter: Adapter) -> None:
    source = adapter.source(max_backfill=3)
    first, cursor, pages = drain(source, adapter, None)

    assert [m.external_id for m in first] == adapter.ids(adapter.fixtures["items"])[:3]
    assert cursor is not None
    for mention in first:
        check_mention(mention, adapter.name)
    if adapter.name not in ("rss",):  # a feed is one document; every other API pages
        assert len(pages) >= 2 and pages[0].has_more

    adapter.publish_newer()
    second, cursor, _ = drain(source, adapter, cursor)
    assert sorted(m.external_id for m in second) == sorted(adapter.ids(adapter.fixtures["newer"]))

    third, _, _ = drain(source, adapter, cursor)
    assert third == []


def test_every_request_says_who_is_asking(adapter: Adapter) -> None:
    drain(adapter.source(), adapter, None)
    assert adapter.server.requests
    for request in adapter.server.requests:
        assert USER_AGENT in request.headers["user-agent"]


def test_no_mention_twice_and_resuming_from_any_cursor_loses_nothing(adapter: Adapter) -> None:
    """A crash after any page repeats at most that page: resuming from each saved cursor still yields all."""
    everything = adapter.ids(adapter.fixtures["items"])
    source = adapter.source(max_backfill=len(everything))
    mentions, _, pages = drain(source, adapter, None)
    ids = [m.external_id for m in mentions]
    assert len(ids) == len(set(ids)) and sorted(ids) == sorted(everything)

    cursors = [None] + [p.next_cursor for p in pages[:-1]]
    for index, cursor in enumerate(cursors):
        before = {m.external_id for p in pages[:index] for m in p.mentions}
        resumed, _, _ = drain(source, adapter, cursor)
        assert before | {m.external_id for m in resumed} == set(everything)


def test_item_missing_keys_is_skipped_and_extra_keys_are_fine(
    adapter: Adapter, caplog: pytest.LogCaptureFixture
) -> None:
    adapter.insert_broken()
    everything = adapter.ids(adapter.fixtures["items"])
    mentions, _, _ = drain(adapter.source(max_backfill=50), adapter, None)

    assert sorted(m.external_id for m in mentions) == sorted(everything)
    assert any(adapter.name in r.getMessage() and "skipped" in r.getMessage() for r in caplog.records)
    with_extra = mentions[[m.external_id for m in mentions].index(everything[1])]
    check_mention(with_extra, adapter.name)


def _inject(adapter: Adapter, *replies: Reply) -> None:
    method, path = adapter.endpoint
    adapter.server.route(method, path, *replies)


def _fails(adapter: Adapter, error: type[SourceError], **source_args: float) -> SourceError:
    source = adapter.source(**source_args)  # type: ignore[arg-type]
    with pytest.raises(error) as caught:
        source.fetch(adapter.watch(), None)
    assert caught.value.source == adapter.name
    return caught.value


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_name_what_to_fix(adapter: Adapter, status: int) -> None:
    _inject(adapter, Reply.json({"error": "Unauthorized" if status == 401 else "Forbidden"}, status=status))
    error = _fails(adapter, SourceAuthError)
    assert adapter.credential in str(error)


def test_not_found(adapter: Adapter) -> None:
    _inject(adapter, Reply.json({"message": "Not Found", "error": 404}, status=404))
    _fails(adapter, SourceNotFound)


def test_rate_limited_honours_retry_after(adapter: Adapter) -> None:
    _inject(adapter, Reply.json({"error": "Too Many Requests"}, status=429, headers={"Retry-After": "7"}))
    error = _fails(adapter, SourceRateLimited)
    assert isinstance(error, SourceRateLimited) and error.retry_after == 7


def test_rate_limited_without_retry_after_waits_a_default(adapter: Adapter) -> None:
    _inject(adapter, Reply.text("<html><body>Too Many Requests</body></html>", 429, "text/html"))
    error = _fails(adapter, SourceRateLimited)
    assert isinstance(error, SourceRateLimited) and error.retry_after == 60


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_unavailable(adapter: Adapter, status: int) -> None:
    _inject(adapter, Reply.text("upstream went away", status))
    error = _fails(adapter, SourceUnavailable)
    assert str(status) in str(error)


def test_timeout_is_unavailable(adapter: Adapter) -> None:
    # Answers only after the client's 0.2 s timeout: the one deliberate wait in these tests.
    _inject(adapter, Reply(200, b"{}", {"Content-Type": "application/json"}, delay_s=0.6))
    error = _fails(adapter, SourceUnavailable, timeout_s=0.2)
    assert re.search(r"timed out|timeout", str(error), re.IGNORECASE)


def test_html_where_data_was_expected(adapter: Adapter) -> None:
    _inject(adapter, Reply.text(HTML_PAGE, 200, "text/html; charset=utf-8"))
    error = _fails(adapter, SourceResponseError)
    assert "text/html" in str(error) and "<!DOCTYPE html>" in str(error)


def test_truncated_body(adapter: Adapter) -> None:
    good = adapter.source(max_backfill=50)
    good.fetch(adapter.watch(), None)
    recorded = adapter.server.requests_to(adapter.server.requests[-1].path)[-1]
    # Ask the fake for its real answer, then cut it in half, as a dropped connection would.
    full = httpx.get(adapter.server.url + recorded.raw_path, headers=dict(recorded.headers)).content
    content_type = "application/atom+xml" if adapter.name == "rss" else "application/json"
    _inject(adapter, Reply(200, full[: len(full) // 2], {"Content-Type": content_type}))
    error = _fails(adapter, SourceResponseError)
    assert re.search(r"truncated|malformed", str(error))
