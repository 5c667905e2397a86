"""A fake YouTube Data API v3 on the loopback ReplayServer: commentThreads.list, search.list,
comments.list, comments.insert, channels.list (mine) and Google's token endpoint (refresh-token grant).

It answers in the API's shapes (envelopes, nextPageToken paging, Google's error envelope with YouTube's
reasons) from lists the test changes between runs, keeps the replies it published (and can answer a
post too late, `slow_s`, which is how the timeout tests make the client give up on a post the server
carried out). Built from the API reference's documented shapes, checked against the recorded answers
in ../shared/data/payloads/youtube.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.mention import utcnow
from monitor.sources import youtube
from monitor.sources.base import SourceSettings
from monitor.sources.http import build_client
from monitor.sources.quota import MemoryQuotaLedger, QuotaLedger
from tests.support.http_replay import ReplayServer, Reply, Request

API_KEY = "AIza-test-key"
ACCESS_TOKEN = "yt-access-token"
CHANNEL = "UCgrumbleBrand"
OAUTH = {"client_id": "yt-client", "client_secret": "yt-secret", "refresh_token": "yt-refresh"}


def google_error(status: int, reason: str, message: str, domain: str = "youtube.commentThread") -> Reply:
    """An error in Google's envelope, as the API sends it."""
    return Reply.json(
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": domain, "reason": reason}],
            }
        },
        status=status,
    )


def comments_disabled(video_id: str) -> Reply:
    """No raw body was recorded for commentsDisabled: this is the message recorded from client output
    (payloads/youtube/recorded_error-strings_403_commentsDisabled.txt) in Google's documented envelope."""
    return google_error(
        403,
        "commentsDisabled",
        'The video identified by the <code><a href="/youtube/v3/docs/commentThreads/list#videoId">videoId</a>'
        "</code> parameter has disabled comments.",
    )


@dataclass
class Posted:
    id: str
    parent: str
    text: str


@dataclass
class FakeYouTube:
    server: ReplayServer
    threads: Callable[[Request], list[dict[str, Any]]] = lambda request: []
    videos_found: dict[str, list[str]] = field(default_factory=dict)  # search term -> video ids
    replies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # thread id -> comments
    published: list[Posted] = field(default_factory=list)
    slow_s: float = 0.0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.server.route("GET", "/commentThreads", self._threads)
        self.server.route("GET", "/search", self._search)
        self.server.route("GET", "/comments", self._comments)
        self.server.route("POST", "/comments", self._insert)
        self.server.route("GET", "/channels", self._channels)
        self.server.route("POST", "/token", self._token)

    # --- reading with the API key ---

    def _key_refused(self, request: Request) -> Reply | None:
        if request.headers.get("x-goog-api-key") == API_KEY:
            return None
        return google_error(400, "keyInvalid", "Bad Request", domain="usageLimits")

    def _threads(self, request: Request) -> Reply:
        return self._key_refused(request) or self._paged(request, self.threads(request), "commentThread")

    def _paged(self, request: Request, items: list[dict[str, Any]], kind: str) -> Reply:
        size = int(request.query.get("maxResults", 20))
        start = int(request.query.get("pageToken", "0") or 0)
        body: dict[str, Any] = {
            "kind": f"youtube#{kind}ListResponse",
            "pageInfo": {"totalResults": len(items), "resultsPerPage": size},
            "items": items[start : start + size],
        }
        if start + size < len(items):
            body["nextPageToken"] = str(start + size)
        return Reply.json(body)

    def _search(self, request: Request) -> Reply:
        refused = self._key_refused(request)
        if refused:
            return refused
        found = self.videos_found.get(request.query.get("q", ""), [])
        items = [
            {"kind": "youtube#searchResult", "id": {"kind": "youtube#video", "videoId": v}} for v in found
        ]
        return Reply.json({"kind": "youtube#searchListResponse", "items": items})

    def searches(self) -> list[Request]:
        return self.server.requests_to("/search")

    def thread_requests(self) -> list[Request]:
        return self.server.requests_to("/commentThreads")

    # --- replying with OAuth ---

    def _token(self, request: Request) -> Reply:
        form = request.form()
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != OAUTH["refresh_token"]:
            return Reply.json({"error": "invalid_grant", "error_description": "Bad Request"}, 400)
        return Reply.json({"access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 3599})

    def _authorized(self, request: Request) -> Reply | None:
        if request.headers.get("authorization") == f"Bearer {ACCESS_TOKEN}":
            return None
        return google_error(401, "authError", "Invalid Credentials", domain="global")

    def _comment(self, item: Posted) -> dict[str, Any]:
        return {
            "kind": "youtube#comment",
            "id": item.id,
            "snippet": {
                "textDisplay": item.text,
                "textOriginal": item.text,
                "parentId": item.parent,
                "authorDisplayName": "Acme Support",
                "authorChannelId": {"value": CHANNEL},
                "likeCount": 0,
                "publishedAt": "2026-11-02T12:00:00Z",
                "updatedAt": "2026-11-02T12:00:00Z",
            },
        }

    def _insert(self, request: Request) -> Reply:
        refused = self._authorized(request)
        if refused:
            return refused
        snippet = request.json()["snippet"]
        item = Posted(
            f"{snippet['parentId']}.reply{next(self._ids)}", snippet["parentId"], snippet["textOriginal"]
        )
        self.published.append(item)
        return Reply(
            200, Reply.json(self._comment(item)).body, {"Content-Type": "application/json"}, self.slow_s
        )

    def posts(self) -> list[Request]:
        return [r for r in self.server.requests if r.method == "POST" and r.path == "/comments"]

    def _comments(self, request: Request) -> Reply:
        refused = self._authorized(request)
        if refused:
            return refused
        parent = request.query.get("parentId", "")
        mine = [self._comment(p) for p in self.published if p.parent == parent]
        return self._paged(request, [*self.replies.get(parent, []), *mine], "comment")

    def _channels(self, request: Request) -> Reply:
        return self._authorized(request) or Reply.json(
            {"items": [{"kind": "youtube#channel", "id": CHANNEL}]}
        )

    def source(
        self,
        *,
        ledger: QuotaLedger | None = None,
        clock: Callable[[], datetime] | None = None,
        timeout_s: float = 5.0,
        max_backfill: int = 200,
        **options: Any,
    ) -> youtube.YouTubeSource:
        settings = SourceSettings(
            "youtube",
            base_url=self.server.url,
            timeout_s=timeout_s,
            max_backfill=max_backfill,
            options={"api_key": API_KEY, "token_url": f"{self.server.url}/token", **OAUTH, **options},
        )
        return youtube.YouTubeSource(
            settings,
            build_client(settings, youtube.DEFAULT_BASE_URL),
            ledger or MemoryQuotaLedger(),
            clock=clock or utcnow,
        )
