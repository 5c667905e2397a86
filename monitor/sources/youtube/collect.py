"""YouTube collection, one watch at a time: the searches for videos that are due and fit the day's
plan, then every video's or channel's comment threads page by page (sources/paging.py), each call
charged to the collection quota before it is sent, and YouTube's error answers as the SourceErrors the
collector understands. A run the quota stops keeps the unasked streams' cursors for after the reset."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from monitor.errors import (
    SourceAuthError,
    SourceError,
    SourceNotFound,
    SourceRateLimited,
    SourceResponseError,
)
from monitor.mention import Mention, Page, Watch
from monitor.sources.google_api import check_google_status, read_error
from monitor.sources.http import SkipLog, decode_json, expect_list, expect_mapping, perform
from monitor.sources.paging import Batch, StreamState, fetch_streams, search_terms
from monitor.sources.quota import QuotaExhausted
from monitor.sources.text import as_int, as_mapping, as_str, dig
from monitor.sources.youtube.account import YouTubeAccount
from monitor.sources.youtube.api import (
    COST,
    GONE_REASONS,
    KEY_REASONS,
    MAX_PAGE_SIZE,
    WATCH_URL,
    describe_error,
)
from monitor.sources.youtube.comments import parse_comment, parse_thread
from monitor.sources.youtube.cursor import decode, encode, kept_videos, restore
from monitor.sources.youtube.options import Stream, streams_of, wants_search

log = logging.getLogger("monitor.sources.youtube")  # the package's logger, as before the split


@dataclass
class _Run:
    """What one fetch spent and where it stopped: for the plan's log line and the run's warnings."""

    calls: dict[str, int] = field(default_factory=dict)
    exhausted: QuotaExhausted | None = None
    skipped: list[str] = field(default_factory=list)  # the streams the quota left unasked

    def count(self, what: str) -> None:
        self.calls[what] = self.calls.get(what, 0) + 1

    def units(self) -> int:
        return sum(COST[what] * n for what, n in self.calls.items())


class Collector(YouTubeAccount):
    def fetch(self, watch: Watch, cursor: str | None) -> Page:
        if self.api_key is None:
            raise SourceAuthError(self.name, f"api_key is not set. {self.auth_hint}")
        options = {**self.settings.options, **watch.options_for(self.name)}
        state = decode(cursor)
        run = _Run()
        warnings: list[str] = []
        streams = {s.key: s for s in streams_of(options, "video_ids", "video")}
        streams.update({s.key: s for s in streams_of(options, "channel_ids", "channel")})
        terms = search_terms(watch.keywords, watch.required) if wants_search(options, streams) else []
        usage = self.quota.usage()
        if usage.remaining < 1:
            raise QuotaExhausted(self.name, "commentThreads.list", 1, usage)
        searches = self._follow_searches(terms, state.get("searches", {}), streams, run, warnings)
        if not streams and terms:  # the searches found no video (yet): nothing to list this time
            return Page(
                mentions=[],
                next_cursor=encode({"paging": state.get("paging"), "searches": searches}),
                warnings=tuple(warnings),
            )
        if not streams:
            raise SourceResponseError(
                self.name,
                f"watch {watch.name!r} names nothing to read on YouTube: give it video_ids or channel_ids "
                "under [watches.sources.youtube], or keywords to search for videos",
            )
        log.info(
            "youtube: plan for watch %s: %d comment listing(s) (1 unit a page) after %d search(es); %s",
            watch.name,
            len(streams),
            run.calls.get("search.list", 0),
            self.quota.usage().describe(),
        )
        try:
            page = fetch_streams(
                self.name,
                state.get("paging"),
                streams,
                lambda stream, stream_state: self._thread_page(stream, stream_state, run),
                max_backfill=self.settings.max_backfill,
                max_pages=self.max_pages,
            )
        except QuotaExhausted:
            raise
        except SourceError as exc:
            if run.exhausted is not None:
                raise run.exhausted from None
            raise exc from None
        paging = page.next_cursor
        if run.exhausted is not None:
            # One line for the stop, not one per stream that could not be asked; and those streams keep
            # their state as it was (not asked is not failed: a pass under way is not given up for it).
            warnings.append(
                f"stopped for the day after {run.units()} unit(s) this run: {run.exhausted.detail}; "
                f"{len(run.skipped)} listing(s) wait for the reset"
            )
            paging = restore(self.name, state.get("paging"), paging, run.skipped)
        kept = [w for w in page.warnings if "quota reached" not in w]
        return Page(
            mentions=page.mentions,
            next_cursor=encode({"paging": paging, "searches": searches}),
            has_more=page.has_more and run.exhausted is None,
            unsearched=False,
            warnings=(*warnings, *kept),
        )

    def _follow_searches(
        self,
        terms: list[str],
        searches: dict[str, Any],
        streams: dict[str, Stream],
        run: _Run,
        warnings: list[str],
    ) -> dict[str, Any]:
        """Make the searches that are due and fit the plan, add the videos they found (recently) to
        `streams`, and return the searches' state for the cursor (terms the watch dropped are forgotten)."""
        since = self.clock() - self.search_keep
        found_before = {v for term in terms for v in kept_videos(searches.get(term), since)}
        # A search is made only if its units leave enough for every listing this run makes.
        listings = len(set(streams) | {Stream("video", v).key for v in found_before})
        for term in terms:
            warning = self._search_if_due(term, searches, listings, run)
            if warning:
                warnings.append(warning)
        for term in terms:
            for video_id in kept_videos(searches.get(term), since):
                stream = Stream("video", video_id)
                streams.setdefault(stream.key, stream)
        return {term: found for term, found in searches.items() if term in terms}

    def _search_if_due(self, term: str, searches: dict[str, Any], listings: int, run: _Run) -> str | None:
        """Search for videos with `term` when the last search is older than search_every_hours and the
        quota leaves room for it and this run's listings; a warning when a due search had to wait."""
        now = self.clock()
        last = as_mapping(searches.get(term))
        at = as_int(last.get("at"))
        if at is not None and now.timestamp() - at < self.search_every.total_seconds():
            return None
        needed = COST["search.list"] + listings
        if not self.quota.can_spend(needed):
            usage = self.quota.usage()
            return (
                f"search for {term!r} postponed: it costs {COST['search.list']} units and this run's "
                f"listings need more, but {usage.remaining:,} of the day's {usage.allowed:,} are left "
                f"(resets {usage.resets_at:%Y-%m-%d %H:%M} UTC)"
            )
        try:
            found = self._search(term, run)
        except QuotaExhausted as exc:
            return f"search for {term!r} postponed: {exc.detail}"
        except SourceError as exc:
            if isinstance(exc, SourceRateLimited | SourceAuthError):
                raise
            return f"search for {term!r}: {exc.detail}"
        since = (now - self.search_keep).timestamp()
        videos = {v: t for v, t in as_mapping(last.get("videos")).items() if (as_int(t) or 0) >= since}
        for video_id in found:
            videos[video_id] = int(now.timestamp())
        searches[term] = {"at": int(now.timestamp()), "videos": videos}
        return None

    def _search(self, term: str, run: _Run) -> list[str]:
        params = {
            "part": "id",
            "q": term,
            "type": "video",
            "order": "date",
            "maxResults": self.search_results,
        }
        data = self._read("search.list", "/search", params, f"the video search for {term!r}", run)
        items = expect_list(self.name, expect_mapping(self.name, data, "a search").get("items"), "items")
        return [v for v in (as_str(dig(item, "id", "videoId")) for item in items) if v]

    def _thread_page(self, stream: Stream, state: StreamState, run: _Run) -> Batch:
        params: dict[str, Any] = {
            "part": "snippet,replies",
            "maxResults": min(self.page_size, max(state.room(self.settings.max_backfill), 1)),
            "order": "time",
            "textFormat": "plainText",
            ("videoId" if stream.kind == "video" else "allThreadsRelatedToChannelId"): stream.id,
        }
        if state.pending and state.token:
            params["pageToken"] = str(state.token)
        try:
            if run.exhausted is not None:
                raise run.exhausted
            data = self._read("commentThreads.list", "/commentThreads", params, stream.resource, run, stream)
        except QuotaExhausted:
            run.skipped.append(stream.key)
            raise
        body = expect_mapping(self.name, data, "a comment thread list")
        threads = expect_list(self.name, body.get("items"), "items")
        skips = SkipLog(self.name)
        items: list[tuple[float, Mention]] = []
        for thread in threads:
            found = parse_thread(thread, skips)
            items.extend(found)
            if self.all_replies and found:
                items.extend(self._more_replies(thread, len(found) - 1, run, skips))
        skips.report(stream.resource)
        return Batch(items=items, next_token=as_str(body.get("nextPageToken")))

    def _more_replies(
        self, thread: Any, embedded: int, run: _Run, skips: SkipLog
    ) -> list[tuple[float, Mention]]:
        """With `all_replies`: the first 100 replies of a thread that has more than YouTube embedded in
        it (comments.list parentId, 1 unit), while the quota has room; a failure costs only these."""
        snippet = as_mapping(dig(thread, "snippet"))
        thread_id = as_str(dig(snippet, "topLevelComment", "id"))
        total_replies = as_int(snippet.get("totalReplyCount")) or 0
        if thread_id is None or total_replies <= embedded or not self.quota.can_spend(COST["comments.list"]):
            return []
        params = {
            "part": "snippet",
            "parentId": thread_id,
            "maxResults": MAX_PAGE_SIZE,
            "textFormat": "plainText",
        }
        try:
            data = self._read("comments.list", "/comments", params, f"the replies to {thread_id}", run)
            comments = expect_list(
                self.name, expect_mapping(self.name, data, "a comment list").get("items"), "items"
            )
        except QuotaExhausted:
            return []
        except SourceError as exc:
            if isinstance(exc, SourceRateLimited | SourceAuthError):
                raise
            log.warning("youtube: the replies to %s were left out: %s", thread_id, exc)
            return []
        video_id = as_str(snippet.get("videoId"))
        found = [
            parse_comment(c, skips, video_id=video_id, channel_id=as_str(snippet.get("channelId")))
            for c in comments
        ]
        return [item for item in found if item is not None]

    def _read(
        self,
        what: str,
        path: str,
        params: Mapping[str, Any],
        resource: str,
        run: _Run,
        stream: Stream | None = None,
    ) -> Any:
        """One GET with the API key, charged to the collection quota before it is sent."""
        try:
            self.quota.spend(COST[what], what)
        except QuotaExhausted as exc:
            run.exhausted = exc
            raise
        run.count(what)
        assert self.api_key is not None
        response = perform(
            self.client, self.name, "GET", path, params=dict(params), headers={"X-Goog-Api-Key": self.api_key}
        )
        self._check(response, resource, stream)
        return decode_json(self.name, response)

    def _check(self, response: httpx.Response, resource: str, stream: Stream | None = None) -> None:
        """Raise the SourceError for an error answer, in YouTube's words (see the package docstring)."""
        if 200 <= response.status_code < 300:
            return
        error = read_error(response)
        reasons = {r.lower() for r in error.reasons}
        said = describe_error(error)
        # Before quota: a bad key comes in the usageLimits domain too, which reads like a quota error.
        if reasons & KEY_REASONS:
            raise SourceAuthError(
                self.name, f"YouTube refused the API key for {resource} ({said}). {self.auth_hint}"
            )
        if error.is_quota:
            counted = self.quota.usage().describe()  # before the count is told the day is spent
            wait = self._quota_error_wait(response, error)
            raise SourceRateLimited(
                self.name,
                f"YouTube refused {resource}: the quota is used up ({said}), though Grumble's count says "
                f"{counted}: another application may spend this project's quota "
                f"(lower quota_share or daily_quota in [sources.youtube]); waiting {wait:,.0f} s",
                wait,
            )
        if "commentsdisabled" in reasons:
            raise SourceNotFound(
                self.name,
                f"comments are disabled on {_named(stream, resource)}: nothing to collect there "
                f"({said}); remove it from the watch's video_ids",
            )
        if reasons & GONE_REASONS or (response.status_code == 404 and stream is not None):
            raise SourceNotFound(
                self.name,
                f"{_named(stream, resource)} was not found: it is private, deleted, or the id is wrong "
                f"({said})",
            )
        if "forbidden" in reasons and stream is not None:
            raise SourceNotFound(
                self.name,
                f"{_named(stream, resource)} cannot be read with an API key: it is private or its comments "
                f"are restricted ({said})",
            )
        check_google_status(self.name, response, auth_hint=self.auth_hint, resource=resource)


def _named(stream: Stream | None, resource: str) -> str:
    if stream is None:
        return resource
    if stream.kind == "video":
        return f"video {stream.id} ({WATCH_URL}?v={stream.id})"
    return f"channel {stream.id}"
