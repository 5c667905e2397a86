"""RedditSource: a watch's search or subreddit listings, page by page, and replies posted at most once."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import ClassVar

import praw
from praw.exceptions import PRAWException, RedditAPIException
from prawcore import exceptions as core

from monitor.errors import (
    ReplyRejected,
    ReplyUnconfirmed,
    SourceAuthError,
    SourceError,
    SourceResponseError,
    SourceUnavailable,
)
from monitor.mention import Page, Watch
from monitor.sources.base import PostedReply, ReplyTarget, SourceSettings, TextLength
from monitor.sources.http import SkipLog, option_int, option_list, snippet
from monitor.sources.paging import Batch, StreamState, fetch_streams, search_terms
from monitor.sources.reddit.client import NAME, NotResent, PostGuard, build_reddit, exchange
from monitor.sources.reddit.errors import rejected, translate
from monitor.sources.reddit.limits import rate_limit_for
from monitor.sources.reddit.things import parse_thing, thing_url, things
from monitor.sources.reply_text import normalized
from monitor.sources.text import as_str
from monitor.token_bucket import RateLimit

MAX_LIMIT = 100
MAX_COMMENT_CHARS = 10_000
COMMENT_PATH = "/api/comment"


class RedditSource:
    name: ClassVar[str] = NAME

    def __init__(
        self,
        settings: SourceSettings,
        reddit: praw.Reddit | None = None,
        *,
        rate_limit: RateLimit | None = None,
    ) -> None:
        self.settings = settings
        self._reddit = reddit
        self.rate_limit = rate_limit or rate_limit_for(settings)
        self.page_size = option_int(settings.options, "page_size", MAX_LIMIT, maximum=MAX_LIMIT)
        self.max_pages = option_int(settings.options, "max_pages", 20, maximum=1000)
        # PRAW's session (token, rate-limit state) is not meant for several threads at once.
        self._lock = threading.Lock()

    @property
    def reddit(self) -> praw.Reddit:
        # Built on first use, so a missing credential is a failed fetch in `grumble status`, not a crash.
        if self._reddit is None:
            self._reddit = build_reddit(self.settings)
        return self._reddit

    def fetch(self, watch: Watch, cursor: str | None) -> Page:
        options = watch.options_for(self.name)
        subreddits = [s.removeprefix("r/").removeprefix("/r/") for s in option_list(options, "subreddits")]
        where = "+".join(subreddits)
        mode = str(options.get("mode") or "search").lower()
        streams: dict[str, tuple[str, dict[str, str]]]
        if mode == "new":
            if not subreddits:
                raise SourceError(
                    self.name,
                    "mode 'new' needs subreddits: set subreddits = [...] in [watches.sources.reddit]",
                )
            listings = option_list(options, "listings") or ["submissions", "comments"]
            paths = {"submissions": f"/r/{where}/new", "comments": f"/r/{where}/comments"}
            unknown = [name for name in listings if name not in paths]
            if unknown:
                raise SourceError(
                    self.name, f"unknown listings {unknown}; use 'submissions' and/or 'comments'"
                )
            streams = {f"{name}:{where}": (paths[name], {}) for name in listings}
        elif mode == "search":
            terms = search_terms(watch.keywords, watch.required)
            query = (
                " OR ".join(f'"{t}"' if " " in t else t for t in terms) if watch.keywords else " ".join(terms)
            )
            params = {"q": query, "sort": "new", "t": "all", "type": "link"}
            if subreddits:
                params["restrict_sr"] = "on"
            path = f"/r/{where}/search" if subreddits else "/search"
            streams = {f"search:{where or 'all'}:{query}": (path, params)}
        else:
            raise SourceError(
                self.name, f"unknown mode {mode!r} in [watches.sources.reddit]; use 'search' or 'new'"
            )
        return fetch_streams(
            self.name,
            cursor,
            streams,
            self._page,
            max_backfill=self.settings.max_backfill,
            max_pages=self.max_pages,
            unsearched=mode == "new",
        )

    def _page(self, spec: tuple[str, dict[str, str]], state: StreamState) -> Batch:
        path, base_params = spec
        params: dict[str, str | int] = {
            **base_params,
            "limit": min(self.page_size, state.room(self.settings.max_backfill)),
        }
        if state.pending and isinstance(state.token, str):
            params["after"] = state.token
        what = path
        self.rate_limit.acquire(self.name)
        with self._lock:
            exchange.response = None
            try:
                data = self.reddit.request(method="GET", path=path, params=params)
            except SourceError:
                raise
            except (PRAWException, core.PrawcoreException, ValueError, KeyError, TypeError) as exc:
                raise translate(self.name, exc, what) from None
        if not isinstance(data, Mapping | list):
            raise SourceResponseError(
                self.name, f"expected a Listing from {what}, got {snippet(repr(data))!r}"
            )
        skips = SkipLog(self.name)
        items = [item for item in (parse_thing(t, skips) for t in things(data)) if item is not None]
        skips.report(what)
        after = None
        if isinstance(data, Mapping) and isinstance(data.get("data"), Mapping):
            after = as_str(data["data"].get("after"))
        return Batch(items=items, next_token=after)

    # --- replies ------------------------------------------------------------------------------------

    def measure(self, text: str) -> TextLength:
        return TextLength(len(text), MAX_COMMENT_CHARS, "characters")

    def missing_login(self) -> str | None:
        options = self.settings.options
        if as_str(options.get("client_id")) is None or as_str(options.get("client_secret")) is None:
            return "a script app: set GRUMBLE_REDDIT_CLIENT_ID and GRUMBLE_REDDIT_CLIENT_SECRET"
        if as_str(options.get("username")) is None or as_str(options.get("password")) is None:
            return (
                "a user login: set GRUMBLE_REDDIT_USERNAME and GRUMBLE_REDDIT_PASSWORD (or username and "
                "password in [sources.reddit]) for the script app's account"
            )
        return None

    def _username(self) -> str:
        missing = self.missing_login()
        username = as_str(self.settings.options.get("username"))
        if missing is not None or username is None:
            raise SourceAuthError(self.name, f"replying needs {missing}")
        return username

    def reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply:
        """A comment under the submission (t3_) or comment (t1_), through PRAW; sent at most once."""
        self._username()
        kind, _, short_id = target.external_id.partition("_")
        if kind not in ("t1", "t3") or not short_id:
            raise ReplyRejected(self.name, f"cannot reply to {target.external_id!r}: not a post or comment")
        what = f"the reply to {target.external_id}"
        self.rate_limit.acquire(self.name)
        with self._lock:
            exchange.response = None
            exchange.guard = PostGuard(COMMENT_PATH)
            try:
                thing = self.reddit.comment(short_id) if kind == "t1" else self.reddit.submission(short_id)
                comment = thing.reply(body=text)
            except NotResent as exc:
                raise ReplyUnconfirmed(
                    self.name, f"{what} {exc}; Reddit may have posted it, so it was not sent again"
                ) from None
            except RedditAPIException as exc:
                raise rejected(self.name, exc, what) from None
            except (PRAWException, core.PrawcoreException, ValueError, KeyError, TypeError) as exc:
                error = translate(self.name, exc, what)
                if isinstance(exc, core.Forbidden):
                    raise ReplyRejected(
                        self.name,
                        f"Reddit refused {what} (HTTP 403): the thread may be locked or archived, or the "
                        "account banned from the subreddit",
                        "forbidden",
                    ) from None
                if isinstance(error, SourceUnavailable | SourceResponseError) and not isinstance(
                    exc, core.ResponseException | core.NotFound | core.Redirect
                ):
                    raise ReplyUnconfirmed(self.name, f"{error.detail}; Reddit may have posted it") from None
                raise error from None
            finally:
                exchange.guard = None
        if comment is None:
            raise ReplyUnconfirmed(
                self.name, f"Reddit took {what} but did not return it (a quarantined subreddit?)"
            )
        data = vars(comment)
        fullname = as_str(data.get("name")) or f"t1_{comment.id}"
        if not as_str(data.get("link_id")) and kind == "t3":
            data = {**data, "link_id": target.external_id}  # a reply to a post lives in its thread
        return PostedReply(id=fullname, url=thing_url(data))

    def find_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply | None:
        """Our account's newest comments: one under the same parent with the same text."""
        username = self._username()
        path = f"/user/{username}/comments"
        self.rate_limit.acquire(self.name)
        with self._lock:
            exchange.response = None
            try:
                data = self.reddit.request(
                    method="GET", path=path, params={"limit": MAX_LIMIT, "sort": "new", "raw_json": 1}
                )
            except (PRAWException, core.PrawcoreException, ValueError, KeyError, TypeError) as exc:
                raise translate(self.name, exc, f"{username}'s recent comments") from None
        wanted = normalized(text)
        for thing in things(data):
            item = thing.get("data")
            if thing.get("kind") != "t1" or not isinstance(item, Mapping):
                continue
            if (
                item.get("parent_id") == target.external_id
                and str(item.get("author") or "").lower() == username.lower()
                and normalized(str(item.get("body") or "")) == wanted
            ):
                fullname = as_str(item.get("name")) or f"t1_{item.get('id')}"
                return PostedReply(id=fullname, url=thing_url(item))
        return None
