"""Real recorded API responses (../shared/data/payloads) replayed on loopback through the same collectors.

Each recording is served at the path the source asks for: the recorded one where the source makes that
very request (r/askreddit/new, the #hoot timeline, the App Store pages, search_by_date), otherwise the
listing endpoint the source uses, with the recorded status, headers and body (an error recorded on
another Reddit endpoint is the same error on ours). Counts are checked against the items in each payload.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from monitor.errors import (
    SourceAuthError,
    SourceError,
    SourceNotFound,
    SourceRateLimited,
    SourceResponseError,
    SourceUnavailable,
)
from monitor.mention import Page, Watch
from monitor.sources import appstore, bluesky, hackernews, mastodon, reddit
from monitor.sources.base import SourceSettings
from monitor.sources.http import build_client
from monitor.token_bucket import LocalRateLimit
from tests.support.cassettes import PAYLOADS, Interaction, find, load, payload
from tests.support.http_replay import ReplayServer, Reply


@pytest.fixture(autouse=True)
def _payloads_present() -> None:
    # Fail, not skip: without the recordings these tests would pass by testing nothing.
    if not PAYLOADS.exists():
        pytest.fail(
            f"the recorded API payloads are missing: expected {PAYLOADS} (../shared/data beside the repo)"
        )


def _settings(name: str, server: ReplayServer, **options: Any) -> SourceSettings:
    return SourceSettings(name=name, base_url=server.url, max_backfill=1000, timeout_s=5.0, options=options)


# --- Reddit (PRAW and prawcore Betamax cassettes), through the real praw.Reddit --------------------------

REDDIT = "reddit"


def _reddit_source(server: ReplayServer, token: Interaction) -> reddit.RedditSource:
    server.route("POST", "/api/v1/access_token", token.reply())
    settings = _settings(REDDIT, server, client_id="<CLIENT_ID>", client_secret="<CLIENT_SECRET>")
    return reddit.RedditSource(settings, reddit.build_reddit(settings), rate_limit=LocalRateLimit(10_000))


def _reddit_watch(subreddit: str, listing: str) -> Watch:
    options = {"mode": "new", "subreddits": [subreddit], "listings": [listing]}
    return Watch(name="w", keywords=("anything",), sources={REDDIT: options})


def _count_things(data: Any) -> int:
    if isinstance(data, list):
        return sum(_count_things(part) for part in data)
    if data.get("kind") == "Listing":
        return sum(_count_things(child) for child in data["data"]["children"])
    replies = data["data"].get("replies")
    return (data["kind"] in ("t1", "t3")) + (_count_things(replies) if replies else 0)


def test_reddit_subreddit_new_every_submission_parsed(replay_server: ReplayServer) -> None:
    token, listing = load(payload("reddit", "praw", "TestSubredditListings.test_new.json"))
    source = _reddit_source(replay_server, token)
    replay_server.route("GET", listing.path, listing.reply())

    page = source.fetch(_reddit_watch("askreddit", "submissions"), None)

    body = listing.json()
    assert len(page.mentions) == _count_things(body) == 100
    assert page.has_more and page.unsearched  # the recording has `after`; a listing is not a search
    sent = replay_server.requests_to(listing.path)[0]
    assert sent.query == listing.query  # exactly the recorded request: limit=100, raw_json=1
    assert sent.headers["authorization"] == "bearer <ACCESS_TOKEN>"
    first, child = page.mentions[0], body["data"]["children"][0]["data"]
    assert first.external_id == child["name"] and first.author == child["author"]
    assert first.url == "https://www.reddit.com" + child["permalink"]
    assert first.engagement == child["score"] + child["num_comments"]
    assert first.created_at.timestamp() == child["created_utc"]
    assert all(m.title for m in page.mentions)


def test_reddit_comment_tree_every_thing_parsed(replay_server: ReplayServer) -> None:
    token, tree = load(payload("reddit", "praw", "TestSubmission.test_comments.json"))
    source = _reddit_source(replay_server, token)
    replay_server.route("GET", "/r/redditdev/comments", tree.reply())

    page = source.fetch(_reddit_watch("redditdev", "comments"), None)

    assert len(page.mentions) == _count_things(tree.json()) == 3
    comments = [m for m in page.mentions if m.external_id.startswith("t1_")]
    assert comments and all(c.parent_id and c.url and c.title is None for c in comments)


REDDIT_ERRORS = [
    ("praw/TestRedditorListings.test_saved__other_user.json", SourceAuthError, "GRUMBLE_REDDIT_CLIENT_ID"),
    ("praw/TestSubreddit.test_sticky__not_set.json", SourceNotFound, "does not exist"),
    (
        "praw/TestReddit.test_bad_request_without_json_text_html_response.json",
        SourceResponseError,
        "400 Bad request",
    ),
    (
        "prawcore/TestSession.test_request__too__many_requests__with_retry_headers.json",
        SourceRateLimited,
        "4",
    ),
    ("prawcore/TestSession.test_request__internal_server_error.json", SourceUnavailable, "500"),
]


@pytest.mark.parametrize(
    ("cassette", "error", "says"), REDDIT_ERRORS, ids=[c[0].split("/")[1] for c in REDDIT_ERRORS]
)
def test_reddit_recorded_errors(
    replay_server: ReplayServer, cassette: str, error: type[SourceError], says: str
) -> None:
    token, *failures = load(payload("reddit", *cassette.split("/")))
    source = _reddit_source(replay_server, token)
    replay_server.route("GET", "/r/askreddit/new", *(f.reply() for f in failures))

    with pytest.raises(error) as caught:
        source.fetch(_reddit_watch("askreddit", "submissions"), None)

    assert says in str(caught.value)
    if isinstance(caught.value, SourceRateLimited):
        assert caught.value.retry_after == 4
    # prawcore retries a 500 twice, as the cassette recorded: three requests, then the error.
    assert len(replay_server.requests_to("/r/askreddit/new")) == len(failures)


# --- Mastodon (Mastodon.py vcrpy cassettes) ----------------------------------------------------------------

MASTODON = "mastodon"


def _mastodon(server: ReplayServer, **options: Any) -> mastodon.MastodonSource:
    settings = _settings(MASTODON, server, **options)
    return mastodon.MastodonSource(settings, build_client(settings, mastodon.DEFAULT_BASE_URL))


def test_mastodon_hashtag_timeline(replay_server: ReplayServer) -> None:
    (timeline,) = find(load(payload("mastodon", "test_hashtag_tl.yaml")), "GET", "/timelines/tag/hoot")
    replay_server.route("GET", timeline.path, timeline.reply())
    watch = Watch(name="w", keywords=("hoot",), sources={MASTODON: {"hashtags": ["#hoot"]}})

    page = _mastodon(replay_server).fetch(watch, None)

    statuses = timeline.json()
    assert [m.external_id for m in page.mentions] == [s["id"] for s in statuses]
    status, mention = statuses[0], page.mentions[0]
    assert mention.text == "#hoot (hashtag toot)"
    assert mention.language == "ja" and mention.author == status["account"]["acct"]
    assert mention.url == status["url"] and mention.author_reach == 0 and mention.engagement == 0
    assert page.unsearched and "authorization" not in replay_server.requests[0].headers


def test_mastodon_reply_keeps_its_parent(replay_server: ReplayServer) -> None:
    posted = find(load(payload("mastodon", "test_status_reply.yaml")), "POST", "/api/v1/statuses")
    # The two statuses the cassette created (a toot and its reply), served as a timeline of them.
    statuses = [json.loads(i.body) for i in reversed(posted)]
    replay_server.route("GET", "/api/v1/timelines/tag/reply", Reply.json(statuses))
    watch = Watch(name="w", keywords=("reply",), sources={MASTODON: {"hashtags": ["reply"]}})

    page = _mastodon(replay_server).fetch(watch, None)

    assert len(page.mentions) == len(statuses) == 2
    reply, original = page.mentions
    assert reply.parent_id == original.external_id == statuses[1]["id"]


def test_mastodon_recorded_401_names_the_token(replay_server: ReplayServer) -> None:
    (refused,) = find(
        load(payload("mastodon", "test_unauthed_home_tl_throws.yaml")), "GET", "/timelines/home"
    )
    replay_server.route("GET", "/api/v2/search", refused.reply())

    with pytest.raises(SourceAuthError) as caught:
        _mastodon(replay_server, access_token="expired").fetch(Watch(name="w", keywords=("acme",)), None)

    assert "The access token is invalid" in str(caught.value)
    assert "GRUMBLE_MASTODON_ACCESS_TOKEN" in str(caught.value)


# --- Bluesky (bskyr vcr cassette, MarshalX/atproto test data) ----------------------------------------------

BLUESKY = "bluesky"


def _bluesky_fetch(server: ReplayServer, reply: Reply) -> Page:
    server.route("GET", "/xrpc/app.bsky.feed.searchPosts", reply)
    settings = _settings(BLUESKY, server)
    source = bluesky.BlueskySource(settings, build_client(settings, bluesky.PUBLIC_APPVIEW))
    return source.fetch(Watch(name="w", keywords=("rstats",)), None)


def test_bluesky_recorded_posts(replay_server: ReplayServer) -> None:
    (recorded,) = load(payload("bluesky", "bskyr_vcr", "f_getposts.yml"))
    assert (
        recorded.headers.get("Content-Encoding") == "gzip"
    )  # recorded decoded: the server must not claim gzip

    page = _bluesky_fetch(replay_server, recorded.reply())  # getPosts answers with the same postView

    post = recorded.json()["posts"][0]
    assert len(page.mentions) == len(recorded.json()["posts"]) == 1
    mention = page.mentions[0]
    assert mention.external_id == post["uri"] and mention.text == post["record"]["text"]
    assert mention.url == "https://bsky.app/profile/soubhikbarari.bsky.social/post/3k7qmjev5lr2s"
    assert mention.engagement == 4 and mention.metrics["likes"] == 4 and mention.language == "en"
    assert replay_server.requests[0].query["sort"] == "latest"


def test_bluesky_thread_post_and_a_record_that_is_not_a_post_view(replay_server: ReplayServer) -> None:
    thread = json.loads(
        payload("bluesky", "marshalx_atproto", "thread_view_post_with_embed_media.json").read_text()
    )
    record = json.loads(payload("bluesky", "marshalx_atproto", "post_record.json").read_text())

    page = _bluesky_fetch(replay_server, Reply.json({"posts": [thread["thread"]["post"], record]}))

    # The image-only post (empty text) is a mention; getRecord's {uri, cid, value} is not a postView.
    assert [m.external_id for m in page.mentions] == [thread["thread"]["post"]["uri"]]
    assert page.mentions[0].text == "" and page.mentions[0].author == "test.marshal.dev"


# --- Hacker News (Algolia responses saved by node-hacker-news-api) -----------------------------------------

HN_RECORDS = (
    json.loads(payload("hackernews_algolia", "node-hacker-news-api_fixtures.json").read_text())
    if (PAYLOADS.exists())
    else []
)
HN_SEARCHES = [r for r in HN_RECORDS if "/search" in r["url"]]


@pytest.mark.parametrize("record", HN_SEARCHES, ids=[r["url"].removeprefix("/api/v1/") for r in HN_SEARCHES])
def test_hackernews_recorded_searches(replay_server: ReplayServer, record: dict[str, Any]) -> None:
    recorded = {k: v[-1] for k, v in parse_qs(urlsplit(record["url"]).query).items()}
    # /search and /search_by_date hits have one shape; the source only asks search_by_date.
    replay_server.route(
        "GET",
        "/api/v1/search_by_date",
        Reply.json(record["reply"]),
        query={k: v for k, v in recorded.items() if k in ("tags", "hitsPerPage", "query")},
    )
    settings = _settings("hackernews", replay_server, page_size=int(recorded["hitsPerPage"]))
    source = hackernews.HackerNewsSource(settings, build_client(settings, hackernews.DEFAULT_BASE_URL))
    watch = Watch(
        name="w",
        keywords=(recorded.get("query", "apple"),),
        sources={"hackernews": {"tags": recorded["tags"]}},
    )

    page = source.fetch(watch, None)

    hits = record["reply"]["hits"]
    assert len(page.mentions) == len(hits) >= 1
    assert not replay_server.unmatched
    for mention, hit in zip(page.mentions, hits, strict=True):
        assert (
            mention.external_id == hit["objectID"] and mention.created_at.timestamp() == hit["created_at_i"]
        )
        assert mention.url == f"https://news.ycombinator.com/item?id={hit['objectID']}"
        if "comment" in hit["_tags"]:
            assert mention.parent_id == str(hit["parent_id"]) and "<p>" not in mention.text
        else:
            assert mention.author_reach == hit["points"] and mention.title == hit["title"]
    assert page.has_more == (record["reply"]["nbPages"] > 1)


# --- App Store (customer-reviews JSON pages saved by app-store-reviews-swift) -------------------------------

APPSTORE = "appstore"


def _appstore(server: ReplayServer) -> appstore.AppStoreSource:
    settings = _settings(APPSTORE, server)
    return appstore.AppStoreSource(settings, build_client(settings, appstore.DEFAULT_BASE_URL))


def _serve_page(server: ReplayServer, file: Path, app_id: str, page: int) -> None:
    path = f"/gb/rss/customerreviews/page={page}/id={app_id}/sortby=mostrecent/json"
    server.route(
        "GET", path, Reply(200, file.read_bytes(), {"Content-Type": "text/javascript; charset=utf-8"})
    )


def test_appstore_recorded_pages(replay_server: ReplayServer) -> None:
    first, second = (payload("appstore_rss", f"1510826067_gb_{n}.json") for n in (1, 2))
    _serve_page(replay_server, first, "1510826067", 1)
    _serve_page(replay_server, second, "1510826067", 2)
    watch = Watch(
        name="w", keywords=("app",), sources={APPSTORE: {"app_ids": ["1510826067"], "countries": ["GB"]}}
    )
    source = _appstore(replay_server)

    page_one = source.fetch(watch, None)
    page_two = source.fetch(watch, page_one.next_cursor)

    entries = json.loads(first.read_text())["feed"]["entry"]
    assert [m.external_id for m in page_one.mentions] == [e["id"]["label"] for e in entries]
    assert page_one.has_more and not page_two.has_more and page_two.mentions == []
    assert [m.rating for m in page_one.mentions] == [float(e["im:rating"]["label"]) for e in entries]
    assert page_one.mentions[0].title == "Amazing photos integration"
    # These captures have no per-review date: the feed's own `updated` stands in.
    assert page_one.mentions[0].created_at.isoformat() == "2021-01-30T15:58:07+00:00"
    assert not page_one.unsearched  # every review of the app is about the brand


def test_appstore_unknown_app_is_an_empty_page_not_an_error(replay_server: ReplayServer) -> None:
    _serve_page(replay_server, payload("appstore_rss", "100000000_gb_1.json"), "100000000", 1)
    watch = Watch(
        name="w", keywords=("app",), sources={APPSTORE: {"app_ids": ["100000000"], "countries": ["gb"]}}
    )

    page = _appstore(replay_server).fetch(watch, None)

    assert page.mentions == [] and not page.has_more and page.next_cursor
