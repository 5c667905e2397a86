"""Fake APIs for the six sources, served by the loopback ReplayServer from tests/sources/fixtures/*.json.

Each fake answers in the shape of the real API (envelopes, pagination parameters, auth endpoints) from a
list of items the test can change between runs (newer items arriving, a broken item among good ones).
An `Adapter` bundles one fake with how to build its source and what the contract suite needs to know.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from monitor.mention import Watch
from monitor.sources import app_store_connect, appstore, bluesky, hackernews, mastodon, reddit, rss
from monitor.sources.base import Source, SourceSettings
from monitor.sources.http import build_client
from monitor.token_bucket import LocalRateLimit
from tests.sources.app_store_connect_fake import APP_ID as ASC_APP_ID
from tests.sources.app_store_connect_fake import ISSUER_ID as ASC_ISSUER_ID
from tests.sources.app_store_connect_fake import KEY_ID as ASC_KEY_ID
from tests.sources.app_store_connect_fake import REVIEWS as ASC_REVIEWS
from tests.sources.app_store_connect_fake import FakeAppStoreConnect, p8_text
from tests.sources.google_fakes import (
    GBP_REVIEWS,
    OAUTH,
    PLAY_REVIEWS,
    SERVICE_ACCOUNT_JSON,
    FakeGoogleBusiness,
    FakeGooglePlay,
)
from tests.sources.google_fakes import PACKAGE as PLAY_PACKAGE
from tests.support.http_replay import ReplayServer, Reply, Request

FIXTURES = Path(__file__).parent / "fixtures"
ACCESS_TOKEN = {"access_token": "fake-token", "token_type": "bearer", "expires_in": 3600, "scope": "*"}
HTML_PAGE = (
    "<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body><h1>Oops</h1></body></html>"
)


def load_fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def _after(items: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any], marker: str | None) -> int:
    """Index just past the item whose id is `marker` (the client's after=/max_id=/cursor)."""
    if not marker:
        return 0
    if marker.startswith("idx:"):
        return int(marker[4:]) + 1
    for index, item in enumerate(items):
        if key(item) == marker:
            return index + 1
    return len(items)


@dataclass
class Adapter:
    name: str
    server: ReplayServer
    fixtures: dict[str, Any]
    endpoint: tuple[str, str | re.Pattern[str]]  # the listing request, where error cases are injected
    credential: str  # what a 401/403 message must name
    external_id: Callable[[dict[str, Any]], str | None]
    make: Callable[[SourceSettings], Source]
    watch_options: dict[str, Any] = field(default_factory=dict)
    settings_options: dict[str, Any] = field(default_factory=dict)
    items: list[dict[str, Any]] = field(default_factory=list)
    base_path: str = ""  # for error bodies shaped like the API's (truncated JSON)

    def __post_init__(self) -> None:
        self.items = list(self.fixtures["items"])

    def source(self, *, max_backfill: int = 3, timeout_s: float = 5.0, page_size: int = 2) -> Source:
        settings = SourceSettings(
            name=self.name,
            base_url=self.server.url,
            max_backfill=max_backfill,
            timeout_s=timeout_s,
            options={"page_size": page_size, **self.settings_options},
        )
        return self.make(settings)

    def watch(self) -> Watch:
        return Watch(name="acme", keywords=("acme",), sources={self.name: self.watch_options})

    def publish_newer(self) -> None:
        self.items[:0] = self.fixtures["newer"]

    def insert_broken(self) -> None:
        self.items[2:2] = self.fixtures["broken"]

    def ids(self, items: list[dict[str, Any]]) -> list[str]:
        return [i for i in (self.external_id(item) for item in items) if i is not None]


# --- Reddit -------------------------------------------------------------------------------------------


def _reddit_name(item: Any) -> str | None:
    data = item.get("data") if isinstance(item, dict) else None
    return data.get("name") if isinstance(data, dict) else None


def install_reddit(adapter: Adapter) -> None:
    def listing(request: Request) -> Reply:
        limit = int(request.query.get("limit", 25))
        start = _after(adapter.items, _reddit_name, request.query.get("after"))
        children = adapter.items[start : start + limit]
        more = start + limit < len(adapter.items)
        # Reddit's `after` is the last child's fullname; a nameless broken child gets a position marker.
        after = (_reddit_name(children[-1]) or f"idx:{start + len(children) - 1}") if more else None
        return Reply.json(
            {
                "kind": "Listing",
                "data": {
                    "after": after,
                    "dist": len(children),
                    "modhash": "",
                    "geo_filter": "",
                    "children": children,
                    "before": None,
                },
            },
            headers={"x-ratelimit-remaining": "595.0", "x-ratelimit-used": "5", "x-ratelimit-reset": "300"},
        )

    adapter.server.route("POST", "/api/v1/access_token", Reply.json(ACCESS_TOKEN))
    adapter.server.route("GET", re.compile(r"(/r/[^/]+)?/(search|new|comments)"), listing)


def reddit_adapter(server: ReplayServer) -> Adapter:
    adapter = Adapter(
        name="reddit",
        server=server,
        fixtures=load_fixture("reddit"),
        endpoint=("GET", "/search"),
        credential="GRUMBLE_REDDIT_CLIENT_SECRET",
        external_id=_reddit_name,
        make=lambda settings: reddit.RedditSource(
            settings, reddit.build_reddit(settings), rate_limit=LocalRateLimit(10_000)
        ),
        settings_options={"client_id": "test-client", "client_secret": "test-secret"},
    )
    install_reddit(adapter)
    return adapter


# --- Hacker News ----------------------------------------------------------------------------------------


def _numeric_filters(expression: str) -> list[Callable[[int], bool]]:
    checks: list[Callable[[int], bool]] = []
    for part in filter(None, expression.split(",")):
        match = re.fullmatch(r"created_at_i(>=|<=|>|<|=)(\d+)", part.strip())
        assert match, f"fake Algolia does not understand numericFilters {part!r}"
        op, value = match.group(1), int(match.group(2))
        checks.append(
            {
                ">=": lambda x, v=value: x >= v,
                "<=": lambda x, v=value: x <= v,
                ">": lambda x, v=value: x > v,
                "<": lambda x, v=value: x < v,
                "=": lambda x, v=value: x == v,
            }[op]
        )
    return checks


def install_hackernews(adapter: Adapter) -> Callable[[Request], Reply]:
    def search(request: Request) -> Reply:
        per_page = int(request.query.get("hitsPerPage", 20))
        page = int(request.query.get("page", 0))
        checks = _numeric_filters(request.query.get("numericFilters", ""))
        hits = [
            h
            for h in adapter.items
            if not isinstance(h.get("created_at_i"), int) or all(c(h["created_at_i"]) for c in checks)
        ]
        chunk = hits[page * per_page : (page + 1) * per_page]
        return Reply.json(
            {
                "hits": chunk,
                "nbHits": len(hits),
                "page": page,
                "nbPages": math.ceil(len(hits) / per_page),
                "hitsPerPage": per_page,
                "exhaustiveNbHits": True,
                "exhaustiveTypo": True,
                "exhaustive": {"nbHits": True, "typo": True},
                "query": request.query.get("query", ""),
                "params": request.raw_path.partition("?")[2],
                "processingTimeMS": 1,
                "serverTimeMS": 2,
            }
        )

    adapter.server.route("GET", "/api/v1/search_by_date", search)
    return search


def hackernews_adapter(server: ReplayServer) -> Adapter:
    adapter = Adapter(
        name="hackernews",
        server=server,
        fixtures=load_fixture("hackernews"),
        endpoint=("GET", "/api/v1/search_by_date"),
        credential="base_url",
        external_id=lambda item: item.get("objectID"),
        make=lambda settings: hackernews.HackerNewsSource(
            settings, build_client(settings, hackernews.DEFAULT_BASE_URL)
        ),
    )
    install_hackernews(adapter)
    return adapter


# --- Mastodon --------------------------------------------------------------------------------------------


def install_mastodon(adapter: Adapter, token: str | None = "masto-token") -> None:
    def statuses(request: Request) -> list[dict[str, Any]]:
        limit = int(request.query.get("limit", 20))
        start = _after(adapter.items, lambda s: s.get("id"), request.query.get("max_id"))
        return adapter.items[start : start + limit]

    def search(request: Request) -> Reply:
        if token and request.headers.get("authorization") != f"Bearer {token}":
            return Reply.json({"error": "The access token is invalid"}, status=401)
        return Reply.json({"accounts": [], "statuses": statuses(request), "hashtags": []})

    def timeline(request: Request) -> Reply:
        return Reply.json(statuses(request))

    adapter.server.route("GET", "/api/v2/search", search)
    adapter.server.route("GET", re.compile(r"/api/v1/timelines/tag/[^/]+"), timeline)


def mastodon_adapter(server: ReplayServer) -> Adapter:
    adapter = Adapter(
        name="mastodon",
        server=server,
        fixtures=load_fixture("mastodon"),
        endpoint=("GET", "/api/v2/search"),
        credential="GRUMBLE_MASTODON_ACCESS_TOKEN",
        external_id=lambda item: item.get("id"),
        make=lambda settings: mastodon.MastodonSource(
            settings, build_client(settings, mastodon.DEFAULT_BASE_URL)
        ),
        settings_options={"access_token": "masto-token"},
    )
    install_mastodon(adapter)
    return adapter


# --- Bluesky ---------------------------------------------------------------------------------------------


def install_bluesky(adapter: Adapter, jwt: str = "jwt-1") -> None:
    def session(request: Request) -> Reply:
        body = request.json()
        if body.get("password") != "app-pass-1234":
            return Reply.json(
                {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}, 401
            )
        return Reply.json(
            {
                "accessJwt": jwt,
                "refreshJwt": "refresh-1",
                "handle": body["identifier"],
                "did": "did:plc:grumbletest",
                "active": True,
            }
        )

    def search(request: Request) -> Reply:
        if request.headers.get("authorization") != f"Bearer {jwt}":
            return Reply.json({"error": "AuthenticationRequired", "message": "Authentication Required"}, 401)
        limit = int(request.query.get("limit", 25))
        start = int(request.query.get("cursor") or 0)
        posts = adapter.items[start : start + limit]
        answer: dict[str, Any] = {"posts": posts, "hitsTotal": len(adapter.items)}
        if start + limit < len(adapter.items):
            answer["cursor"] = str(start + limit)
        return Reply.json(answer)

    adapter.server.route("POST", "/xrpc/com.atproto.server.createSession", session)
    adapter.server.route("GET", "/xrpc/app.bsky.feed.searchPosts", search)


def bluesky_adapter(server: ReplayServer) -> Adapter:
    adapter = Adapter(
        name="bluesky",
        server=server,
        fixtures=load_fixture("bluesky"),
        endpoint=("GET", "/xrpc/app.bsky.feed.searchPosts"),
        credential="GRUMBLE_BLUESKY_APP_PASSWORD",
        external_id=lambda item: item.get("uri"),
        make=lambda settings: bluesky.BlueskySource(settings, build_client(settings, bluesky.DEFAULT_PDS)),
        settings_options={"handle": "grumble.bsky.social", "app_password": "app-pass-1234"},
    )
    install_bluesky(adapter)
    return adapter


# --- App Store -------------------------------------------------------------------------------------------

APPSTORE_PATH = re.compile(r"/([a-z]{2})/rss/customerreviews/page=(\d+)/id=(\d+)/sortby=mostrecent/json")
APPSTORE_PAGE_SIZE = 2  # Apple's is 50; small here so a handful of reviews spans pages


def appstore_feed(
    entries: list[dict[str, Any]] | None, country: str, page: int, app_id: str
) -> dict[str, Any]:
    def link(rel: str, n: int) -> dict[str, Any]:
        href = f"https://itunes.apple.com/{country}/rss/customerreviews/page={n}/id={app_id}/sortby=mostrecent/xml"
        return {"attributes": {"rel": rel, "href": href}}

    feed: dict[str, Any] = {
        "author": {"name": {"label": "iTunes Store"}, "uri": {"label": "http://www.apple.com/uk/itunes/"}},
        "updated": {"label": "2026-11-01T05:30:00-07:00"},
        "rights": {"label": "Copyright 2008 Apple Inc."},
        "title": {"label": "iTunes Store: Customer Reviews"},
        "icon": {"label": "http://itunes.apple.com/favicon.ico"},
        "link": [
            link("first", 1),
            link("last", 10),
            link("previous", max(page - 1, 1)),
            link("next", page + 1),
        ],
        "id": {
            "label": f"https://itunes.apple.com/rss/customerreviews/page={page}/id={app_id}/sortby=mostrecent/json"
        },
    }
    if entries:
        feed["entry"] = entries
    return {"feed": feed}


def install_appstore(adapter: Adapter) -> None:
    def reviews(request: Request) -> Reply:
        match = APPSTORE_PATH.fullmatch(request.path)
        assert match
        country, page, app_id = match.group(1), int(match.group(2)), match.group(3)
        chunk = adapter.items[(page - 1) * APPSTORE_PAGE_SIZE : page * APPSTORE_PAGE_SIZE]
        # Apple serves this JSON as text/javascript.
        return Reply(
            200,
            json.dumps(appstore_feed(chunk, country, page, app_id)),
            {"Content-Type": "text/javascript; charset=utf-8"},
        )

    adapter.server.route("GET", APPSTORE_PATH, reviews)


def appstore_adapter(server: ReplayServer) -> Adapter:
    adapter = Adapter(
        name="appstore",
        server=server,
        fixtures=load_fixture("appstore"),
        endpoint=("GET", APPSTORE_PATH),
        credential="base_url",
        external_id=lambda item: (item.get("id") or {}).get("label"),
        make=lambda settings: appstore.AppStoreSource(
            settings, build_client(settings, appstore.DEFAULT_BASE_URL)
        ),
        watch_options={"app_ids": ["1234567890"], "countries": ["gb"]},
    )
    install_appstore(adapter)
    return adapter


# --- RSS / Atom -------------------------------------------------------------------------------------------

FEED_PATH = "/feeds/acme.xml"


def atom(entries: list[dict[str, Any]]) -> str:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        "<title>Acme news</title><id>tag:news.example,2026:acme</id><updated>2026-11-01T12:20:00Z</updated>",
    ]
    for entry in entries:
        parts.append("<entry>")
        if "id" in entry:
            parts.append(f"<id>{escape(entry['id'])}</id>")
        if "title" in entry:
            parts.append(f"<title>{escape(entry['title'])}</title>")
        if "link" in entry:
            parts.append(f'<link rel="alternate" href="{escape(entry["link"])}"/>')
        if "published" in entry:
            parts.append(
                f"<published>{entry['published']}</published><updated>{entry['published']}</updated>"
            )
        if "author" in entry:
            parts.append(f"<author><name>{escape(entry['author'])}</name></author>")
        if "summary" in entry:
            parts.append(f'<summary type="html">{escape(entry["summary"])}</summary>')
        parts.append(entry.get("extra_xml", ""))
        parts.append("</entry>")
    parts.append("</feed>")
    return "\n".join(parts)


def install_rss(adapter: Adapter) -> None:
    adapter.server.route(
        "GET", FEED_PATH, lambda request: Reply.text(atom(adapter.items), content_type="application/atom+xml")
    )


def rss_adapter(server: ReplayServer) -> Adapter:
    adapter = Adapter(
        name="rss",
        server=server,
        fixtures=load_fixture("rss"),
        endpoint=("GET", FEED_PATH),
        credential="base_url",
        external_id=lambda item: item.get("id"),
        make=rss.build,
        watch_options={"feeds": [f"{server.url}{FEED_PATH}"]},
    )
    install_rss(adapter)
    return adapter


# --- App Store Connect API (tests/sources/app_store_connect_fake.py: the JWT checked for real) ------------


def app_store_connect_adapter(server: ReplayServer) -> Adapter:
    fake = FakeAppStoreConnect(server)
    adapter = Adapter(
        name="app_store_connect",
        server=server,
        fixtures=load_fixture("app_store_connect"),
        endpoint=("GET", ASC_REVIEWS),
        credential="GRUMBLE_APP_STORE_CONNECT_PRIVATE_KEY",
        external_id=lambda item: item.get("id"),
        make=lambda settings: app_store_connect.AppStoreConnectSource(
            settings, build_client(settings, app_store_connect.DEFAULT_BASE_URL)
        ),
        watch_options={"app_ids": [ASC_APP_ID]},
        settings_options={"issuer_id": ASC_ISSUER_ID, "key_id": ASC_KEY_ID, "private_key": p8_text(fake.key)},
    )
    fake.reviews = adapter.items  # the fake serves the adapter's list, as it changes
    return adapter


# --- Google Play (tests/sources/google_fakes.py: the service account's JWT checked for real) ------------


def google_play_adapter(server: ReplayServer) -> Adapter:
    from monitor.sources.google_play import DEFAULT_BASE_URL, GooglePlaySource
    from monitor.sources.quota import MemoryQuotaLedger

    adapter = Adapter(
        name="google_play",
        server=server,
        fixtures=load_fixture("google_play"),
        endpoint=("GET", PLAY_REVIEWS),
        credential="GRUMBLE_GOOGLE_PLAY_SERVICE_ACCOUNT_FILE",
        external_id=lambda item: item.get("reviewId"),
        make=lambda settings: GooglePlaySource(
            settings, build_client(settings, DEFAULT_BASE_URL), ledger=MemoryQuotaLedger()
        ),
        watch_options={"package_names": [PLAY_PACKAGE]},
        settings_options={"service_account_json": SERVICE_ACCOUNT_JSON, "token_url": f"{server.url}/token"},
    )
    FakeGooglePlay(server, lambda: adapter.items)
    return adapter


# --- YouTube (tests/sources/youtube_fake.py) --------------------------------------------------------------


def youtube_adapter(server: ReplayServer) -> Adapter:
    from monitor.sources.quota import MemoryQuotaLedger
    from monitor.sources.youtube import DEFAULT_BASE_URL, YouTubeSource
    from tests.sources.youtube_fake import API_KEY, FakeYouTube

    adapter = Adapter(
        name="youtube",
        server=server,
        fixtures=load_fixture("youtube"),
        endpoint=("GET", "/commentThreads"),
        credential="GRUMBLE_YOUTUBE_API_KEY",
        external_id=lambda item: (item.get("snippet", {}).get("topLevelComment") or {}).get("id"),
        make=lambda settings: YouTubeSource(
            settings, build_client(settings, DEFAULT_BASE_URL), MemoryQuotaLedger()
        ),
        watch_options={"video_ids": ["vidAcme0001"]},
        settings_options={"api_key": API_KEY},
    )
    FakeYouTube(server, threads=lambda request: adapter.items)
    return adapter


def google_business_adapter(server: ReplayServer) -> Adapter:
    from monitor.sources.google_business import DEFAULT_BASE_URL, GoogleBusinessSource

    adapter = Adapter(
        name="google_business",
        server=server,
        fixtures=load_fixture("google_business"),
        endpoint=("GET", GBP_REVIEWS),
        credential="GRUMBLE_GOOGLE_BUSINESS_REFRESH_TOKEN",
        external_id=lambda item: item.get("reviewId"),
        make=lambda settings: GoogleBusinessSource(settings, build_client(settings, DEFAULT_BASE_URL)),
        watch_options={"locations": ["accounts/1234567890/locations/9876543210"]},
        settings_options={**OAUTH, "token_url": f"{server.url}/token"},
    )
    FakeGoogleBusiness(server, lambda: adapter.items)
    return adapter


ADAPTERS: dict[str, Callable[[ReplayServer], Adapter]] = {
    "youtube": youtube_adapter,
    "reddit": reddit_adapter,
    "hackernews": hackernews_adapter,
    "mastodon": mastodon_adapter,
    "bluesky": bluesky_adapter,
    "appstore": appstore_adapter,
    "rss": rss_adapter,
    "app_store_connect": app_store_connect_adapter,
    "google_play": google_play_adapter,
    "google_business": google_business_adapter,
}
