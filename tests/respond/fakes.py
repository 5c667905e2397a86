"""Fake reply APIs of Reddit, Mastodon and Bluesky on the loopback ReplayServer.

Each fake keeps the replies it published, answers the lookups `find_reply` makes from them, and can be
told to accept a post and then answer too late (`slow_s`), which is how the timeout tests make a client
give up on a request the server did carry out.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from monitor.sources import bluesky, mastodon, reddit
from monitor.sources.base import SourceSettings
from monitor.sources.http import build_client
from monitor.token_bucket import LocalRateLimit
from tests.support.http_replay import ReplayServer, Reply, Request

ACCESS_TOKEN = {"access_token": "fake-token", "token_type": "bearer", "expires_in": 3600, "scope": "*"}
BOT = "grumble_bot"


@dataclass
class Published:
    id: str
    parent: str
    text: str
    key: str | None = None


@dataclass
class FakeApi:
    server: ReplayServer
    published: list[Published] = field(default_factory=list)
    slow_s: float = 0.0  # accept the post, then answer this late
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def posts(self) -> list[Request]:
        raise NotImplementedError

    def answer(self, reply: Reply) -> Reply:
        return Reply(reply.status, reply.body, reply.headers, delay_s=self.slow_s)


# --- Reddit -----------------------------------------------------------------------------------------------

COMMENT = re.compile(r"/api/comment/?")


class FakeReddit(FakeApi):
    def __init__(self, server: ReplayServer) -> None:
        super().__init__(server)
        self.refuse: list[str] | None = None  # e.g. ["THREAD_LOCKED", "Comments are locked.", "parent"]
        self.with_permalinks = True  # some answers carry none
        server.route("POST", "/api/v1/access_token", Reply.json(ACCESS_TOKEN))
        server.route("POST", COMMENT, self._comment)
        server.route("GET", f"/user/{BOT}/comments", self._mine)

    def posts(self) -> list[Request]:
        return [r for r in self.server.requests if r.method == "POST" and COMMENT.fullmatch(r.path)]

    def _thing(self, item: Published) -> dict[str, Any]:
        short = item.id.removeprefix("t1_")
        permalink = {"permalink": f"/r/acme/comments/sub1/_/{short}/"} if self.with_permalinks else {}
        return {
            "kind": "t1",
            "data": {
                **permalink,
                "id": short,
                "name": item.id,
                "author": BOT,
                "body": item.text.replace("&", "&amp;").replace("<", "&lt;"),
                "parent_id": item.parent,
                "link_id": "t3_sub1",
                "created_utc": 1_790_000_000,
                "score": 1,
            },
        }

    def _comment(self, request: Request) -> Reply:
        form = request.form()
        if self.refuse:
            return Reply.json({"json": {"errors": [self.refuse]}})
        item = Published(f"t1_r{next(self._ids)}", form["thing_id"], form["text"])
        self.published.append(item)
        return self.answer(Reply.json({"json": {"errors": [], "data": {"things": [self._thing(item)]}}}))

    def _mine(self, request: Request) -> Reply:
        children = [self._thing(item) for item in reversed(self.published)]
        return Reply.json({"kind": "Listing", "data": {"after": None, "children": children}})

    def source(self, timeout_s: float = 5.0) -> reddit.RedditSource:
        settings = SourceSettings(
            "reddit",
            base_url=self.server.url,
            timeout_s=timeout_s,
            options={
                "client_id": "test-client",
                "client_secret": "test-secret",
                "username": BOT,
                "password": "bot-password",
            },
        )
        return reddit.RedditSource(settings, reddit.build_reddit(settings), rate_limit=LocalRateLimit(10_000))


# --- Mastodon ---------------------------------------------------------------------------------------------

CONTEXT = re.compile(r"/api/v1/statuses/([^/]+)/context")


SOURCE = re.compile(r"/api/v1/statuses/([^/]+)/source")


def rendered_mentions(text: str) -> str:
    """What Mastodon's HTML shows for "@user@domain": a link whose text is "@user"."""
    return re.sub(
        r"@(\w+)@([\w.-]+)",
        r'<span class="h-card"><a href="https://\2/@\1" class="u-url mention">@<span>\1</span></a></span>',
        text,
    )


class FakeMastodon(FakeApi):
    def __init__(self, server: ReplayServer, max_characters: int = 500) -> None:
        super().__init__(server)
        self.max_characters = max_characters
        server.route("POST", "/api/v1/statuses", self._post)
        server.route("GET", "/api/v2/instance", self._instance)
        server.route("GET", "/api/v1/accounts/verify_credentials", Reply.json({"id": "999", "acct": BOT}))
        server.route("GET", CONTEXT, self._context)
        server.route("GET", SOURCE, self._source)
        self.has_source_endpoint = True  # statuses/:id/source came with Mastodon 3.5

    def posts(self) -> list[Request]:
        return [r for r in self.server.requests if r.method == "POST" and r.path == "/api/v1/statuses"]

    def _source(self, request: Request) -> Reply:
        match = SOURCE.fullmatch(request.path)
        item = next((i for i in self.published if match and i.id == match.group(1)), None)
        if item is None or not self.has_source_endpoint:
            return Reply.json({"error": "Record not found"}, 404)
        return Reply.json({"id": item.id, "text": item.text, "spoiler_text": ""})

    def _instance(self, request: Request) -> Reply:
        statuses = {"max_characters": self.max_characters, "characters_reserved_per_url": 23}
        return Reply.json({"domain": "social.example", "configuration": {"statuses": statuses}})

    def _status(self, item: Published) -> dict[str, Any]:
        return {
            "id": item.id,
            "in_reply_to_id": item.parent,
            "content": "<p>"
            + rendered_mentions(item.text.replace("&", "&amp;").replace("<", "&lt;"))
            + "</p>",
            "url": f"https://social.example/@{BOT}/{item.id}",
            "uri": f"https://social.example/users/{BOT}/statuses/{item.id}",
            "account": {"id": "999", "acct": BOT},
            "created_at": "2026-11-01T12:00:00.000Z",
        }

    def _post(self, request: Request) -> Reply:
        if request.headers.get("authorization") != "Bearer masto-token":
            return Reply.json({"error": "The access token is invalid"}, 401)
        body = request.json()
        key = request.headers.get("idempotency-key")
        for item in self.published:
            if key and item.key == key:  # Mastodon answers a known key with the status it made
                return Reply.json(self._status(item))
        if len(body["status"]) > self.max_characters:
            return Reply.json(
                {"error": f"Validation failed: Text character limit of {self.max_characters} exceeded"}, 422
            )
        item = Published(str(200000 + next(self._ids)), body["in_reply_to_id"], body["status"], key)
        self.published.append(item)
        return self.answer(Reply.json(self._status(item)))

    def _context(self, request: Request) -> Reply:
        match = CONTEXT.fullmatch(request.path)
        assert match
        parent = match.group(1)
        descendants = [self._status(item) for item in self.published if item.parent == parent]
        return Reply.json({"ancestors": [], "descendants": descendants})

    def source(self, timeout_s: float = 5.0, token: str = "masto-token") -> mastodon.MastodonSource:
        settings = SourceSettings(
            "mastodon", base_url=self.server.url, timeout_s=timeout_s, options={"access_token": token}
        )
        return mastodon.MastodonSource(settings, build_client(settings, mastodon.DEFAULT_BASE_URL))


# --- Bluesky ----------------------------------------------------------------------------------------------

DID = "did:plc:grumblebot"
HANDLE = "grumble.bsky.social"


class FakeBluesky(FakeApi):
    def __init__(self, server: ReplayServer) -> None:
        super().__init__(server)
        self.records: dict[str, dict[str, Any]] = {}
        self.posts_by_uri: dict[str, dict[str, Any]] = {}
        # The server validates the record itself; lower it to see a refusal our own count let through.
        self.max_graphemes = 300
        server.route(
            "POST",
            "/xrpc/com.atproto.server.createSession",
            Reply.json({"accessJwt": "jwt-1", "refreshJwt": "r-1", "handle": HANDLE, "did": DID}),
        )
        server.route("POST", "/xrpc/com.atproto.repo.createRecord", self._create)
        server.route("GET", "/xrpc/com.atproto.repo.getRecord", self._get)
        server.route("GET", "/xrpc/app.bsky.feed.getPosts", self._get_posts)

    def posts(self) -> list[Request]:
        return self.server.requests_to("/xrpc/com.atproto.repo.createRecord")

    def _create(self, request: Request) -> Reply:
        body = request.json()
        rkey = body["rkey"]
        if rkey in self.records:
            return Reply.json({"error": "InvalidRequest", "message": "Record already exists"}, 400)
        if len(body["record"]["text"]) > self.max_graphemes:
            message = (
                "Invalid app.bsky.feed.post record: "
                f"Record/text must not be longer than {self.max_graphemes} graphemes"
            )
            return Reply.json({"error": "InvalidRecord", "message": message}, 400)
        uri = f"at://{body['repo']}/{body['collection']}/{rkey}"
        self.records[rkey] = {"uri": uri, "cid": f"bafy{rkey}", "value": body["record"]}
        self.published.append(
            Published(uri, body["record"]["reply"]["parent"]["uri"], body["record"]["text"], rkey)
        )
        return self.answer(Reply.json({"uri": uri, "cid": f"bafy{rkey}"}))

    def _get(self, request: Request) -> Reply:
        record = self.records.get(request.query.get("rkey", ""))
        if record is None:
            return Reply.json({"error": "RecordNotFound", "message": "Could not locate record"}, 400)
        return Reply.json(record)

    def _get_posts(self, request: Request) -> Reply:
        uris = request.query_lists.get("uris", [])
        return Reply.json({"posts": [self.posts_by_uri[u] for u in uris if u in self.posts_by_uri]})

    def source(self, timeout_s: float = 5.0) -> bluesky.BlueskySource:
        settings = SourceSettings(
            "bluesky",
            base_url=self.server.url,
            timeout_s=timeout_s,
            options={"handle": HANDLE, "app_password": "app-pass-1234"},
        )
        return bluesky.BlueskySource(settings, build_client(settings, bluesky.DEFAULT_PDS))
