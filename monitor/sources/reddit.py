"""Reddit through PRAW (script-app credentials): keyword search, or a subreddit's newest posts and comments.

Modes, per watch (`[watches.sources.reddit]`):
    mode = "search" (default)  Reddit search for any keyword, newest first, across all of Reddit or the
                               watch's `subreddits`.
    mode = "new"               the newest submissions and comments of `subreddits` (listings, so the page is
                               `unsearched` and the collector keeps those naming a keyword); `listings`
                               picks "submissions", "comments" or both (default).

Requests go through `praw.Reddit.request`, the real client with its OAuth, retries and Reddit's own
rate-limit headers, and the listings are read as JSON rather than as PRAW models: models fetch missing
attributes lazily (an extra request per item) and hide the raw payload the store keeps. On top of
PRAW, a token bucket keeps each client id under Reddit's 100 requests a minute.

Replies (`reply`) go through PRAW's own `Comment.reply` / `Submission.reply` (POST /api/comment with the
thing_id), which needs a user login (username and password of the script app's account). prawcore
retries a request after a timeout or a 5xx, which for a POST could publish a reply twice: while a
reply is sent, the requestor lets the comment POST out again only after an answer that says it was not
posted (a 401 before a token refresh, a RATELIMIT); otherwise the reply is "unconfirmed" and the next
attempt looks for it among the account's recent comments (`find_reply`) before posting again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

import praw
import prawcore
import requests
from praw.exceptions import PRAWException, RedditAPIException
from prawcore import exceptions as core

from monitor.errors import (
    ReplyRejected,
    ReplyUnconfirmed,
    SourceAuthError,
    SourceError,
    SourceNotFound,
    SourceRateLimited,
    SourceResponseError,
    SourceUnavailable,
)
from monitor.mention import Mention, Page, Watch
from monitor.respond.reply_text import normalized
from monitor.sources.base import USER_AGENT, PostedReply, ReplyTarget, SourceSettings, TextLength
from monitor.sources.http import (
    DEFAULT_RETRY_AFTER_S,
    SkipLog,
    credential_hint,
    option_int,
    option_list,
    retry_after_seconds,
    snippet,
)
from monitor.sources.paging import Batch, StreamState, fetch_streams, search_terms
from monitor.sources.text import as_int, as_str, metrics, parse_time, total

log = logging.getLogger(__name__)

DEFAULT_OAUTH_URL = "https://oauth.reddit.com"
DEFAULT_REDDIT_URL = "https://www.reddit.com"
PERMALINK_BASE = "https://www.reddit.com"
MAX_LIMIT = 100
REQUESTS_PER_MINUTE = 100
AUTH_HINT = credential_hint(
    "reddit",
    "client_id",
    "client_secret",
    extra="they belong to a 'script' app from https://www.reddit.com/prefs/apps; with a user login also "
    "check GRUMBLE_REDDIT_USERNAME and GRUMBLE_REDDIT_PASSWORD",
)


class RateLimit:
    """A token bucket: `per_minute` requests a minute, with a burst of as many.

    A short wait is slept through; a long one raises SourceRateLimited so the scheduler thread is not
    held and the collector retries after it. Clock and sleep are injectable so tests never sleep.
    """

    def __init__(
        self,
        per_minute: int = REQUESTS_PER_MINUTE,
        *,
        max_wait_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_wait_s = max_wait_s
        self.clock = clock
        self.sleep = sleep
        self.tokens = self.capacity
        self.updated = clock()
        self._lock = threading.Lock()

    def acquire(self, source: str) -> None:
        with self._lock:
            now = self.clock()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            wait = (1.0 - self.tokens) / self.rate if self.tokens < 1.0 else 0.0
            if wait > self.max_wait_s:
                raise SourceRateLimited(
                    source,
                    f"Grumble's own limit of {self.capacity:g} requests a minute per client is reached; "
                    f"retry after {wait:.1f} s",
                    wait,
                )
            self.tokens -= 1.0  # reserved now, so a concurrent caller waits for the next token
        if wait > 0:
            self.sleep(wait)


_limits: dict[str, RateLimit] = {}
_limits_lock = threading.Lock()


def rate_limit_for(client_id: str) -> RateLimit:
    """Reddit counts requests per OAuth client, so every source built with one client id shares one bucket."""
    with _limits_lock:
        return _limits.setdefault(client_id, RateLimit())


# The last HTTP response of this thread, for errors that arrive without it (a token answer that is not
# JSON surfaces as a bare ValueError): the message can then quote what the server sent.
_last = threading.local()


class _NotResent(Exception):
    """The reply POST was about to be sent again after an attempt with no definite answer."""


class _PostGuard:
    """While set for a thread, the comment POST goes out again only after an answer saying it was not
    posted (any answer below 500: a 401 that prawcore refreshes the token for, a RATELIMIT PRAW waits)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.sent = False
        self.definite = True
        self.last = ""


class _Requestor(prawcore.Requestor):
    """PRAW 8 sends its own fixed timeout with every API call; use the operator's `timeout_s` instead."""

    def request(self, *args: Any, timeout: float | None = None, **kwargs: Any) -> requests.Response:
        guard: _PostGuard | None = getattr(_last, "guard", None)
        guarded = (
            guard is not None
            and len(args) >= 2
            and str(args[0]).upper() == "POST"
            and str(args[1]).rstrip("/").endswith(guard.path)
        )
        if guard is not None and guarded:
            if guard.sent and not guard.definite:
                raise _NotResent(guard.last)
            guard.sent, guard.definite, guard.last = True, False, "got no answer"
        try:
            response = super().request(*args, timeout=self.timeout, **kwargs)
        except prawcore.RequestException as exc:
            if guard is not None and guarded:
                guard.last = f"failed: {type(exc.original_exception).__name__}: {exc.original_exception}"
            raise
        if guard is not None and guarded:
            guard.definite = response.status_code < 500 and response.status_code != 408
            guard.last = f"got HTTP {response.status_code}"
        _last.response = response
        return response


def build_reddit(settings: SourceSettings) -> praw.Reddit:
    """The real PRAW client from `[sources.reddit]`; base_url sets both of PRAW's URLs (a proxy, a test)."""
    options = settings.options
    client_id = as_str(options.get("client_id"))
    if client_id is None:
        raise SourceAuthError("reddit", f"client_id is not set. {AUTH_HINT}")
    username = as_str(options.get("username"))
    # Reddit's API rules ask for the operator's account in the User-Agent when there is one.
    user_agent = as_str(options.get("user_agent")) or (
        f"{USER_AGENT} (by /u/{username})" if username else USER_AGENT
    )
    oauth_url = as_str(options.get("oauth_url")) or settings.base_url or DEFAULT_OAUTH_URL
    reddit_url = as_str(options.get("reddit_url")) or settings.base_url or DEFAULT_REDDIT_URL
    try:
        return praw.Reddit(
            client_id=client_id,
            # None selects PRAW's installed-app flow; script apps always have a secret.
            client_secret=as_str(options.get("client_secret")),
            user_agent=user_agent,
            username=username,
            password=as_str(options.get("password")),
            oauth_url=oauth_url.rstrip("/"),
            reddit_url=reddit_url.rstrip("/"),
            check_for_updates=False,  # it would ask PyPI on every start
            check_for_async=False,
            requestor_class=_Requestor,
            requestor_kwargs={"timeout": settings.timeout_s},
        )
    except (PRAWException, core.PrawcoreException, ValueError) as exc:
        raise SourceAuthError("reddit", f"cannot set up PRAW: {exc}. {AUTH_HINT}") from None


def _response_detail(response: Any) -> str:
    if response is None:
        return ""
    content_type = response.headers.get("content-type", "(none)")
    body = snippet(response.content or b"") or "(empty body)"
    return f" (HTTP {response.status_code}, content-type {content_type}): {body}"


def translate(source: str, exc: Exception, what: str) -> SourceError:
    """PRAW's and prawcore's exceptions, as the SourceError the collector understands."""
    response = getattr(exc, "response", None)
    if isinstance(exc, core.TooManyRequests):
        wait = retry_after_seconds(response.headers) if response is not None else None
        if wait is None:
            return SourceRateLimited(source, f"rate limited on {what}, no Retry-After", DEFAULT_RETRY_AFTER_S)
        return SourceRateLimited(source, f"rate limited on {what}; retry after {wait:g} s", wait)
    if isinstance(exc, core.Forbidden | core.InsufficientScope | core.InvalidToken | core.OAuthException):
        return SourceAuthError(
            source,
            f"access refused to {what} ({type(exc).__name__}: {exc}); the subreddit may be private or "
            f"banned, or the credentials wrong. {AUTH_HINT}",
        )
    if isinstance(exc, KeyError) and exc.args and exc.args[0] == 401:
        # prawcore maps a 401 through the WWW-Authenticate header; without one it raises KeyError(401).
        return SourceAuthError(source, f"HTTP 401 unauthorized for {what}. {AUTH_HINT}")
    if isinstance(exc, core.NotFound | core.Redirect | core.UnavailableForLegalReasons):
        # Reddit answers an unknown subreddit with a redirect to its search page.
        return SourceNotFound(source, f"{what} does not exist or is banned ({type(exc).__name__}: {exc})")
    if isinstance(exc, core.ServerError):
        return SourceUnavailable(source, f"Reddit server error on {what}: {exc}; will retry later")
    if isinstance(exc, core.RequestException):
        original = exc.original_exception
        kind = "timed out" if isinstance(original, requests.Timeout) else "failed"
        return SourceUnavailable(source, f"request for {what} {kind}: {type(original).__name__}: {original}")
    if isinstance(exc, core.BadJSON):
        content_type = response.headers.get("content-type", "") if response is not None else ""
        body = (response.content or b"") if response is not None else b""
        kind = (
            "HTML" if "html" in content_type or body.lstrip()[:1] == b"<" else "malformed or truncated JSON"
        )
        return SourceResponseError(
            source, f"{kind} where JSON was expected from {what}{_response_detail(response)}"
        )
    if isinstance(exc, core.ResponseException):
        status = response.status_code if response is not None else 0
        # Raised for the token request itself: wrong client id or secret come back as 401.
        if status in (400, 401, 403):
            return SourceAuthError(
                source, f"the OAuth token request was refused{_response_detail(response)}. {AUTH_HINT}"
            )
        if status == 429 and response is not None:
            asked = "the OAuth token request" if "access_token" in str(getattr(response, "url", "")) else what
            return translate(source, core.TooManyRequests(response), asked)
        if status >= 500:
            return SourceUnavailable(source, f"Reddit server error on {what}{_response_detail(response)}")
        return SourceResponseError(source, f"unexpected answer for {what}{_response_detail(response)}")
    if isinstance(exc, RedditAPIException):
        return SourceResponseError(source, f"Reddit rejected the request for {what}: {snippet(str(exc))}")
    if isinstance(exc, PRAWException | core.PrawcoreException):
        return SourceResponseError(source, f"PRAW failed on {what}: {type(exc).__name__}: {exc}")
    # ValueError (a token answer that is not JSON), KeyError/TypeError (one that lacks its fields).
    last = getattr(_last, "response", None)
    return SourceResponseError(
        source,
        f"malformed answer for {what}: {type(exc).__name__}: {snippet(str(exc))}{_response_detail(last)}",
    )


def things(data: Any) -> Iterator[Mapping[str, Any]]:
    """Every Thing in a Listing, a list of Listings (a submission with its comments), or comment replies."""
    if isinstance(data, list):
        for part in data:
            yield from things(part)
        return
    if not isinstance(data, Mapping):
        return
    if data.get("kind") == "Listing":
        children = data.get("data", {}).get("children") if isinstance(data.get("data"), Mapping) else None
        for child in children if isinstance(children, list) else []:
            yield from things(child)
        return
    yield data
    replies = data.get("data", {}).get("replies") if isinstance(data.get("data"), Mapping) else None
    if replies:
        yield from things(replies)


def parse_thing(thing: Mapping[str, Any], skips: SkipLog) -> tuple[float, Mention] | None:
    """A submission (t3) or comment (t1) as a Mention; "more" stubs and other kinds are passed over."""
    kind = thing.get("kind")
    data = thing.get("data")
    if kind not in ("t1", "t3"):
        if kind != "more":
            skips.skip(f"of kind {kind!r}")
        return None
    if not isinstance(data, Mapping):
        skips.skip("without data")
        return None
    thing_id = as_str(data.get("id"))
    fullname = as_str(data.get("name")) or (f"{kind}_{thing_id}" if thing_id else None)
    created = parse_time(data.get("created_utc"))
    score = as_int(data.get("score"))
    if fullname is None:
        skips.skip("without id")
        return None
    if created is None:
        skips.skip("without created_utc")
        return None
    if kind == "t3":
        title = as_str(data.get("title"))
        text = as_str(data.get("selftext")) or title
        comments = as_int(data.get("num_comments"))
        parent = None
        engagement = total(score, comments)
        extra = metrics(
            score=score,
            num_comments=comments,
            subreddit_subscribers=as_int(data.get("subreddit_subscribers")),
        )
    else:
        title = None  # the thread's title is not the comment's words: keywords must be in the comment
        text = as_str(data.get("body"))
        parent = as_str(data.get("parent_id"))
        engagement = score
        extra = metrics(score=score)
    if text is None:
        skips.skip("without text")
        return None
    mention = Mention(
        source=RedditSource.name,
        external_id=fullname,
        text=text,
        title=title,
        created_at=created,
        author=as_str(data.get("author")),
        url=thing_url(data),
        # Karma would cost one request per author; the ranking does without.
        author_reach=None,
        engagement=engagement,
        parent_id=parent,
        metrics=extra,
        # A comment's replies are mentions of their own; keeping them here would store each tree twice.
        raw={**thing, "data": {k: v for k, v in data.items() if k != "replies"}},
    )
    return created.timestamp(), mention


class RedditSource:
    name: ClassVar[str] = "reddit"

    def __init__(
        self,
        settings: SourceSettings,
        reddit: praw.Reddit | None = None,
        *,
        rate_limit: RateLimit | None = None,
    ) -> None:
        self.settings = settings
        self._reddit = reddit
        client_id = as_str(settings.options.get("client_id")) or "unset"
        self.rate_limit = rate_limit or rate_limit_for(client_id)
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
            _last.response = None
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
            _last.response = None
            _last.guard = _PostGuard(COMMENT_PATH)
            try:
                thing = self.reddit.comment(short_id) if kind == "t1" else self.reddit.submission(short_id)
                comment = thing.reply(body=text)
            except _NotResent as exc:
                raise ReplyUnconfirmed(
                    self.name, f"{what} {exc}; Reddit may have posted it, so it was not sent again"
                ) from None
            except RedditAPIException as exc:
                raise _rejected(self.name, exc, what) from None
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
                _last.guard = None
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
            _last.response = None
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


def thing_url(data: Mapping[str, Any]) -> str | None:
    """A post's or comment's address: its permalink, or, for a comment whose answer has none, one
    built from its thread (link_id) and its id, which Reddit resolves the same way."""
    permalink = as_str(data.get("permalink"))
    thing_id = as_str(data.get("id"))
    link_id = as_str(data.get("link_id"))
    if permalink is None and thing_id and link_id:
        permalink = f"/comments/{link_id.removeprefix('t3_')}/_/{thing_id}/"
    return f"{PERMALINK_BASE}{permalink}" if permalink else None


MAX_COMMENT_CHARS = 10_000
COMMENT_PATH = "/api/comment"
# Reddit's error types for a reply it refused, as the one word the case shows.
REJECTIONS = {
    "THREAD_LOCKED": "locked",
    "TOO_OLD": "archived",
    "DELETED_COMMENT": "deleted",
    "DELETED_LINK": "deleted",
    "TOO_LONG": "too_long",
    "RATELIMIT": "rate_limited",
}


def _rejected(source: str, exc: RedditAPIException, what: str) -> ReplyRejected:
    items = list(getattr(exc, "items", []) or [])
    kinds = [str(getattr(item, "error_type", "")) for item in items]
    reason = next((REJECTIONS[k] for k in kinds if k in REJECTIONS), "rejected")
    said = "; ".join(
        f"{getattr(item, 'error_type', '')}: {getattr(item, 'message', '')}" for item in items
    ) or snippet(str(exc))
    return ReplyRejected(source, f"Reddit refused {what}: {said}", reason)


def build(settings: SourceSettings) -> RedditSource:
    return RedditSource(settings)
