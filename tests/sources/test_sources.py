"""Per-source behaviour the shared contract does not cover: modes, sessions, rate limits, feeds, cursors."""

from __future__ import annotations

import base64
import json
import logging
import socket
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import requests
from praw.exceptions import PRAWException
from prawcore import exceptions as core

from monitor.errors import (
    SourceAuthError,
    SourceError,
    SourceNotFound,
    SourceRateLimited,
    SourceResponseError,
    SourceUnavailable,
)
from monitor.mention import Watch
from monitor.sources import bluesky, mastodon, reddit, rss
from monitor.sources.base import SourceSettings
from monitor.sources.http import build_client, get_json, retry_after_seconds
from monitor.sources.paging import Batch, StreamState, advance, decode_cursor
from monitor.sources.registry import BUILDERS, build_source
from monitor.sources.text import html_to_text, parse_time
from monitor.token_bucket import LocalRateLimit
from tests.factories import mention
from tests.sources.fakes import (
    Adapter,
    appstore_adapter,
    atom,
    bluesky_adapter,
    hackernews_adapter,
    install_bluesky,
    load_fixture,
    mastodon_adapter,
    reddit_adapter,
)
from tests.support.http_replay import ReplayServer, Reply, Request

# --- Reddit -------------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_rate_limit_allows_100_a_minute_then_waits_or_refuses() -> None:
    clock = FakeClock()
    limit = LocalRateLimit(100, max_wait_s=5.0, clock=clock, sleep=clock.sleep)
    for _ in range(100):
        limit.acquire("reddit")
    assert clock.slept == []
    limit.acquire("reddit")  # the 101st waits for one token: 0.6 s at 100 a minute
    assert clock.slept == [pytest.approx(0.6)]


def test_rate_limit_refuses_a_wait_longer_than_its_bound() -> None:
    clock = FakeClock()
    # Callers in parallel: each reserves a token before sleeping, so the queue's wait grows.
    limit = LocalRateLimit(100, max_wait_s=5.0, clock=clock, sleep=clock.slept.append)
    for _ in range(108):
        limit.acquire("reddit")
    assert clock.slept[-1] == pytest.approx(4.8)
    with pytest.raises(SourceRateLimited) as caught:
        limit.acquire("reddit")
    assert caught.value.retry_after == pytest.approx(5.4)
    clock.now += 60
    limit.acquire("reddit")


def test_reddit_source_spends_one_token_per_request(replay_server: ReplayServer) -> None:
    adapter = reddit_adapter(replay_server)
    clock = FakeClock()
    settings = SourceSettings(
        "reddit",
        replay_server.url,
        max_backfill=5,
        options={"client_id": "c", "client_secret": "s", "page_size": 2},
    )
    source = reddit.RedditSource(
        settings,
        reddit.build_reddit(settings),
        rate_limit=LocalRateLimit(2, max_wait_s=60, clock=clock, sleep=clock.sleep),
    )
    cursor = None
    for _ in range(3):
        page = source.fetch(adapter.watch(), cursor)
        cursor = page.next_cursor
    assert len(replay_server.requests_to("/search")) == 3
    assert clock.slept == [pytest.approx(30.0)]  # two a minute: the third request waited half a minute


def test_reddit_new_mode_lists_submissions_and_comments_unsearched(replay_server: ReplayServer) -> None:
    adapter = reddit_adapter(replay_server)
    comments = load_fixture("reddit")["comments"]
    replay_server.route(
        "GET",
        "/r/CustomerService+acme/comments",
        Reply.json({"kind": "Listing", "data": {"after": None, "children": comments}}),
    )
    watch = Watch(
        name="acme",
        keywords=("acme",),
        sources={"reddit": {"mode": "new", "subreddits": ["r/CustomerService", "acme"]}},
    )

    page = adapter.source(max_backfill=50, page_size=100).fetch(watch, None)

    assert page.unsearched
    assert {r.path for r in replay_server.requests if r.method == "GET"} == {
        "/r/CustomerService+acme/new",
        "/r/CustomerService+acme/comments",
    }
    kinds = {m.external_id[:2] for m in page.mentions}
    assert kinds == {"t3", "t1"} and len(page.mentions) == len(adapter.items) + len(comments)
    comment = next(m for m in page.mentions if m.external_id.startswith("t1_"))
    assert comment.parent_id == "t3_acm0x" and comment.title is None


def test_reddit_search_query_or_joins_keywords_and_restricts_to_subreddits(
    replay_server: ReplayServer,
) -> None:
    adapter = reddit_adapter(replay_server)
    watch = Watch(name="acme", keywords=("acme", "acme app"), sources={"reddit": {"subreddits": ["android"]}})
    adapter.source().fetch(watch, None)
    sent = replay_server.requests_to("/r/android/search")[0].query
    assert sent["q"] == 'acme OR "acme app"' and sent["restrict_sr"] == "on" and sent["sort"] == "new"
    assert sent["raw_json"] == "1"  # the request went through prawcore


@pytest.mark.parametrize(
    ("reply", "error", "says"),
    [
        (
            Reply.json({"error": "invalid_client"}, status=401),
            SourceAuthError,
            "GRUMBLE_REDDIT_CLIENT_SECRET",
        ),
        (Reply.json({"error": "invalid_grant"}), SourceAuthError, "GRUMBLE_REDDIT_PASSWORD"),
        (Reply.text("<html>maintenance</html>", 200, "text/html"), SourceResponseError, "maintenance"),
        (Reply.json({"access_token": "tok-SECRET"}), SourceResponseError, "expires_in"),
        (
            Reply.json({"error": 429}, status=429, headers={"Retry-After": "30"}),
            SourceRateLimited,
            "rate limited on the OAuth token request; retry after 30 s",
        ),
    ],
    ids=["bad-secret", "bad-password", "html", "missing-keys", "rate-limited"],
)
def test_reddit_token_endpoint_failures(
    replay_server: ReplayServer, reply: Reply, error: type[SourceError], says: str
) -> None:
    adapter = reddit_adapter(replay_server)
    replay_server.route("POST", "/api/v1/access_token", reply)
    with pytest.raises(error) as caught:
        adapter.source().fetch(adapter.watch(), None)
    assert says in str(caught.value)
    assert "tok-SECRET" not in str(caught.value)  # stored as last_error and shown: never a token


def _echoing(request: Request) -> Reply:
    # A refused token request whose answer quotes what it was sent (seen from OAuth proxies and
    # misconfigured gateways): the Authorization header, the form and the query.
    return Reply.text(
        f"invalid_client: got Authorization: {request.headers.get('authorization')} "
        f"form {request.body.decode()} query {request.raw_path}",
        status=401,
    )


def test_credentials_a_refused_token_request_echoes_are_masked_in_the_error(
    replay_server: ReplayServer,
) -> None:
    adapter = reddit_adapter(replay_server)
    replay_server.route("POST", "/api/v1/access_token", _echoing)
    with pytest.raises(SourceAuthError) as caught:
        adapter.source().fetch(adapter.watch(), None)
    said = str(caught.value)
    basic = base64.b64encode(b"test-client:test-secret").decode()
    assert "Authorization: Basic ***" in said
    for secret in (basic, "test-secret", "test-client"):
        assert secret not in said


def test_an_api_key_in_the_query_and_a_bearer_token_are_masked_in_http_errors(
    replay_server: ReplayServer,
) -> None:
    from monitor.sources.http import send

    replay_server.route("GET", "/v3/things", _echoing)
    client = httpx.Client(base_url=replay_server.url, headers={"Authorization": "Bearer ya29.SECRETTOKEN"})
    with pytest.raises(SourceAuthError) as caught:
        send(client, "youtube", "GET", "/v3/things?part=snippet&key=AIzaSyKEY123", auth_hint="", resource="x")
    said = str(caught.value)
    assert "AIzaSyKEY123" not in said and "ya29.SECRETTOKEN" not in said
    assert "part=snippet" in said  # the rest of the request still says what was asked


def test_reddit_missing_client_id_fails_the_fetch_not_the_build() -> None:
    source = reddit.build(SourceSettings("reddit"))
    with pytest.raises(SourceAuthError, match="GRUMBLE_REDDIT_CLIENT_ID"):
        source.fetch(Watch(name="acme", keywords=("acme",)), None)


def test_reddit_unknown_subreddit_redirect_is_not_found(replay_server: ReplayServer) -> None:
    adapter = reddit_adapter(replay_server)
    replay_server.route(
        "GET", "/r/nosuchsub/search", Reply(302, b"", {"Location": "/subreddits/search?q=nosuchsub"})
    )
    watch = Watch(name="acme", keywords=("acme",), sources={"reddit": {"subreddits": ["nosuchsub"]}})
    with pytest.raises(SourceError, match="does not exist"):
        adapter.source().fetch(watch, None)


def _response(status: int, body: bytes = b"{}", **headers: str) -> requests.Response:
    response = requests.Response()
    response.status_code, response._content = status, body
    response.headers.update({"content-type": "application/json", **headers})
    response.url = "https://oauth.reddit.com/search"
    return response


@pytest.mark.parametrize(
    ("exc", "error", "says"),
    [
        (
            core.TooManyRequests(_response(429, **{"Retry-After": "12"})),
            SourceRateLimited,
            "retry after 12 s",
        ),
        (core.Forbidden(_response(403)), SourceAuthError, "private or banned"),
        (KeyError(401), SourceAuthError, "HTTP 401 unauthorized"),
        (KeyError("access_token"), SourceResponseError, "malformed answer"),
        (core.Redirect(_response(302, location="/subreddits/search")), SourceNotFound, "does not exist"),
        (core.ServerError(_response(503)), SourceUnavailable, "will retry later"),
        (
            core.RequestException(requests.Timeout("slow"), (), {}),
            SourceUnavailable,
            "timed out: Timeout: slow",
        ),
        (
            core.BadJSON(_response(200, b"<html>", **{"content-type": "text/html"})),
            SourceResponseError,
            "HTML",
        ),
        (core.ResponseException(_response(401)), SourceAuthError, "token request was refused"),
        (core.ResponseException(_response(429)), SourceRateLimited, "no Retry-After"),
        (core.ResponseException(_response(502)), SourceUnavailable, "server error"),
        (core.ResponseException(_response(418)), SourceResponseError, "unexpected answer"),
        (PRAWException("odd"), SourceResponseError, "PRAW failed"),
        (ValueError("not JSON"), SourceResponseError, "malformed answer"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
def test_reddit_translate_maps_each_praw_exception_to_its_source_error(
    exc: Exception, error: type[SourceError], says: str
) -> None:
    translated = reddit.translate("reddit", exc, "/search")
    assert type(translated) is error and says in str(translated)


# --- Mastodon -------------------------------------------------------------------------------------------


def _mastodon_without_token(server: ReplayServer) -> tuple[Adapter, mastodon.MastodonSource]:
    adapter = mastodon_adapter(server)
    settings = SourceSettings("mastodon", server.url, max_backfill=50, options={})
    return adapter, mastodon.MastodonSource(settings, build_client(settings, mastodon.DEFAULT_BASE_URL))


def test_mastodon_hashtags_use_one_timeline_request_without_a_token(replay_server: ReplayServer) -> None:
    adapter, source = _mastodon_without_token(replay_server)
    watch = Watch(name="acme", keywords=("acme",), sources={"mastodon": {"hashtags": ["#Acme", "acmeapp"]}})

    page = source.fetch(watch, None)

    request = replay_server.requests[0]
    assert request.path == "/api/v1/timelines/tag/Acme" and request.query_lists["any[]"] == ["acmeapp"]
    assert "authorization" not in request.headers
    assert page.unsearched and len(page.mentions) == len(adapter.items)
    reply = next(m for m in page.mentions if m.parent_id)
    assert reply.parent_id == "113000000000000001"
    assert page.mentions[1].author_reach == 200 and page.mentions[1].engagement == 6
    assert page.mentions[0].text.startswith("The #Acme app logged me out")


def test_mastodon_without_token_or_hashtags_follows_the_keywords_as_hashtags(
    replay_server: ReplayServer,
) -> None:
    _, source = _mastodon_without_token(replay_server)
    source.fetch(Watch(name="acme", keywords=("acme app",)), None)
    assert replay_server.requests[0].path == "/api/v1/timelines/tag/acmeapp"


def test_mastodon_skips_boosts(replay_server: ReplayServer) -> None:
    adapter, source = _mastodon_without_token(replay_server)
    boost = dict(adapter.items[0], id="1", reblog=adapter.items[1])
    adapter.items.insert(0, boost)
    page = source.fetch(
        Watch(name="acme", keywords=("acme",), sources={"mastodon": {"hashtags": ["acme"]}}), None
    )
    assert "1" not in {m.external_id for m in page.mentions}


# --- Bluesky --------------------------------------------------------------------------------------------


def test_bluesky_renews_an_expired_session_once(replay_server: ReplayServer) -> None:
    adapter = bluesky_adapter(replay_server)
    source = adapter.source(max_backfill=50, page_size=100)
    source.fetch(adapter.watch(), None)
    # The server rotates its sessions: the old token is refused, a new session works.
    install_bluesky(adapter, jwt="jwt-2")
    page = source.fetch(adapter.watch(), None)
    assert len(page.mentions) == len(adapter.items)
    assert len(replay_server.requests_to("/xrpc/com.atproto.server.createSession")) == 2
    assert replay_server.requests_to("/xrpc/com.atproto.server.createSession")[0].json() == {
        "identifier": "grumble.bsky.social",
        "password": "app-pass-1234",
    }


def test_bluesky_wrong_app_password_names_it(replay_server: ReplayServer) -> None:
    adapter = bluesky_adapter(replay_server)
    adapter.settings_options["app_password"] = "wrong"
    with pytest.raises(SourceAuthError, match="GRUMBLE_BLUESKY_APP_PASSWORD") as caught:
        adapter.source().fetch(adapter.watch(), None)
    assert "Invalid identifier or password" in str(caught.value)


def test_bluesky_without_credentials_asks_the_public_appview_without_a_session(
    replay_server: ReplayServer,
) -> None:
    adapter = bluesky_adapter(replay_server)
    replay_server.route("GET", "/xrpc/app.bsky.feed.searchPosts", Reply.json({"posts": adapter.items}))
    source = bluesky.build(SourceSettings("bluesky", replay_server.url))
    page = source.fetch(adapter.watch(), None)
    assert len(page.mentions) == len(adapter.items)
    assert [r.path for r in replay_server.requests] == ["/xrpc/app.bsky.feed.searchPosts"]
    assert page.mentions[3].parent_id == "at://did:plc:acme/app.bsky.feed.post/root1"
    assert bluesky.build(SourceSettings("bluesky")).client.base_url == httpx.URL(bluesky.PUBLIC_APPVIEW)
    with_login = bluesky.build(SourceSettings("bluesky", options={"handle": "a", "app_password": "b"}))
    assert with_login.client.base_url == httpx.URL(bluesky.DEFAULT_PDS)


# --- Hacker News and App Store --------------------------------------------------------------------------


def test_hackernews_catch_up_asks_only_from_the_mark(replay_server: ReplayServer) -> None:
    adapter = hackernews_adapter(replay_server)
    source = adapter.source(max_backfill=50)
    cursor = None
    for _ in range(5):
        page = source.fetch(adapter.watch(), cursor)
        cursor = page.next_cursor
        if not page.has_more:
            break
    newest = adapter.items[0]["created_at_i"]
    pass_requests = replay_server.requests_to("/api/v1/search_by_date")
    assert "numericFilters" not in pass_requests[0].query
    assert pass_requests[1].query["numericFilters"] == f"created_at_i<={newest}"  # pinned while paging back
    source.fetch(adapter.watch(), cursor)
    assert replay_server.requests[-1].query["numericFilters"] == f"created_at_i>={newest}"
    assert replay_server.requests[-1].query["tags"] == "(story,comment)"


def test_appstore_single_review_and_an_old_feed_app_entry(replay_server: ReplayServer) -> None:
    adapter = appstore_adapter(replay_server)
    app_entry = {
        "im:name": {"label": "Acme"},
        "id": {"label": "1234567890"},
        "summary": {"label": "About Acme"},
    }
    for entries in ([app_entry, adapter.items[0]], adapter.items[0]):
        replay_server.clear()
        replay_server.route(
            "GET",
            "/us/rss/customerreviews/page=1/id=42/sortby=mostrecent/json",
            Reply.json({"feed": {"entry": entries}}),
        )
        replay_server.route(
            "GET", "/us/rss/customerreviews/page=2/id=42/sortby=mostrecent/json", Reply.json({"feed": {}})
        )
        watch = Watch(name="acme", keywords=("acme",), sources={"appstore": {"app_ids": "42"}})
        page = adapter.source().fetch(watch, None)
        assert [m.external_id for m in page.mentions] == ["11000000000"]
        assert (
            page.mentions[0].rating == 1.0
            and page.mentions[0].url == "https://apps.apple.com/us/app/id42?see-all=reviews"
        )


# --- RSS ------------------------------------------------------------------------------------------------

RSS2 = """<?xml version="1.0"?><rss version="2.0"><channel><title>Reviews</title>
<item><title>Acme review</title><link>https://reviews.example/1</link><guid>rev-1</guid>
<description>&lt;b&gt;Acme&lt;/b&gt; keeps crashing</description>
<pubDate>Sun, 01 Nov 2026 10:00:00 GMT</pubDate></item>
<item><title>Another</title><link>https://reviews.example/2</link>
<description>no date here</description></item>
</channel></rss>"""


def _rss(server: ReplayServer) -> rss.RssSource:
    return rss.build(SourceSettings("rss", None, max_backfill=50, timeout_s=5.0))


def test_rss2_feed_and_conditional_get(replay_server: ReplayServer) -> None:
    replay_server.route(
        "GET",
        "/reviews.rss",
        Reply(200, RSS2, {"Content-Type": "application/rss+xml", "ETag": '"v1"'}),
    )
    watch = Watch(
        name="acme", keywords=("acme",), sources={"rss": {"feeds": [replay_server.url + "/reviews.rss"]}}
    )
    source = _rss(replay_server)
    page = source.fetch(watch, None)
    assert sorted((m.external_id, m.text) for m in page.mentions) == [
        ("https://reviews.example/2", "no date here"),
        ("rev-1", "Acme keeps crashing"),
    ]
    dated = next(m for m in page.mentions if m.external_id == "rev-1")
    assert dated.created_at == datetime(2026, 11, 1, 10, tzinfo=UTC) and page.unsearched

    replay_server.route("GET", "/reviews.rss", Reply(304, b""), query=None)
    again = source.fetch(watch, page.next_cursor)
    assert again.mentions == [] and replay_server.requests[-1].headers["if-none-match"] == '"v1"'


def test_rss_one_broken_feed_does_not_hold_back_the_others(
    replay_server: ReplayServer, caplog: pytest.LogCaptureFixture
) -> None:
    entries = load_fixture("rss")["items"]
    replay_server.route("GET", "/good.xml", Reply.text(atom(entries), content_type="application/atom+xml"))
    replay_server.route("GET", "/gone.xml", Reply.text("gone", 404))
    feeds = [replay_server.url + "/gone.xml", replay_server.url + "/good.xml"]
    watch = Watch(name="acme", keywords=("acme",), sources={"rss": {"feeds": feeds}})
    source = _rss(replay_server)

    page = source.fetch(watch, None)
    assert len(page.mentions) == len(entries)
    assert any("gone.xml" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    (warning,) = page.warnings  # so the collector can show the source as degraded
    assert warning.startswith(f"feed {feeds[0]} failed (1 of 2 feeds): ") and "404" in warning
    streams = json.loads(page.next_cursor or "{}")["streams"]
    assert "seen" in streams[feeds[1]]["extra"] and "extra" not in streams[feeds[0]]  # retried from scratch

    watch_all_bad = Watch(name="acme", keywords=("acme",), sources={"rss": {"feeds": feeds[:1]}})
    with pytest.raises(SourceError, match="does not exist"):
        source.fetch(watch_all_bad, None)


def test_google_alerts_feed_is_a_search_and_its_links_unwrapped(replay_server: ReplayServer) -> None:
    entry = {
        "id": "tag:google.com,2013:googlealerts/feed:123",
        "title": "<b>Acme</b> recalls blenders",
        "link": "https://www.google.com/url?rct=j&sa=t&url=https://news.example/acme-recall&ct=ga",
        "published": "2026-11-01T09:00:00Z",
        "summary": "The <b>Acme</b> recall covers 10,000 units",
    }
    replay_server.route(
        "GET", "/alerts/feeds/1/2", Reply.text(atom([entry]), content_type="application/atom+xml")
    )
    source = rss.RssSource(SourceSettings("rss"), build_client(SourceSettings("rss", replay_server.url), ""))
    assert rss.is_search_feed("https://www.google.com/alerts/feeds/01234/5678")
    watch = Watch(
        name="acme", keywords=("acme",), sources={"rss": {"feeds": ["/alerts/feeds/1/2"], "search": True}}
    )
    page = source.fetch(watch, None)
    assert not page.unsearched
    assert page.mentions[0].url == "https://news.example/acme-recall"
    assert page.mentions[0].title == "Acme recalls blenders"


# --- shared helpers -------------------------------------------------------------------------------------


def test_retry_after_forms() -> None:
    now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    assert retry_after_seconds({"retry-after": "120"}, now) == 120
    assert retry_after_seconds({"retry-after": "Sun, 01 Nov 2026 12:01:30 GMT"}, now) == 90
    assert retry_after_seconds({"x-ratelimit-reset": "2026-11-01T12:05:00.000Z"}, now) == 300  # Mastodon
    assert retry_after_seconds({"ratelimit-reset": str(int(now.timestamp()) + 42)}, now) == 42  # Bluesky
    assert retry_after_seconds({"x-ratelimit-reset": "315"}, now) == 315  # Reddit: seconds from now
    assert retry_after_seconds({}, now) is None


def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = build_client(SourceSettings("hackernews", f"http://127.0.0.1:{port}", timeout_s=1.0), "")
    with pytest.raises(SourceUnavailable, match="cannot reach"):
        get_json(client, "hackernews", "/api/v1/search_by_date", auth_hint="", resource="the search")


def test_html_to_text_and_times() -> None:
    assert (
        html_to_text("<p>Hello &amp; <a href='x'>#<span>acme</span></a></p><p>second</p>")
        == "Hello & #acme\n\nsecond"
    )
    assert html_to_text("What&#x27;s up") == "What's up"
    assert parse_time("2023-09-19T11:32:54.574Z") == datetime(2023, 9, 19, 11, 32, 54, 574000, tzinfo=UTC)
    assert parse_time("2024-02-22T19:58:13.903293+00:00") is not None
    assert parse_time("2021-01-30T09:26:10-07:00") == datetime(2021, 1, 30, 16, 26, 10, tzinfo=UTC)
    assert parse_time(None) is None and parse_time("yesterday") is None and parse_time(True) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01T10:00:00+02:00", datetime(2024, 5, 1, 8, tzinfo=UTC)),
        ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
        ("1714557600", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        (1714557600, datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-02 11:30", datetime(2024, 5, 2, 11, 30, tzinfo=UTC)),
    ],
)
def test_parse_time_reads_iso_dates_and_epoch_seconds_as_utc(value: object, expected: datetime) -> None:
    assert parse_time(value) == expected


@pytest.mark.parametrize("value", ["yesterday", "", None, True, 1e20, "0001-01-01T00:00:00+05:00"])
def test_parse_time_returns_none_for_what_is_no_time(value: object) -> None:
    assert parse_time(value) is None


def test_unreadable_cursor_starts_over(caplog: pytest.LogCaptureFixture) -> None:
    assert decode_cursor("hackernews", "not json") == {}
    assert decode_cursor("hackernews", '{"v": 99}') == {}
    assert "starting a new backfill" in caplog.text


def test_catch_up_beyond_the_bound_warns_of_the_gap(caplog: pytest.LogCaptureFixture) -> None:
    state = StreamState(mark=100.0, mark_ids=("old",))
    items = [(200.0 - n, mention(n, external_id=f"n{n}")) for n in range(3)]
    got, after, more = advance("hackernews", state, Batch(items, next_token="p2"), max_backfill=2)
    assert [m.external_id for m in got] == ["n0", "n1"] and not more and after.mark == 200.0
    assert "older ones were left out" in caplog.text


def test_every_source_is_registered_and_builds_offline() -> None:
    for name in ("reddit", "hackernews", "mastodon", "bluesky", "appstore", "rss"):
        source = build_source(SourceSettings(name, "http://127.0.0.1:9"))
        assert source.name == name and name in BUILDERS


@pytest.mark.parametrize(
    ("name", "options", "says"),
    [
        ("appstore", {}, "app_ids"),
        ("rss", {}, "feeds"),
        ("reddit", {"mode": "new"}, "subreddits"),
        ("reddit", {"mode": "hot"}, "unknown mode"),
    ],
)
def test_a_watch_missing_what_the_source_needs_fails_loudly(
    name: str, options: dict[str, object], says: str
) -> None:
    settings = SourceSettings(name, "http://127.0.0.1:9", options={"client_id": "c", "client_secret": "s"})
    watch = Watch(name="acme", keywords=("acme",), sources={name: options})
    with pytest.raises(SourceError, match=says):
        build_source(settings).fetch(watch, None)


def test_collect_and_status_report_a_partly_failing_rss_watch(
    replay_server: ReplayServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from monitor.cli import main

    entries = load_fixture("rss")["items"]
    replay_server.route("GET", "/good.xml", Reply.text(atom(entries), content_type="application/atom+xml"))
    replay_server.route("GET", "/gone.xml", Reply.text("gone", 404))
    config = tmp_path / "grumble.toml"
    config.write_text(
        f"""
database_url = "sqlite:///{tmp_path / "grumble.db"}"

[sources.rss]
timeout_s = 5

[[watches]]
name = "acme"
keywords = ["acme"]

[watches.sources.rss]
feeds = ["{replay_server.url}/good.xml", "{replay_server.url}/gone.xml"]
""",
        encoding="utf-8",
    )
    assert main(["--config", str(config), "collect", "--once", "--no-score"]) == 1
    err = capsys.readouterr().err
    assert f"acme/rss: PARTLY FAILED: feed {replay_server.url}/gone.xml failed (1 of 2 feeds)" in err

    assert main(["--config", str(config), "status"]) == 0
    out = capsys.readouterr().out
    assert "rss  [DEGRADED]" in out and "partly failing (acme)" in out and "gone.xml" in out
    assert f"mentions stored:  {len(entries)}" in out

    # The feed comes back: the next clean run clears the warning.
    replay_server.clear()
    replay_server.route("GET", "/good.xml", Reply.text(atom(entries), content_type="application/atom+xml"))
    replay_server.route("GET", "/gone.xml", Reply.text(atom([]), content_type="application/atom+xml"))
    assert main(["--config", str(config), "collect", "--once", "--no-score"]) == 0
    capsys.readouterr()
    main(["--config", str(config), "status"])
    out = capsys.readouterr().out
    assert "rss  [ok]" in out and "partly failing" not in out


# --- One stream failing must not cost the others (issue 15, item 3) ------------------------------------


def test_appstore_keeps_one_countrys_reviews_when_another_fails_midway(replay_server: ReplayServer) -> None:
    import copy
    import re as regex

    from tests.sources.fakes import APPSTORE_PAGE_SIZE, appstore_feed

    adapter = appstore_adapter(replay_server)
    french = copy.deepcopy(adapter.items)
    for item in french:
        item["id"]["label"] = "9" + item["id"]["label"]

    def france(request: Request) -> Reply:
        page = int(regex.search(r"page=(\d+)", request.path).group(1))  # type: ignore[union-attr]
        if page == 2:
            return Reply.text("upstream error", 500)
        chunk = french[(page - 1) * APPSTORE_PAGE_SIZE : page * APPSTORE_PAGE_SIZE]
        return Reply.json(appstore_feed(chunk, "fr", page, "1234567890"))

    replay_server.route(
        "GET", regex.compile(r"/fr/rss/customerreviews/page=\d+/id=\d+/sortby=mostrecent/json"), france
    )
    watch = Watch(
        name="acme",
        keywords=("acme",),
        sources={"appstore": {"app_ids": ["1234567890"], "countries": ["gb", "fr"]}},
    )
    source = adapter.source(max_backfill=50)
    cursor = None
    stored: list[str] = []
    warnings: list[str] = []
    for _ in range(8):
        page = source.fetch(watch, cursor)
        stored += [m.external_id for m in page.mentions]
        warnings += page.warnings
        cursor = page.next_cursor
        if not page.has_more:
            break
    gb_ids = [item["id"]["label"] for item in adapter.items]
    assert set(gb_ids) <= set(stored)  # every British review, although France failed on page 2
    assert {item["id"]["label"] for item in french[:APPSTORE_PAGE_SIZE]} <= set(stored)
    assert any("1234567890/fr" in w and "500" in w for w in warnings)

    # The stuck page 2 is given up after a few tries, so France's new reviews still arrive.
    later: list[str] = []
    for _ in range(4):
        page = source.fetch(watch, cursor)
        cursor = page.next_cursor
        later += page.warnings
    assert any("1234567890/fr: gave up older items after 3 failures" in w for w in warnings + later)
    newest = copy.deepcopy(french[0])
    newest["id"]["label"] = "9999999999999"
    french.insert(0, newest)
    page = source.fetch(watch, cursor)
    assert "9999999999999" in [m.external_id for m in page.mentions]


def test_every_stream_failing_still_fails_the_fetch(replay_server: ReplayServer) -> None:
    import re as regex

    adapter = appstore_adapter(replay_server)
    replay_server.route("GET", regex.compile(r"/\w\w/rss/customerreviews/.*"), Reply.text("down", 503))
    watch = Watch(
        name="acme", keywords=("acme",), sources={"appstore": {"app_ids": ["1"], "countries": ["gb", "fr"]}}
    )
    with pytest.raises(SourceUnavailable):
        adapter.source().fetch(watch, None)


def test_a_watch_of_one_stream_gives_up_a_failing_deep_page_and_reads_page_one_again(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    import re as regex

    from monitor.collect.run import collect
    from monitor.store.collect_state import get_state
    from monitor.store.engine import connect
    from tests.sources.fakes import APPSTORE_PAGE_SIZE, appstore_feed

    adapter = appstore_adapter(replay_server)
    reviews = list(adapter.items)
    asked: list[int] = []

    def feed(request: Request) -> Reply:
        page = int(regex.search(r"page=(\d+)", request.path).group(1))  # type: ignore[union-attr]
        asked.append(page)
        if page == 2:
            return Reply.text("upstream error", 500)
        chunk = reviews[(page - 1) * APPSTORE_PAGE_SIZE : page * APPSTORE_PAGE_SIZE]
        return Reply.json(appstore_feed(chunk, "gb", page, "1234567890"))

    replay_server.clear()
    replay_server.route(
        "GET", regex.compile(r"/gb/rss/customerreviews/page=\d+/id=\d+/sortby=mostrecent/json"), feed
    )
    watch = Watch(
        name="acme",
        keywords=("acme",),
        sources={"appstore": {"app_ids": ["1234567890"], "countries": ["gb"]}},
    )
    engine = connect(f"sqlite:///{tmp_path / 'g.db'}")
    source = adapter.source(max_backfill=50)
    first = collect(engine, watch, source, force=True)
    assert first.error is not None and first.new == APPSTORE_PAGE_SIZE  # page 1 stored, then page 2 failed
    for _ in range(3):
        collect(engine, watch, source, force=True)
    # Before: with one stream the failure counts were thrown away with the cursor: page 2, forever.
    assert asked[-1] == 1 or 1 in asked[asked.index(2) + 1 :]
    # `grumble collect --once` says what the run stored before it failed (it printed only FAILED).
    from monitor.cli.mentions import failure_line

    line = failure_line(first)
    assert (
        line.startswith(f"acme/appstore: FAILED after {first.fetched} fetched") and f"{first.new} new" in line
    )
    newest = dict(reviews[0], id={"label": "9999999999999"})
    reviews.insert(0, newest)
    result = collect(engine, watch, source, force=True)
    assert result.ok and result.new >= 1
    assert get_state(engine, "acme", "appstore").last_success_at is not None
    engine.dispose()


def test_a_redirect_from_a_json_api_says_where_it_points_and_what_to_set(replay_server: ReplayServer) -> None:
    adapter = hackernews_adapter(replay_server)
    replay_server.clear()
    replay_server.route(
        "GET",
        "/api/v1/search_by_date",
        Reply(301, b"", {"Location": "https://hn.algolia.com/api/v1/search_by_date"}),
    )
    with pytest.raises(SourceResponseError) as caught:
        adapter.source().fetch(adapter.watch(), None)
    said = str(caught.value)
    assert "HTTP 301 redirect" in said and "it points to https://hn.algolia.com/api/v1/search_by_date" in said
    assert "set [sources.hackernews] base_url" in said and "(empty body)" not in said
