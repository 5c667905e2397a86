"""Bluesky: `app.bsky.feed.searchPosts`, newest first, one search per keyword.

Search needs a session on most servers: with a handle and an app password the source opens one with
`com.atproto.server.createSession`, keeps it, and opens a new one once when the server says it expired.
Without them it asks the public AppView, which may refuse (the 401/403 message then says what to set).
Posts are ordered by when the AppView saw them (the earlier of createdAt and indexedAt), which is what
`sort=latest` sorts by, so a post with a wrong clock cannot end a pass early.

Replies need the session: `com.atproto.repo.createRecord` of an app.bsky.feed.post whose `reply` names
the thread's root and the mention as parent (uri and cid, from the stored post or app.bsky.feed.getPosts).
The reply's idempotency key is a TID and becomes the record key, so the repository holds at most one
record per key, and `find_reply` is one `com.atproto.repo.getRecord` of that key.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from monitor.errors import (
    ReplyRejected,
    ReplyUnconfirmed,
    SourceAuthError,
    SourceNotFound,
    SourceResponseError,
    SourceUnavailable,
)
from monitor.mention import Mention, Page, Watch
from monitor.sources.base import PostedReply, ReplyTarget, SourceSettings, TextLength
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
from monitor.sources.reply_text import graphemes, is_tid, refusal_reason
from monitor.sources.text import as_int, as_mapping, as_str, dig, metrics, parse_time, total

PUBLIC_APPVIEW = "https://public.api.bsky.app"
DEFAULT_PDS = "https://bsky.social"
SEARCH = "/xrpc/app.bsky.feed.searchPosts"
CREATE_SESSION = "/xrpc/com.atproto.server.createSession"
MAX_LIMIT = 100
APP_PASSWORD_HELP = "make an app password under Settings > Privacy and security > App passwords"
CREATE_RECORD = "/xrpc/com.atproto.repo.createRecord"
GET_RECORD = "/xrpc/com.atproto.repo.getRecord"
GET_POSTS = "/xrpc/app.bsky.feed.getPosts"
POST_COLLECTION = "app.bsky.feed.post"
MAX_POST_GRAPHEMES = 300
MAX_POST_BYTES = 3000
_LINK = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)


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
        self._did: str | None = None
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
                self._did = as_str(data.get("did"))
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

    # --- replies ------------------------------------------------------------------------------------

    def measure(self, text: str) -> TextLength:
        size = len(text.encode("utf-8"))
        if size > MAX_POST_BYTES:
            return TextLength(size, MAX_POST_BYTES, "bytes", "a post is also capped at 3,000 bytes")
        return TextLength(graphemes(text), MAX_POST_GRAPHEMES, "graphemes")

    def missing_login(self) -> str | None:
        if self.handle and self.app_password:
            return None
        return f"a login: handle and app_password. {self.auth_hint}"

    def _authed(self, method: str, path: str, resource: str, **kwargs: Any) -> Any:
        """One XRPC call with the session, opening a new session once if the server says it expired."""
        missing = self.missing_login()
        if missing is not None:
            raise SourceAuthError(self.name, f"replying needs {missing}")
        token = self._session()
        for attempt in (1, 2):
            try:
                return send(
                    self.client,
                    self.name,
                    method,
                    path,
                    headers={"Authorization": f"Bearer {token}"},
                    auth_hint=self.auth_hint,
                    resource=resource,
                    **kwargs,
                )
            except (SourceAuthError, SourceResponseError) as exc:
                # An expired access token is a 400 ExpiredToken (or a 401): nothing was written.
                expired = isinstance(exc, SourceAuthError) or "ExpiredToken" in exc.detail
                if not expired or attempt == 2:
                    raise
                token = self._session(renew=True)
        raise AssertionError("unreachable")

    def _repo(self) -> str:
        self._session()
        if self._did is None:
            raise SourceAuthError(self.name, f"createSession gave no did. {self.auth_hint}")
        return self._did

    def _strong_refs(self, target: ReplyTarget) -> tuple[dict[str, str], dict[str, str]]:
        """(root, parent) of the reply: the mention is the parent; its own reply root, else itself."""
        post: Mapping[str, Any] = target.raw or {}
        if not as_str(post.get("cid")):
            data = expect_mapping(
                self.name,
                decode_json(
                    self.name,
                    self._authed(
                        "GET",
                        GET_POSTS,
                        f"the post {target.external_id}",
                        params={"uris": target.external_id},
                    ),
                ),
                "a getPosts answer",
            )
            posts = expect_list(self.name, data.get("posts"), "posts")
            if not posts or not isinstance(posts[0], Mapping):
                raise ReplyRejected(self.name, f"the post {target.external_id} is gone (deleted?)", "deleted")
            post = posts[0]
        cid = as_str(post.get("cid"))
        if cid is None:
            raise ReplyRejected(self.name, f"the post {target.external_id} has no cid to reply to")
        parent = {"uri": target.external_id, "cid": cid}
        root = as_mapping(dig(post, "record", "reply", "root"))
        if as_str(root.get("uri")) and as_str(root.get("cid")):
            return {"uri": str(root["uri"]), "cid": str(root["cid"])}, parent
        return parent, parent

    def reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply:
        """createRecord of a post in reply to the mention, with the key as its record key."""
        if not is_tid(idempotency_key):
            raise ReplyRejected(self.name, f"the reply key {idempotency_key!r} is not a TID record key")
        repo = self._repo()
        root, parent = self._strong_refs(target)
        record: dict[str, Any] = {
            "$type": POST_COLLECTION,
            "text": text,
            "createdAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "reply": {"root": root, "parent": parent},
        }
        facets = link_facets(text)
        if facets:
            record["facets"] = facets
        body = {"repo": repo, "collection": POST_COLLECTION, "rkey": idempotency_key, "record": record}
        what = f"the reply to {target.external_id}"
        try:
            response = self._authed("POST", CREATE_RECORD, what, json=body)
        except SourceUnavailable as exc:
            raise ReplyUnconfirmed(self.name, f"{exc.detail}; the server may have created it") from None
        except SourceResponseError as exc:
            # A record with this key already there: an earlier attempt landed.
            existing = self.find_reply(target, text, idempotency_key)
            if existing is not None:
                return existing
            raise ReplyRejected(
                self.name, f"the server refused {what}: {exc.detail}", refusal_reason(exc.detail)
            ) from None
        try:
            data = expect_mapping(self.name, decode_json(self.name, response), "a createRecord answer")
        except SourceResponseError as exc:
            raise ReplyUnconfirmed(self.name, f"{what} was answered unreadably: {exc.detail}") from None
        uri = as_str(data.get("uri"))
        if uri is None:
            raise ReplyUnconfirmed(self.name, f"{what} was answered without a uri")
        return PostedReply(id=uri, url=permalink(uri, self.handle))

    def find_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply | None:
        """getRecord of our post with the reply's key: there if an earlier attempt landed."""
        if not is_tid(idempotency_key):
            return None
        repo = self._repo()
        params = {"repo": repo, "collection": POST_COLLECTION, "rkey": idempotency_key}
        try:
            response = self._authed("GET", GET_RECORD, f"the reply record {idempotency_key}", params=params)
        except SourceNotFound:
            return None
        except SourceResponseError as exc:
            if "RecordNotFound" in exc.detail or "Could not locate record" in exc.detail:
                return None
            raise
        data = expect_mapping(self.name, decode_json(self.name, response), "a getRecord answer")
        uri = as_str(data.get("uri")) or f"at://{repo}/{POST_COLLECTION}/{idempotency_key}"
        return PostedReply(id=uri, url=permalink(uri, self.handle))


def link_facets(text: str) -> list[dict[str, Any]]:
    """Bluesky shows links as links only with a facet: byte offsets (UTF-8) of each URL in the text."""
    facets = []
    for match in _LINK.finditer(text):
        url = match.group().rstrip(".,;:!?)]}'")
        start = len(text[: match.start()].encode("utf-8"))
        facets.append(
            {
                "index": {"byteStart": start, "byteEnd": start + len(url.encode("utf-8"))},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}],
            }
        )
    return facets


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
