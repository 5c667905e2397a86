"""YouTube comments (Data API v3): threads on chosen videos, on a channel's videos, or on videos found by
the watch's keywords; replies to them with the channel's OAuth credentials. Every call is planned
against the day's quota before it is sent.

Reading needs an API key (`api_key`, GRUMBLE_YOUTUBE_API_KEY), sent as the X-Goog-Api-Key header so it
never appears in a URL, a log or an error. Per watch (`[watches.sources.youtube]`, else the source's own
options): `video_ids` (commentThreads.list videoId), `channel_ids` (allThreadsRelatedToChannelId: every
video of the channel), and `search_videos = true` to look for videos with the watch's keywords
(search.list, type=video, newest first) and follow their comments too; a watch with neither ids
searches by default. Each video or channel is a stream of its own (sources/paging.py), read newest
first with nextPageToken; the replies YouTube embeds in a thread (part=replies, free) come along as
mentions whose parent is the thread, and with `all_replies = true` a thread with more replies than
were embedded has its first 100 listed too (comments.list parentId, 1 unit a thread each run). A
mention's sort key is its `updatedAt`, so a comment edited since the last run comes through again on
the pages a run reads (the store updates it in place); YouTube offers no way to list edits, so an edit
deep in an old thread is not seen.

Quota (sources/quota.py): a key has `daily_quota` units a day (10,000 unless Google granted more),
counted from midnight Pacific; search.list costs 100, commentThreads.list, comments.list and
channels.list 1, comments.insert 50. Collection spends at most `quota_share` of the day (0.8 by
default), leaving the rest for replies, which may use the whole quota. A search is repeated every
`search_every_hours` (12), and only when its 100 units leave enough for this run's thread pages; the
videos it found are kept in the cursor for `search_keep_days`. When the share is spent the run stops:
a run that could fetch nothing is rate limited until the reset (the collector waits for it), a run cut
short says so in its warnings. YouTube's own quotaExceeded (another app on the same project) is
recorded in the count, so Grumble stops too.

Replies: comments.insert (POST /comments?part=snippet, parentId = the thread's top-level comment) with
an access token from `client_id`, `client_secret` and `refresh_token` (scope youtube.force-ssl; see
google_auth.py). YouTube has no idempotency key: `find_reply` lists the thread's replies
(comments.list parentId) for one by our channel (channels.list mine=true, or `channel_id`) with the same
text. Replies are limited to `max_characters` (10,000, YouTube's comment limit).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx

from monitor.errors import (
    ConfigError,
    ReplyRejected,
    ReplyUnconfirmed,
    SourceAuthError,
    SourceError,
    SourceNotFound,
    SourceRateLimited,
    SourceResponseError,
    SourceUnavailable,
)
from monitor.mention import Mention, Page, Watch, utcnow
from monitor.sources.base import PostedReply, ReplyTarget, SourceSettings, TextLength
from monitor.sources.google_api import GoogleError, check_google_status, quota_wait, read_error
from monitor.sources.google_auth import GoogleToken
from monitor.sources.http import (
    SkipLog,
    build_client,
    credential_hint,
    decode_json,
    expect_list,
    expect_mapping,
    option_int,
    option_list,
    perform,
)
from monitor.sources.paging import (
    Batch,
    StreamState,
    decode_cursor,
    encode_cursor,
    fetch_streams,
    search_terms,
)
from monitor.sources.quota import (
    DailyWindow,
    MemoryQuotaLedger,
    Quota,
    QuotaAccount,
    QuotaExhausted,
    QuotaLedger,
    key_id,
)
from monitor.sources.reply_text import normalized
from monitor.sources.text import as_int, as_mapping, as_str, dig, html_to_text, metrics, parse_time, total

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://www.googleapis.com/youtube/v3"
SCOPE = "https://www.googleapis.com/auth/youtube.force-ssl"
DEFAULT_DAILY_QUOTA = 10_000
DEFAULT_QUOTA_SHARE = 0.8
MAX_CHARACTERS = 10_000
MAX_PAGE_SIZE = 100  # commentThreads.list and comments.list maxResults
MAX_SEARCH_RESULTS = 50
WATCH_URL = "https://www.youtube.com/watch"

# Units per call (https://developers.google.com/youtube/v3/determine_quota_cost).
COST = {
    "search.list": 100,
    "commentThreads.list": 1,
    "comments.list": 1,
    "channels.list": 1,
    "comments.insert": 50,
}

# Error reasons YouTube gives, grouped by what Grumble does about them.
_KEY_REASONS = {"keyinvalid", "keyexpired", "accessnotconfigured", "iprefererblocked", "api_key_invalid"}
_GONE_REASONS = {
    "videonotfound",
    "channelnotfound",
    "commentthreadnotfound",
    "commentnotfound",
    "parentcommentnotfound",
}
_DAILY_QUOTA_REASONS = {"quotaexceeded", "dailylimitexceeded"}


def watch_url(video_id: str | None, comment_id: str, channel_id: str | None = None) -> str | None:
    """Where a person sees the comment: the video's page with the comment highlighted (lc=)."""
    if video_id:
        return f"{WATCH_URL}?v={video_id}&lc={comment_id}"
    if channel_id:
        return f"https://www.youtube.com/channel/{channel_id}/discussion?lc={comment_id}"
    return None


@dataclass(frozen=True)
class Stream:
    """One listing of comment threads: a video's, or every video of a channel."""

    kind: str  # "video" or "channel"
    id: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def resource(self) -> str:
        return f"the comments of {self.kind} {self.id}"


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


class YouTubeSource:
    name: ClassVar[str] = "youtube"

    def __init__(
        self,
        settings: SourceSettings,
        client: httpx.Client,
        ledger: QuotaLedger,
        *,
        clock: Callable[[], datetime] = utcnow,
        token_clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.client = client
        options = settings.options
        self.api_key = str(options.get("api_key") or "").strip() or None
        self.page_size = option_int(options, "page_size", 50, maximum=MAX_PAGE_SIZE)
        self.max_pages = option_int(options, "max_pages", 20, maximum=1000)
        self.search_results = option_int(options, "search_results", 10, maximum=MAX_SEARCH_RESULTS)
        self.search_every = timedelta(hours=_option_float(options, "search_every_hours", 12.0, 0.0))
        self.search_keep = timedelta(days=_option_float(options, "search_keep_days", 7.0, 0.0))
        self.max_characters = option_int(options, "max_characters", MAX_CHARACTERS, maximum=MAX_CHARACTERS)
        self.all_replies = _option_bool(options, "all_replies")
        self.clock = clock
        limit = int(_option_float(options, "daily_quota", DEFAULT_DAILY_QUOTA, None))
        share = _option_float(options, "quota_share", DEFAULT_QUOTA_SHARE, None)
        try:
            collect_quota = Quota(limit, DailyWindow(), share)
            reply_quota = Quota(limit, DailyWindow(), 1.0)
        except ConfigError as exc:
            raise ConfigError(f"[sources.youtube] daily_quota / quota_share: {exc}") from None
        # Counted per API key (Google counts per project; one key per project is the usual setup).
        key = key_id(self.api_key or "no-api-key")
        self.quota = QuotaAccount(ledger, source=self.name, key=key, quota=collect_quota, clock=clock)
        self.reply_quota = QuotaAccount(ledger, source=self.name, key=key, quota=reply_quota, clock=clock)
        self.auth_hint = credential_hint(
            self.name,
            "api_key",
            extra="create an API key in a Google Cloud project with the YouTube Data API v3 enabled "
            "(APIs & Services > Credentials)",
        )
        self.token = GoogleToken.from_options(
            self.name, options, SCOPE, client=client, grants=(GoogleToken.REFRESH_TOKEN,), clock=token_clock
        )
        self.channel_id = as_str(options.get("channel_id"))
        self._lock = threading.Lock()

    # --- collection ---------------------------------------------------------------------------------

    def fetch(self, watch: Watch, cursor: str | None) -> Page:
        if self.api_key is None:
            raise SourceAuthError(self.name, f"api_key is not set. {self.auth_hint}")
        options = {**self.settings.options, **watch.options_for(self.name)}
        state = _decode(cursor)
        run = _Run()
        warnings: list[str] = []
        streams = {s.key: s for s in _streams(options, "video_ids", "video")}
        streams.update({s.key: s for s in _streams(options, "channel_ids", "channel")})
        terms = search_terms(watch.keywords, watch.required) if _wants_search(options, streams) else []
        usage = self.quota.usage()
        if usage.remaining < 1:
            raise QuotaExhausted(self.name, "commentThreads.list", 1, usage)
        searches = self._follow_searches(terms, state.get("searches", {}), streams, run, warnings)
        if not streams and terms:  # the searches found no video (yet): nothing to list this time
            return Page(
                mentions=[],
                next_cursor=_encode({"paging": state.get("paging"), "searches": searches}),
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
            paging = _restore(self.name, state.get("paging"), paging, run.skipped)
        kept = [w for w in page.warnings if "quota reached" not in w]
        return Page(
            mentions=page.mentions,
            next_cursor=_encode({"paging": paging, "searches": searches}),
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
        found_before = {v for term in terms for v in _kept_videos(searches.get(term), since)}
        # A search is made only if its units leave enough for every listing this run makes.
        listings = len(set(streams) | {Stream("video", v).key for v in found_before})
        for term in terms:
            warning = self._search_if_due(term, searches, listings, run)
            if warning:
                warnings.append(warning)
        for term in terms:
            for video_id in _kept_videos(searches.get(term), since):
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
        """Raise the SourceError for an error answer, in YouTube's words (see the module docstring)."""
        if 200 <= response.status_code < 300:
            return
        error = read_error(response)
        reasons = {r.lower() for r in error.reasons}
        said = _said(error)
        # Before quota: a bad key comes in the usageLimits domain too, which reads like a quota error.
        if reasons & _KEY_REASONS:
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
        if reasons & _GONE_REASONS or (response.status_code == 404 and stream is not None):
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

    def _quota_error_wait(self, response: httpx.Response, error: GoogleError) -> float:
        """Seconds until YouTube's quota error is worth retrying. The daily quota (quotaExceeded) resets
        at midnight Pacific: our count then spends what it had left, so every process on this ledger
        stops until the reset instead of asking again."""
        if not {r.lower() for r in error.reasons} & _DAILY_QUOTA_REASONS:
            return quota_wait(response, error, self.clock())
        for account in (self.reply_quota, self.quota):
            left = account.remaining()
            if left > 0:
                with contextlib.suppress(QuotaExhausted):  # another process spent it first
                    account.spend(left, "quotaExceeded from YouTube")
        return self.quota.usage().seconds_to_reset

    def quota_status(self) -> list[str]:
        """For `grumble status` and the Sources page: the day's count, and what calls cost."""
        if self.api_key is None:
            return ["quota: no api_key set; nothing is spent"]
        usage = self.quota.usage()
        return [
            f"quota (collection): {usage.describe()}",
            f"quota (replies may use all {self.reply_quota.quota.allowed:,}): "
            f"{self.reply_quota.remaining():,} units left",
            f"costs: search.list {COST['search.list']} units (each search term every "
            f"{self.search_every.total_seconds() / 3600:g} h), commentThreads.list 1 a page, "
            f"comments.insert {COST['comments.insert']} a reply",
        ]

    def quota_plan(self, watches: Sequence[Watch], every_minutes: float) -> list[str]:
        """What the watches spend in a day at one run every `every_minutes`, at least (one page per
        listing a run; a backfill or a busy video takes more), and whether that fits the share."""
        listings = searches_a_day = 0.0
        runs_a_day = 24 * 60 / every_minutes
        for watch in watches:
            options = {**self.settings.options, **watch.options_for(self.name)}
            streams = [*_streams(options, "video_ids", "video"), *_streams(options, "channel_ids", "channel")]
            terms = search_terms(watch.keywords, watch.required) if _wants_search(options, streams) else []
            # Each term follows up to search_results videos found, each one listing a run.
            listings += len(streams) + len(terms) * self.search_results
            every_h = self.search_every.total_seconds() / 3600
            searches_a_day += len(terms) * (24 / every_h if every_h > 0 else runs_a_day)
        search_units = searches_a_day * COST["search.list"]
        units = listings * runs_a_day + search_units
        allowed = self.quota.quota.allowed
        line = (
            f"plan: at least {units:,.0f} units a day ({listings:g} listing(s) a run every {every_minutes:g} "
            f"min, {searches_a_day:g} search(es) a day) of the {allowed:,} collection may spend"
        )
        if units <= allowed:
            return [line + ": it fits"]
        if listings and allowed > search_units:
            pace = math.ceil(listings * 24 * 60 / (allowed - search_units))
            fix = f"set [sources.youtube] collect_every_minutes = {pace} or more, follow fewer videos"
        else:
            fix = "search less often (search_every_hours), follow fewer videos"
        return [
            f"{line}: OVER the share, so collection stops for the day before midnight Pacific; {fix}, "
            "or raise quota_share / daily_quota"
        ]

    # --- replies ------------------------------------------------------------------------------------

    def missing_login(self) -> str | None:
        return self.token.missing()

    def measure(self, text: str) -> TextLength:
        return TextLength(len(text), self.max_characters, "characters")

    def reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply:
        """comments.insert under the thread of `target`: one request, never retried here."""
        parent = _thread_id(target)
        what = f"the reply to comment {target.external_id}"
        headers = self.token.header()  # first: no units are spent for a reply that cannot be sent
        self.reply_quota.spend(COST["comments.insert"], "comments.insert")
        body = {"snippet": {"parentId": parent, "textOriginal": text}}
        try:
            response = perform(
                self.client,
                self.name,
                "POST",
                "/comments",
                params={"part": "snippet"},
                json=body,
                headers=headers,
            )
        except SourceUnavailable as exc:
            raise ReplyUnconfirmed(self.name, f"{exc.detail}; YouTube may have posted it") from None
        if not 200 <= response.status_code < 300:
            self._reply_refused(response, target, what)
        try:
            comment = expect_mapping(self.name, decode_json(self.name, response), "the posted comment")
        except SourceResponseError as exc:
            raise ReplyUnconfirmed(self.name, f"{what} was answered unreadably: {exc.detail}") from None
        comment_id = as_str(comment.get("id"))
        if comment_id is None:
            raise ReplyUnconfirmed(self.name, f"{what} was answered without a comment id")
        return PostedReply(id=comment_id, url=watch_url(_video_of(target), comment_id))

    def _reply_refused(self, response: httpx.Response, target: ReplyTarget, what: str) -> None:
        error = read_error(response)
        reasons = {r.lower() for r in error.reasons}
        said = _said(error)
        status = response.status_code
        if status >= 500 or "processingfailure" in reasons:
            raise ReplyUnconfirmed(
                self.name, f"HTTP {status} from YouTube for {what} ({said}); it may have been posted"
            )
        if error.is_quota and not reasons & _KEY_REASONS:
            self._quota_error_wait(response, error)
            raise ReplyRejected(
                self.name, f"YouTube's quota is used up ({said}); try after the reset", "rate_limited"
            )
        if status == 401 or "autherror" in reasons:
            self.token.invalidate()
            raise SourceAuthError(
                self.name,
                f"YouTube refused the access token for {what} ({said}); {self.token.settings_hint()}",
            )
        if "commenttexttoolong" in reasons:
            raise ReplyRejected(self.name, f"YouTube says the reply is too long ({said})", "too_long")
        if reasons & _GONE_REASONS or status == 404:
            raise ReplyRejected(
                self.name, f"comment {target.external_id} is gone (deleted or hidden) ({said})", "deleted"
            )
        if "commentsdisabled" in reasons:
            raise ReplyRejected(self.name, f"comments are now disabled on that video ({said})", "locked")
        if status == 403:
            raise ReplyRejected(
                self.name,
                f"YouTube does not let this account reply there ({said}): the refresh token's channel may "
                f"not comment on that video, or the token lacks the {SCOPE} scope",
                "forbidden",
            )
        raise ReplyRejected(self.name, f"YouTube refused {what} (HTTP {status}: {said})")

    def find_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply | None:
        """A reply by our channel with the same text among the thread's replies (comments.list)."""
        me = self._my_channel()
        parent = _thread_id(target)
        wanted = normalized(text)
        token: str | None = None
        for _ in range(self.max_pages):
            params = {
                "part": "snippet",
                "parentId": parent,
                "maxResults": MAX_PAGE_SIZE,
                "textFormat": "plainText",
            }
            if token:
                params["pageToken"] = token
            data = self._authorized_get("comments.list", "/comments", params, f"the replies to {parent}")
            if data is None:
                return None
            body = expect_mapping(self.name, data, "a comment list")
            for comment in expect_list(self.name, body.get("items"), "items"):
                snippet = as_mapping(dig(comment, "snippet"))
                comment_id = as_str(dig(comment, "id"))
                if comment_id is None or as_str(dig(snippet, "authorChannelId", "value")) != me:
                    continue
                said = as_str(snippet.get("textOriginal")) or html_to_text(
                    str(snippet.get("textDisplay") or "")
                )
                if normalized(said) == wanted:
                    return PostedReply(id=comment_id, url=watch_url(_video_of(target), comment_id))
            token = as_str(body.get("nextPageToken"))
            if token is None:
                return None
        return None

    def _my_channel(self) -> str:
        with self._lock:
            if self.channel_id is None:
                data = self._authorized_get(
                    "channels.list", "/channels", {"part": "id", "mine": "true"}, "the token's channel"
                )
                items = expect_list(self.name, as_mapping(data).get("items"), "items")
                channel = as_str(dig(items[0], "id")) if items else None
                if channel is None:
                    raise SourceAuthError(
                        self.name,
                        "the refresh token's account has no YouTube channel, so it cannot reply; consent "
                        f"again with the channel's account ({self.token.settings_hint()})",
                    )
                self.channel_id = channel
            return self.channel_id

    def _authorized_get(self, what: str, path: str, params: Mapping[str, Any], resource: str) -> Any:
        """A read with the OAuth token, charged to the reply quota; None when the thread is gone."""
        self.reply_quota.spend(COST[what], what)
        response = perform(
            self.client, self.name, "GET", path, params=dict(params), headers=self.token.header()
        )
        if response.status_code == 404 or {r.lower() for r in read_error(response).reasons} & _GONE_REASONS:
            return None
        if response.status_code == 401:
            self.token.invalidate()
        check_google_status(self.name, response, auth_hint=self.token.settings_hint(), resource=resource)
        return decode_json(self.name, response)


# --- parsing ----------------------------------------------------------------------------------------


def parse_thread(thread: Any, skips: SkipLog) -> list[tuple[float, Mention]]:
    """A thread's top-level comment and the replies embedded with it, as (updatedAt, Mention) pairs."""
    if not isinstance(thread, Mapping):
        skips.skip("not an object")
        return []
    snippet = as_mapping(thread.get("snippet"))
    top = snippet.get("topLevelComment")
    video_id = as_str(snippet.get("videoId"))
    channel_id = as_str(snippet.get("channelId"))
    replies = as_int(snippet.get("totalReplyCount"))
    found: list[tuple[float, Mention]] = []
    parsed = parse_comment(top, skips, video_id=video_id, channel_id=channel_id, reply_count=replies)
    if parsed is not None:
        found.append(parsed)
    embedded = dig(thread, "replies", "comments") or []
    if not isinstance(embedded, list):
        skips.skip("threads whose replies are not a list")
        embedded = []
    for reply in embedded:
        parsed = parse_comment(reply, skips, video_id=video_id, channel_id=channel_id)
        if parsed is not None:
            found.append(parsed)
    return found


def parse_comment(
    comment: Any,
    skips: SkipLog,
    *,
    video_id: str | None = None,
    channel_id: str | None = None,
    reply_count: int | None = None,
) -> tuple[float, Mention] | None:
    if not isinstance(comment, Mapping):
        skips.skip("comments that are not objects")
        return None
    snippet = as_mapping(comment.get("snippet"))
    comment_id = as_str(comment.get("id"))
    published = parse_time(snippet.get("publishedAt"))
    updated = parse_time(snippet.get("updatedAt")) or published
    # textOriginal is what the author typed; YouTube sends it only to some viewers, textDisplay always.
    text = as_str(snippet.get("textOriginal")) or html_to_text(str(snippet.get("textDisplay") or ""))
    if comment_id is None:
        skips.skip("comments without id")
        return None
    if published is None or updated is None:
        skips.skip("comments without publishedAt")
        return None
    if not text.strip():
        skips.skip("comments without text")
        return None
    video_id = as_str(snippet.get("videoId")) or video_id
    likes = as_int(snippet.get("likeCount"))
    raw = dict(comment)
    raw.update({k: v for k, v in (("videoId", video_id), ("totalReplyCount", reply_count)) if v is not None})
    mention = Mention(
        source=YouTubeSource.name,
        external_id=comment_id,
        text=text,
        created_at=published,
        author=as_str(snippet.get("authorDisplayName")),
        url=watch_url(video_id, comment_id, as_str(snippet.get("channelId")) or channel_id),
        engagement=total(likes, reply_count),
        parent_id=as_str(snippet.get("parentId")),
        metrics=metrics(likes=likes, replies=reply_count),
        raw=raw,
    )
    return updated.timestamp(), mention


# --- helpers ----------------------------------------------------------------------------------------


def _option_float(options: Mapping[str, Any], key: str, default: float, minimum: float | None) -> float:
    value = options.get(key)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"[sources.youtube] {key} must be a number, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ConfigError(f"[sources.youtube] {key} must be at least {minimum:g}, got {value!r}")
    return number


def _streams(options: Mapping[str, Any], key: str, kind: str) -> list[Stream]:
    return [Stream(kind, item) for item in option_list(options, key)]


def _option_bool(options: Mapping[str, Any], key: str) -> bool:
    value = options.get(key)
    return value is True or str(value).strip().lower() in ("1", "true", "yes", "on")


def _wants_search(options: Mapping[str, Any], streams: Collection[object]) -> bool:
    if options.get("search_videos") is None:
        return not streams
    return _option_bool(options, "search_videos")


def _kept_videos(entry: Any, since: datetime) -> list[str]:
    videos = as_mapping(as_mapping(entry).get("videos"))
    cutoff = since.timestamp()
    return [video for video, at in videos.items() if (as_int(at) or 0) >= cutoff]


def _decode(cursor: str | None) -> dict[str, Any]:
    """{"paging": the streams' cursor, "searches": {term: {"at", "videos": {id: found_at}}}}."""
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("yt") != 1:
        log.warning("youtube: ignoring an unreadable cursor; starting a new backfill")
        return {}
    searches = data.get("searches")
    return {
        "paging": data.get("paging") if isinstance(data.get("paging"), str) else None,
        "searches": dict(searches) if isinstance(searches, dict) else {},
    }


def _restore(source: str, before: str | None, after: str | None, keys: list[str]) -> str | None:
    """The streams' cursor `after`, with the streams in `keys` as they were in `before`."""
    old, new = decode_cursor(source, before), decode_cursor(source, after)
    for key in keys:
        if key in old:
            new[key] = old[key]
        else:
            new.pop(key, None)
    return encode_cursor(new)


def _encode(state: Mapping[str, Any]) -> str:
    return json.dumps({"yt": 1, **state}, separators=(",", ":"), sort_keys=True)


def _said(error: GoogleError) -> str:
    """Google's reason and message, its HTML links reduced to their words."""
    return html_to_text(error.describe())


def _named(stream: Stream | None, resource: str) -> str:
    if stream is None:
        return resource
    if stream.kind == "video":
        return f"video {stream.id} ({WATCH_URL}?v={stream.id})"
    return f"channel {stream.id}"


def _thread_id(target: ReplyTarget) -> str:
    """The top-level comment a reply goes under: YouTube threads are one level deep, and a reply's id
    is '<thread id>.<reply id>'."""
    return target.parent_id or target.external_id.split(".", 1)[0]


def _video_of(target: ReplyTarget) -> str | None:
    return as_str(as_mapping(target.raw).get("videoId")) if target.raw else None


def build(settings: SourceSettings, ledger: QuotaLedger | None = None) -> YouTubeSource:
    """The source; `ledger` keeps the quota counts (the database's, from registry.build_source), else
    this process's own."""
    return YouTubeSource(settings, build_client(settings, DEFAULT_BASE_URL), ledger or _PROCESS_LEDGER)


_PROCESS_LEDGER = MemoryQuotaLedger()
