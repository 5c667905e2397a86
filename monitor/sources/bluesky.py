"""Bluesky: `app.bsky.feed.searchPosts`, newest first, one search per keyword.

Search needs a session on most servers: with a handle and an app password the source opens one with
`com.atproto.server.createSession`, keeps it, and opens a new one once when the server says it expired.
Without them it asks the public AppView, which may refuse (the 401/403 message then says what to set).
Posts are ordered by when the AppView saw them (the earlier of createdAt and indexedAt), which is what
`sort=latest` sorts by, so a post with a wrong clock cannot end a pass early.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from monitor.errors import SourceAuthError
from monitor.mention import Mention, Page, Watch
from monitor.sources.base import SourceSettings
from monitor.sources.http import (
    SkipLog,
    build_client,
    credential_hint,
    decode_json,
    expect_list,
    expect_mapping,
    get_json,
    option_int,
    send,
)
from monitor.sources.paging import Batch, StreamState, fetch_streams, search_terms
from monitor.sources.text import as_int, as_mapping, as_str, dig, metrics, parse_time, total

PUBLIC_APPVIEW = "https://public.api.bsky.app"
DEFAULT_PDS = "https://bsky.social"
SEARCH = "/xrpc/app.bsky.feed.searchPosts"
CREATE_SESSION = "/xrpc/com.atproto.server.createSession"
MAX_LIMIT = 100
APP_PASSWORD_HELP = "make an app password under Settings > Privacy and security > App passwords"


class BlueskySource:
    name: ClassVar[str] = "bluesky"

    def __init__(self, settings: SourceSettings, client: httpx.Client) -> None:
        self.settings = settings
        self.client = client
        self.handle = str(settings.options.get("handle") or "") or None
        self.app_password = str(settings.options.get("app_password") or "") or None
        self.page_size = option_int(settings.options, "page_size", MAX_LIMIT, maximum=MAX_LIMIT)
        self.max_pages = option_int(settings.options, "max_pages", 20, maximum=1000)
        self.auth_hint = credential_hint(self.name, "handle", "app_password", extra=APP_PASSWORD_HELP)
        self._access_jwt: str | None = None
        # One source serves every watch, possibly from several scheduler threads at once.
        self._session_lock = threading.Lock()

    def fetch(self, watch: Watch, cursor: str | None) -> Page:
        streams = {f"search:{term}": term for term in search_terms(watch.keywords, watch.required)}
        return fetch_streams(
            self.name,
            cursor,
            streams,
            self._page,
            max_backfill=self.settings.max_backfill,
            max_pages=self.max_pages,
        )

    def _session(self, renew: bool = False) -> str | None:
        if not self.handle and not self.app_password:
            return None
        if not self.handle or not self.app_password:
            missing = "handle" if not self.handle else "app_password"
            raise SourceAuthError(self.name, f"{missing} is not set. {self.auth_hint}")
        with self._session_lock:
            if self._access_jwt is None or renew:
                response = send(
                    self.client,
                    self.name,
                    "POST",
                    CREATE_SESSION,
                    json={"identifier": self.handle, "password": self.app_password},
                    auth_hint=self.auth_hint,
                    resource=f"a session for {self.handle}",
                )
                data = expect_mapping(self.name, decode_json(self.name, response), "createSession")
                token = as_str(data.get("accessJwt"))
                if token is None:
                    raise SourceAuthError(self.name, f"createSession gave no accessJwt. {self.auth_hint}")
                self._access_jwt = token
            return self._access_jwt

    def _search(self, params: Mapping[str, str | int], term: str) -> Any:
        token = self._session()
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            try:
                return get_json(
                    self.client,
                    self.name,
                    SEARCH,
                    params=dict(params),
                    headers=headers,
                    auth_hint=self.auth_hint,
                    resource=f"the search for {term!r}",
                )
            except SourceAuthError:
                # Access tokens live about two hours; a long-running scheduler outlives them.
                if token is None or attempt == 2:
                    raise
                token = self._session(renew=True)
        raise AssertionError("unreachable")

    def _page(self, term: str, state: StreamState) -> Batch:
        params: dict[str, str | int] = {
            "q": term,
            "sort": "latest",
            "limit": min(self.page_size, state.room(self.settings.max_backfill)),
        }
        if state.pending and isinstance(state.token, str):
            params["cursor"] = state.token
        data = expect_mapping(self.name, self._search(params, term), "a searchPosts answer")
        posts = expect_list(self.name, data.get("posts"), "posts")
        skips = SkipLog(self.name)
        items = [item for item in (parse_post(p, skips) for p in posts) if item is not None]
        skips.report(f"the search for {term!r}")
        # Some servers keep sending a cursor after the last result; an empty page ends the pass.
        return Batch(items=items, next_token=as_str(data.get("cursor")) if posts else None)


def permalink(uri: str, handle: str | None) -> str:
    """at://did/app.bsky.feed.post/rkey -> https://bsky.app/profile/handle/post/rkey"""
    parts = uri.removeprefix("at://").split("/")
    who = handle or parts[0]
    rkey = parts[-1] if len(parts) >= 3 else ""
    return f"https://bsky.app/profile/{who}/post/{rkey}"


def parse_post(post: Any, skips: SkipLog) -> tuple[float, Mention] | None:
    """One postView (searchPosts, getPosts and getPostThread all use it) as a Mention."""
    if not isinstance(post, Mapping):
        skips.skip("not an object")
        return None
    uri = as_str(post.get("uri"))
    record = post.get("record")
    text = dig(record, "text")
    created = parse_time(dig(record, "createdAt"))
    indexed = parse_time(post.get("indexedAt"))
    if uri is None:
        skips.skip("without uri")
        return None
    if not isinstance(text, str):
        skips.skip("without record.text")
        return None
    if created is None and indexed is None:
        skips.skip("without createdAt")
        return None
    sort_at = min(t for t in (created, indexed) if t is not None)
    author = as_mapping(post.get("author"))
    handle = as_str(author.get("handle"))
    likes = as_int(post.get("likeCount"))
    reposts = as_int(post.get("repostCount"))
    replies = as_int(post.get("replyCount"))
    quotes = as_int(post.get("quoteCount"))
    langs = dig(record, "langs")
    mention = Mention(
        source=BlueskySource.name,
        external_id=uri,
        text=text,
        created_at=created or sort_at,
        author=handle or as_str(author.get("did")),
        url=permalink(uri, handle),
        # Search results carry a basic profile without follower counts; fetching each would cost a request.
        author_reach=as_int(author.get("followersCount")),
        engagement=total(likes, reposts, replies, quotes),
        parent_id=as_str(dig(record, "reply", "parent", "uri")),
        language=as_str(langs[0]) if isinstance(langs, list) and langs else None,
        metrics=metrics(likes=likes, reposts=reposts, replies=replies, quotes=quotes),
        raw=dict(post),
    )
    return sort_at.timestamp(), mention


def build(settings: SourceSettings) -> BlueskySource:
    # The public AppView answers without a session; a session lives on the account's server (PDS).
    has_login = bool(settings.options.get("handle") or settings.options.get("app_password"))
    return BlueskySource(settings, build_client(settings, DEFAULT_PDS if has_login else PUBLIC_APPVIEW))
