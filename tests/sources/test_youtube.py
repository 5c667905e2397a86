"""YouTube comments (monitor/sources/youtube/) against a real loopback server.

The first half replays every file of ../shared/data/payloads/youtube (recorded answers of the real API,
its recorded errors, and its discovery schema, which the requests we send are checked against); the
second half uses the hand-made fake (tests/sources/youtube_fake.py) for what no recording shows: the
quota plan and its stop, the search every few hours, a video with comments off among good ones, edits.
The contract suite (test_contract.py -k youtube) covers paging bounds, cursors and HTTP failures.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from monitor.cli import main
from monitor.collect.run import collect
from monitor.config import parse_config
from monitor.errors import SourceAuthError, SourceNotFound, SourceRateLimited
from monitor.mention import Watch
from monitor.sources.base import ReplyTarget
from monitor.sources.http import SkipLog
from monitor.sources.paging import decode_cursor
from monitor.sources.quota import QuotaExhausted
from monitor.sources.quota_report import quota_report
from monitor.sources.registry import build_source
from monitor.sources.youtube import YouTubeSource, parse_thread
from monitor.store.collect_state import get_state
from monitor.store.quotas import SharedQuotaLedger
from tests.sources.youtube_fake import API_KEY, FakeYouTube, comments_disabled, google_error
from tests.support.cassettes import payload
from tests.support.http_replay import ReplayServer, Reply, Request

FOLDER = payload("youtube")
THREADS = "/commentThreads"
# 04:00 PST on 7 Dec 2026: the day's quota resets at 08:00 UTC on 8 Dec, 20 hours later.
NOON_UTC = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = NOON_UTC) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def recorded(name: str) -> Any:
    path = FOLDER / name
    assert path.is_file(), f"missing payload {path}: the YouTube conformance tests need it"
    return json.loads(path.read_text(encoding="utf-8"))


def serve(server: ReplayServer, name: str, status: int = 200, path: str = THREADS, **query: str) -> None:
    server.route("GET", path, Reply.json(recorded(name), status=status), query=query or None)


def watch(**options: Any) -> Watch:
    return Watch(name="acme", keywords=("acme",), sources={"youtube": options})


def thread_items(name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = recorded(name)["items"]
    return items


# --- every file of the payload folder ---------------------------------------------------------------------

# Each file, and the test that replays it.
COVERED = {
    "SOURCE.md": "the folder's description, for people",
    "recorded-looking_error_400_keyInvalid.json": "test_a_refused_key_is_an_auth_error_naming_api_key",
    "recorded_commentThreads-insert_toplevel-comment_200.json": "test_a_thread_resource_maps_as_a_thread",
    **dict.fromkeys(
        [
            "recorded_commentThreads-list_allThreadsRelatedToChannelId.json",
            "recorded_commentThreads-list_channelId.json",
            "recorded_commentThreads-list_id-multi.json",
            "recorded_commentThreads-list_id-single.json",
            "recorded_commentThreads-list_searchTerms.json",
        ],
        "test_recorded_thread_lists_map_every_item",
    ),
    "recorded_commentThreads-list_videoId_page1_with-nextPageToken.json": "test_recorded_pages_are_followed",
    "recorded_commentThreads-list_videoId_page2_last.json": "test_recorded_pages_are_followed",
    "recorded_comments-insert_REPLY_parentId_200.json": "tests/respond/test_youtube_replies.py",
    **dict.fromkeys(
        [
            "recorded_comments-list_parentId_page1_with-nextPageToken.json",
            "recorded_comments-list_parentId_page2_last.json",
        ],
        "test_find_reply_pages_the_recorded_replies",
    ),
    "recorded_error-strings_403_commentsDisabled.txt": "test_comments_disabled_on_one_video_leaves_the_other",
    "recorded_error_403_PERMISSION_DENIED.json": "test_permission_denied_is_an_auth_error_when_reading",
    "recorded_error_403_quotaExceeded.json": "test_youtube_quota_exceeded_stops_processes_until_the_reset",
    "schema_commentThreads-comments-subset_DERIVED.json": "test_requests_follow_the_discovery_schema",
    "schema_youtube.v3.discovery.json": "test_requests_follow_the_discovery_schema",
}


def test_every_file_in_the_payload_folder_is_replayed() -> None:
    assert FOLDER.is_dir(), f"missing {FOLDER}: the YouTube conformance tests need it"
    present = {p.name for p in FOLDER.iterdir() if p.is_file()}
    assert present == set(COVERED), "a payload was added or removed: replay it here"


LISTS = {
    # file: (stream option, id asked for)
    "recorded_commentThreads-list_allThreadsRelatedToChannelId.json": (
        "channel_ids",
        "UCa-vrCLQHviTOVnEKDOdetQ",
    ),
    "recorded_commentThreads-list_channelId.json": ("channel_ids", "UC_x5XG1OV2P6uZZ5FSM9Ttw"),
    "recorded_commentThreads-list_id-multi.json": ("video_ids", "D-lhorsDlUQ"),
    "recorded_commentThreads-list_id-single.json": ("video_ids", "D-lhorsDlUQ"),
    "recorded_commentThreads-list_searchTerms.json": ("channel_ids", "UC_x5XG1OV2P6uZZ5FSM9Ttw"),
    "recorded_commentThreads-list_videoId_page2_last.json": ("video_ids", "F1UP7wRCPH8"),
}


@pytest.mark.parametrize("name", sorted(LISTS))
def test_recorded_thread_lists_map_every_item(name: str, replay_server: ReplayServer) -> None:
    option, wanted = LISTS[name]
    source = FakeYouTube(replay_server).source()
    serve(replay_server, name)
    page = source.fetch(watch(**{option: [wanted]}), None)

    items = thread_items(name)
    assert [m.external_id for m in page.mentions] == [i["snippet"]["topLevelComment"]["id"] for i in items]
    assert not page.has_more and not page.warnings
    (request,) = replay_server.requests_to(THREADS)
    key = "videoId" if option == "video_ids" else "allThreadsRelatedToChannelId"
    assert request.query[key] == wanted and request.query["part"] == "snippet,replies"
    assert request.headers["x-goog-api-key"] == API_KEY and API_KEY not in request.raw_path
    for item, mention in zip(items, page.mentions, strict=True):
        comment = item["snippet"]["topLevelComment"]["snippet"]
        assert mention.text == comment["textOriginal"]
        assert mention.author == comment["authorDisplayName"]
        assert mention.created_at == datetime.fromisoformat(comment["publishedAt"].replace("Z", "+00:00"))
        assert mention.metrics == {
            "likes": comment["likeCount"],
            "replies": item["snippet"]["totalReplyCount"],
        }
        video = item["snippet"].get("videoId")
        if video:
            assert mention.url == f"https://www.youtube.com/watch?v={video}&lc={mention.external_id}"
            assert mention.raw is not None and mention.raw["videoId"] == video
        else:  # a channel's discussion tab (retired by YouTube in 2019, still in old answers)
            channel = item["snippet"]["channelId"]
            assert (
                mention.url
                == f"https://www.youtube.com/channel/{channel}/discussion?lc={mention.external_id}"
            )


def test_text_original_is_preferred_over_the_html_display(replay_server: ReplayServer) -> None:
    source = FakeYouTube(replay_server).source()
    serve(replay_server, "recorded_commentThreads-list_videoId_page2_last.json")
    page = source.fetch(watch(video_ids=["F1UP7wRCPH8"]), None)
    first = page.mentions[0]
    assert first.text == "Google.com"  # textDisplay is '<a href="http://google.com/">Google.com</a>'


def test_recorded_pages_are_followed(replay_server: ReplayServer) -> None:
    """page1 carries nextPageToken; page2 (the recording repeats page 1's items) ends the pass."""
    page1 = recorded("recorded_commentThreads-list_videoId_page1_with-nextPageToken.json")
    source = FakeYouTube(replay_server).source()
    serve(replay_server, "recorded_commentThreads-list_videoId_page1_with-nextPageToken.json")
    serve(
        replay_server,
        "recorded_commentThreads-list_videoId_page2_last.json",
        pageToken=page1["nextPageToken"],
    )

    first = source.fetch(watch(video_ids=["F1UP7wRCPH8"]), None)
    assert first.has_more and len(first.mentions) == len(page1["items"]) == 5
    second = source.fetch(watch(video_ids=["F1UP7wRCPH8"]), first.next_cursor)
    assert not second.has_more
    requests = replay_server.requests_to(THREADS)
    assert "pageToken" not in requests[0].query
    assert requests[1].query["pageToken"] == page1["nextPageToken"]
    assert {m.external_id for m in second.mentions} <= {m.external_id for m in first.mentions}

    # The next run starts a new pass from the top and stops at what it has seen.
    third = source.fetch(watch(video_ids=["F1UP7wRCPH8"]), second.next_cursor)
    assert third.mentions == [] and "pageToken" not in replay_server.requests_to(THREADS)[2].query


def test_a_thread_resource_maps_as_a_thread() -> None:
    """commentThreads.insert answers with one commentThread resource: the same parser reads it."""
    thread = recorded("recorded_commentThreads-insert_toplevel-comment_200.json")
    skips = SkipLog("youtube")
    ((key, mention),) = parse_thread(thread, skips)
    assert skips.count == 0
    assert mention.text == "Sun from the api" and mention.author == "ikaros data"
    assert mention.url == "https://www.youtube.com/watch?v=JE8xdDp5B8Q&lc=Ugx_5P8rmn4vKbN6wwt4AaABAg"
    assert key == mention.created_at.timestamp()


def test_find_reply_pages_the_recorded_replies(replay_server: ReplayServer) -> None:
    page1 = recorded("recorded_comments-list_parentId_page1_with-nextPageToken.json")
    fake = FakeYouTube(replay_server)  # its token endpoint; the replies below are the recorded ones
    serve(replay_server, "recorded_comments-list_parentId_page1_with-nextPageToken.json", path="/comments")
    serve(
        replay_server,
        "recorded_comments-list_parentId_page2_last.json",
        path="/comments",
        pageToken=page1["nextPageToken"],
    )
    source = fake.source(channel_id="UCNvMBmCASzTNNX8lW3JRMbw")  # the recorded replies' author
    thread = "Ugw5zYU6n9pmIgAZWvN4AaABAg"
    target = ReplyTarget("youtube", thread, raw={"videoId": "JE8xdDp5B8Q"})

    found = source.find_reply(target, "hey,   this is the replay", "key-1")
    assert found is not None and found.id == "Ugw5zYU6n9pmIgAZWvN4AaABAg.91zT3cYb5B291za3E-eR-l"
    assert found.url == f"https://www.youtube.com/watch?v=JE8xdDp5B8Q&lc={found.id}"
    asked = replay_server.requests_to("/comments")
    assert [r.query.get("pageToken") for r in asked] == [None, page1["nextPageToken"]]
    assert all(r.query["parentId"] == thread for r in asked)
    assert source.find_reply(target, "never written", "key-2") is None
    other = fake.source(channel_id="UCsomeoneElse")
    assert other.find_reply(target, "hey, this is the replay", "key-3") is None, "only our channel's replies"


def test_a_refused_key_is_an_auth_error_naming_api_key(replay_server: ReplayServer) -> None:
    source = FakeYouTube(replay_server).source()
    serve(replay_server, "recorded-looking_error_400_keyInvalid.json", status=400)
    with pytest.raises(SourceAuthError) as refused:
        source.fetch(watch(video_ids=["v1"]), None)
    message = str(refused.value)
    assert "keyInvalid" in message and "GRUMBLE_YOUTUBE_API_KEY" in message and "api_key" in message
    assert API_KEY not in message


def test_permission_denied_is_an_auth_error_when_reading(replay_server: ReplayServer) -> None:
    source = FakeYouTube(replay_server).source()
    serve(replay_server, "recorded_error_403_PERMISSION_DENIED.json", status=403)
    with pytest.raises(SourceAuthError, match=r"PERMISSION_DENIED.*GRUMBLE_YOUTUBE_API_KEY"):
        source.fetch(watch(video_ids=["v1"]), None)


def test_youtube_quota_exceeded_stops_processes_until_the_reset(
    replay_server: ReplayServer, sqlite_engine: Engine
) -> None:
    """Another app spent the project's quota: YouTube's 403 quotaExceeded is a rate limit until midnight
    Pacific, and the shared count is spent, so no process on this database asks again before then."""
    clock = Clock()
    fake = FakeYouTube(replay_server)
    serve(replay_server, "recorded_error_403_quotaExceeded.json", status=403)
    source = fake.source(ledger=SharedQuotaLedger(sqlite_engine), clock=clock)
    with pytest.raises(SourceRateLimited) as limited:
        source.fetch(watch(video_ids=["v1"]), None)
    assert not isinstance(limited.value, QuotaExhausted)
    assert limited.value.retry_after == pytest.approx(20 * 3600)
    assert "quota is used up" in str(limited.value) and "<a href" not in str(limited.value)

    other = fake.source(ledger=SharedQuotaLedger(sqlite_engine), clock=clock)
    asked = len(replay_server.requests)
    with pytest.raises(QuotaExhausted, match="resets at 2026-12-08 08:00 UTC"):
        other.fetch(watch(video_ids=["v1"]), None)
    assert len(replay_server.requests) == asked, "refused by the count, not by YouTube"


def test_comments_disabled_on_one_video_leaves_the_other(replay_server: ReplayServer) -> None:
    strings = (FOLDER / "recorded_error-strings_403_commentsDisabled.txt").read_text(encoding="utf-8")
    disabled = comments_disabled("vidOff")
    served = json.loads(disabled.body)["error"]["message"]
    assert served in strings, "the served message is the recorded one"
    fake = FakeYouTube(replay_server)
    good = thread_items("recorded_commentThreads-list_id-multi.json")
    replay_server.route("GET", THREADS, Reply.json({"items": good}), query={"videoId": "D-lhorsDlUQ"})
    replay_server.route("GET", THREADS, disabled, query={"videoId": "vidOff"})

    page = fake.source().fetch(watch(video_ids=["vidOff", "D-lhorsDlUQ"]), None)
    assert len(page.mentions) == len(good) == 2
    (warning,) = page.warnings
    assert "comments are disabled on video vidOff" in warning
    assert "https://www.youtube.com/watch?v=vidOff" in warning and "<code>" not in warning

    with pytest.raises(SourceNotFound, match="disabled"):  # the only video: the fetch fails, clearly
        fake.source().fetch(watch(video_ids=["vidOff"]), None)


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (
            google_error(
                404, "videoNotFound", "The video identified by the videoId parameter could not be found."
            ),
            "not found: it is private, deleted",
        ),
        (
            google_error(
                403, "forbidden", "The comment thread could not be retrieved due to insufficient permissions."
            ),
            "it is private or its comments are restricted",
        ),
    ],
    ids=["deleted", "private"],
)
def test_a_private_or_deleted_video_is_a_warning_naming_it(
    replay_server: ReplayServer, reply: Reply, words: str
) -> None:
    """No recording of these: the bodies follow the API reference's commentThreads.list errors."""
    fake = FakeYouTube(
        replay_server, threads=lambda request: thread_items("recorded_commentThreads-list_id-single.json")
    )
    replay_server.route("GET", THREADS, reply, query={"videoId": "vidGone"})
    page = fake.source().fetch(watch(video_ids=["vidGone", "D-lhorsDlUQ"]), None)
    assert len(page.mentions) == 1
    (warning,) = page.warnings
    assert "video vidGone" in warning and words in warning


def _methods(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    resources = schema["resources"]
    return {
        f"{name}.{method}": spec
        for name, resource in resources.items()
        for method, spec in resource.get("methods", {}).items()
    }


def _check_against(schema: dict[str, Any], method: str, request: Request) -> None:
    spec = _methods(schema)[method]
    parameters = spec["parameters"]
    for name, value in request.query.items():
        assert name in parameters, f"{method} has no parameter {name!r}"
        allowed = parameters[name]
        if "enum" in allowed:
            assert value in allowed["enum"], f"{method} {name}={value!r} not in {allowed['enum']}"
        if "maximum" in allowed:
            assert int(value) <= int(allowed["maximum"]), f"{method} {name}={value} over the maximum"
    for name, allowed in parameters.items():
        if allowed.get("required"):
            assert name in request.query, f"{method} needs {name!r}"
    if "part" in request.query and method.endswith(".list"):
        for part in request.query["part"].split(","):
            assert part in {"id", "snippet", "replies"}, part


@pytest.mark.parametrize(
    "schema_file", ["schema_youtube.v3.discovery.json", "schema_commentThreads-comments-subset_DERIVED.json"]
)
def test_requests_follow_the_discovery_schema(schema_file: str, replay_server: ReplayServer) -> None:
    """Every request the source sends (listing, search, replies lookup, reply) uses parameters and values
    the API's discovery document defines, and the fields the parser reads are in its schemas."""
    schema = recorded(schema_file)
    fake = FakeYouTube(
        replay_server, threads=lambda request: thread_items("recorded_commentThreads-list_id-multi.json")
    )
    fake.videos_found = {"acme": ["vidFound1"]}
    source = fake.source()
    source.fetch(
        watch(video_ids=["D-lhorsDlUQ"], channel_ids=["UCa-vrCLQHviTOVnEKDOdetQ"], search_videos=True), None
    )
    target = ReplyTarget("youtube", "UgxKREWxIgDrw8w2e_Z4AaABAg")
    source.reply(target, "Thanks, we are on it", "key-1")
    source.find_reply(target, "Thanks, we are on it", "key-1")

    methods = _methods(schema)
    checks = {
        ("GET", THREADS): "commentThreads.list",
        ("GET", "/comments"): "comments.list",
        ("POST", "/comments"): "comments.insert",
        ("GET", "/search"): "search.list",
        ("GET", "/channels"): "channels.list",
    }
    seen = set()
    for request in replay_server.requests:
        method = checks.get((request.method, request.path))
        if method is None or method not in methods:
            continue  # the token endpoint; a method the subset file leaves out
        _check_against(schema, method, request)
        seen.add(method)
    assert {"commentThreads.list", "comments.list", "comments.insert"} <= seen
    snippet = schema["schemas"]["CommentSnippet"]["properties"]
    for read in (
        "textOriginal",
        "textDisplay",
        "authorDisplayName",
        "likeCount",
        "publishedAt",
        "updatedAt",
        "parentId",
        "videoId",
        "channelId",
        "authorChannelId",
    ):
        assert read in snippet, read
    thread = schema["schemas"]["CommentThreadSnippet"]["properties"]
    assert {"topLevelComment", "totalReplyCount", "videoId", "channelId"} <= set(thread)
    assert "comments" in schema["schemas"]["CommentThreadReplies"]["properties"]


# --- the quota plan ---------------------------------------------------------------------------------------


def searching_fake(server: ReplayServer) -> FakeYouTube:
    fake = FakeYouTube(
        server, threads=lambda request: thread_items("recorded_commentThreads-list_id-single.json")
    )
    fake.videos_found = {"acme": ["vidFound1", "vidFound2"]}
    return fake


def test_a_search_costs_100_units_and_is_repeated_only_every_few_hours(replay_server: ReplayServer) -> None:
    clock = Clock()
    fake = searching_fake(replay_server)
    source = fake.source(clock=clock, search_every_hours=12)

    first = source.fetch(watch(), None)  # no ids: the watch's keywords find the videos
    (search,) = fake.searches()
    assert search.query == {"part": "id", "q": "acme", "type": "video", "order": "date", "maxResults": "10"}
    assert sorted(r.query["videoId"] for r in fake.thread_requests()) == ["vidFound1", "vidFound2"]
    assert source.quota.usage().used == 100 + 2
    assert len(first.mentions) == 1  # the same recorded thread on both videos, once

    clock.now += timedelta(hours=6)
    source.fetch(watch(), first.next_cursor)
    assert len(fake.searches()) == 1, "the videos found are kept in the cursor"
    assert len(fake.thread_requests()) == 4 and source.quota.usage().used == 104

    clock.now += timedelta(hours=6)
    fake.videos_found = {"acme": ["vidFound3"]}
    third = source.fetch(watch(), first.next_cursor)
    assert len(fake.searches()) == 2
    assert sorted(r.query["videoId"] for r in fake.thread_requests()[4:]) == [
        "vidFound1",
        "vidFound2",
        "vidFound3",
    ]
    clock.now += timedelta(days=8)  # past search_keep_days: only what the latest search found is followed
    fake.videos_found = {"acme": []}
    source.fetch(watch(), third.next_cursor)
    assert [r.query["videoId"] for r in fake.thread_requests()[7:]] == []


def test_the_collector_stops_before_the_share_is_exceeded_and_resumes_after_the_reset(
    replay_server: ReplayServer,
) -> None:
    clock = Clock()
    fake = searching_fake(replay_server)
    # 206 units a day, 50 % of it for collection: 103 = one search and three listings.
    source = fake.source(clock=clock, daily_quota=206, quota_share=0.5, search_every_hours=24)
    videos = watch(video_ids=["v1", "v2"], search_videos=True)

    first = source.fetch(videos, None)
    assert len(fake.searches()) == 1 and len(fake.thread_requests()) == 3  # v1, v2 and one found video
    (warning,) = first.warnings
    assert warning.startswith("stopped for the day after 103 unit(s) this run: quota reached")
    assert "1 listing(s) wait for the reset" in warning and "raise quota_share" in warning
    assert source.quota.usage().used == 103 and not first.has_more

    asked = len(replay_server.requests)
    with pytest.raises(QuotaExhausted) as stopped:
        source.fetch(videos, first.next_cursor)
    assert len(replay_server.requests) == asked, "nothing is sent once the share is spent"
    assert stopped.value.retry_after == pytest.approx(20 * 3600)
    assert "103 of the 103 units" in str(stopped.value) and "50% of 206" in str(stopped.value)

    clock.now = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)  # midnight Pacific
    again = source.fetch(videos, first.next_cursor)
    assert not again.warnings and source.quota.usage().used == 4  # no search due yet: four listings


def test_a_due_search_waits_when_it_would_leave_too_little(replay_server: ReplayServer) -> None:
    fake = searching_fake(replay_server)
    source = fake.source(clock=Clock(), daily_quota=50, quota_share=1.0)
    page = source.fetch(watch(video_ids=["v1"], search_videos=True), None)
    assert fake.searches() == []
    (warning,) = page.warnings
    assert "search for 'acme' postponed: it costs 100 units" in warning and "50 of the day's 50" in warning
    assert [r.query["videoId"] for r in fake.thread_requests()] == ["v1"] and len(page.mentions) == 1


def test_two_sources_on_one_database_share_the_quota(
    replay_server: ReplayServer, sqlite_engine: Engine
) -> None:
    clock = Clock()
    fake = searching_fake(replay_server)
    one = fake.source(clock=clock, ledger=SharedQuotaLedger(sqlite_engine), daily_quota=4, quota_share=1.0)
    two = fake.source(clock=clock, ledger=SharedQuotaLedger(sqlite_engine), daily_quota=4, quota_share=1.0)
    one.fetch(watch(video_ids=["v1", "v2", "v3"]), None)
    assert two.quota.usage().used == 3
    page = two.fetch(watch(video_ids=["v1", "v2"]), None)
    assert "stopped for the day" in page.warnings[0] and len(fake.thread_requests()) == 4


def test_a_stop_for_the_day_is_the_sources_health_until_the_reset(
    replay_server: ReplayServer, sqlite_engine: Engine
) -> None:
    clock = Clock()
    fake = searching_fake(replay_server)
    source = fake.source(clock=clock, daily_quota=1, quota_share=1.0)
    videos = watch(video_ids=["v1", "v2"])
    collect(sqlite_engine, videos, source, now=clock.now)
    degraded = get_state(sqlite_engine, "acme", "youtube")
    assert degraded.health == "degraded" and "stopped for the day" in degraded.problem

    result = collect(sqlite_engine, videos, source, force=True, now=clock.now)
    state = get_state(sqlite_engine, "acme", "youtube")
    assert result.error is not None and "quota reached" in result.error
    assert state.health == "failing" and state.next_attempt_at is not None
    assert state.next_attempt_at >= datetime(2026, 12, 8, 8, 0, tzinfo=UTC), "retried after the reset"


def test_grumble_status_shows_the_quota_plan_and_what_is_left(sqlite_engine: Engine) -> None:
    config = parse_config(
        {
            "sources": {"youtube": {"api_key": API_KEY, "daily_quota": 10000, "quota_share": 0.8}},
            "watches": [
                {"name": "acme", "keywords": ["acme"], "sources": {"youtube": {"video_ids": ["v1"]}}}
            ],
        },
        None,
        {},
    )
    ledger = SharedQuotaLedger(sqlite_engine)
    spender = build_source(config.source_settings("youtube"), quotas=ledger)
    assert isinstance(spender, YouTubeSource)
    spender.quota.spend(305, "search.list")
    lines = quota_report(config, ledger)["youtube"]
    assert lines[0].startswith(
        "quota (collection): used 305 of 8,000 units this day (80% of 10,000), 7,695 left"
    )
    assert "search.list 100 units" in lines[2] and "comments.insert 50" in lines[2]
    assert lines[3] == (
        "plan: at least 96 units a day (1 listing(s) a run every 15 min, 0 search(es) a day) of the 8,000 "
        "collection may spend: it fits"
    )
    assert all(API_KEY not in line for line in lines)


# --- mapping -------------------------------------------------------------------------------------------


def _thread(
    comment_id: str, text: str, when: str, edited: str | None = None, **snippet: Any
) -> dict[str, Any]:
    top = {
        "id": comment_id,
        "snippet": {
            "videoId": "vid1",
            "textOriginal": text,
            "authorDisplayName": "Dana",
            "likeCount": 2,
            "publishedAt": when,
            "updatedAt": edited or when,
            **snippet,
        },
    }
    return {"id": comment_id, "snippet": {"videoId": "vid1", "topLevelComment": top, "totalReplyCount": 0}}


def test_an_edited_comment_comes_through_again_with_its_new_text(replay_server: ReplayServer) -> None:
    threads = [
        _thread("c2", "Acme is fine", "2026-11-02T10:00:00Z"),
        _thread("c1", "Acme ok", "2026-11-01T10:00:00Z"),
    ]
    fake = FakeYouTube(replay_server, threads=lambda request: threads)
    source = fake.source()
    first = source.fetch(watch(video_ids=["vid1"]), None)
    assert len(first.mentions) == 2
    threads[1] = _thread(
        "c1", "Acme lost my order, 1 star", "2026-11-01T10:00:00Z", edited="2026-11-03T09:00:00Z"
    )
    second = source.fetch(watch(video_ids=["vid1"]), first.next_cursor)
    (edited,) = second.mentions
    assert edited.external_id == "c1" and edited.text == "Acme lost my order, 1 star"
    assert edited.created_at == datetime(2026, 11, 1, 10, tzinfo=UTC)
    assert edited.raw is not None and edited.raw["snippet"]["updatedAt"] == "2026-11-03T09:00:00Z"
    assert source.fetch(watch(video_ids=["vid1"]), second.next_cursor).mentions == []


def test_replies_embedded_in_a_thread_are_mentions_under_it(replay_server: ReplayServer) -> None:
    thread = _thread("c1", "Acme broke my sync", "2026-11-01T10:00:00Z")
    thread["snippet"]["totalReplyCount"] = 1
    thread["replies"] = {
        "comments": [
            {
                "id": "c1.r1",
                "snippet": {
                    "parentId": "c1",
                    "videoId": "vid1",
                    "textDisplay": "Same here &amp; worse",  # no textOriginal: not every viewer gets it
                    "authorDisplayName": "Ben",
                    "likeCount": 1,
                    "publishedAt": "2026-11-01T11:00:00Z",
                    "updatedAt": "2026-11-01T11:00:00Z",
                },
            }
        ]
    }
    fake = FakeYouTube(replay_server, threads=lambda request: [thread])
    page = fake.source().fetch(watch(video_ids=["vid1"]), None)
    top, reply = sorted(page.mentions, key=lambda m: m.external_id)
    assert top.parent_id is None and top.engagement == 3
    assert reply.parent_id == "c1" and reply.text == "Same here & worse"
    assert reply.url == "https://www.youtube.com/watch?v=vid1&lc=c1.r1"


def test_without_an_api_key_the_fetch_says_which_setting_is_missing(replay_server: ReplayServer) -> None:
    source = FakeYouTube(replay_server).source(api_key="")
    with pytest.raises(SourceAuthError, match=r"api_key is not set.*GRUMBLE_YOUTUBE_API_KEY"):
        source.fetch(watch(video_ids=["v1"]), None)
    assert replay_server.requests == []


def test_a_watch_with_nothing_to_read_says_how_to_fix_it(replay_server: ReplayServer) -> None:
    source = FakeYouTube(replay_server).source()
    with pytest.raises(Exception, match="video_ids or channel_ids"):
        source.fetch(Watch(name="acme", sources={"youtube": {}}), None)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"quota_share": 1.5}, "quota_share"),
        ({"daily_quota": 0}, "daily_quota"),
        ({"daily_quota": "ten thousand"}, "daily_quota must be a number"),
    ],
)
def test_a_bad_quota_setting_names_it(
    replay_server: ReplayServer, options: dict[str, Any], words: str
) -> None:
    from monitor.errors import ConfigError

    with pytest.raises(ConfigError, match=words):
        FakeYouTube(replay_server).source(**options)


def test_collect_once_then_status_shows_the_days_units(
    replay_server: ReplayServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tiny_model_dir: Path,
) -> None:
    """`grumble collect --once` spends from the database's count and `grumble status` shows it."""
    FakeYouTube(
        replay_server, threads=lambda request: thread_items("recorded_commentThreads-list_id-multi.json")
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GRUMBLE_CONFIG", raising=False)
    monkeypatch.delenv("GRUMBLE_DATABASE_URL", raising=False)
    monkeypatch.setenv("GRUMBLE_YOUTUBE_API_KEY", API_KEY)
    (tmp_path / "grumble.toml").write_text(
        f"""
database_url = "sqlite:///{tmp_path / "g.db"}"
[model]
name = "{tiny_model_dir}"
[sources.youtube]
base_url = "{replay_server.url}"
daily_quota = 1000
quota_share = 0.5
[[watches]]
name = "acme"
keywords = ["acme"]
[watches.sources.youtube]
video_ids = ["D-lhorsDlUQ", "vid2"]
""",
        encoding="utf-8",
    )
    assert main(["collect", "--once"]) == 0
    capsys.readouterr()
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "youtube  [ok]" in out
    assert "quota (collection): used 2 of 500 units this day (50% of 1,000), 498 left" in out
    assert API_KEY not in out


def test_a_listing_the_quota_left_unasked_keeps_its_place(replay_server: ReplayServer) -> None:
    """Not asked is not failed: a video whose next page waits for the reset resumes there, its pass intact."""
    threads = {
        video: [
            _thread(f"{video}-c{n}", f"Acme comment {n}", f"2026-11-0{9 - n}T10:00:00Z") for n in range(4)
        ]
        for video in ("v1", "v2")
    }
    fake = FakeYouTube(replay_server, threads=lambda request: threads[request.query["videoId"]])
    clock = Clock()
    source = fake.source(clock=clock, daily_quota=3, quota_share=1.0, page_size=2)
    videos = watch(video_ids=["v1", "v2"])
    first = source.fetch(videos, None)
    assert first.has_more and len(first.mentions) == 4
    second = source.fetch(videos, first.next_cursor)  # v1's second page fits, v2's waits
    assert "1 listing(s) wait for the reset" in second.warnings[0]
    paging = decode_cursor("youtube", json.loads(second.next_cursor or "")["paging"])
    assert (
        paging["video:v2"]
        == decode_cursor("youtube", json.loads(first.next_cursor or "")["paging"])["video:v2"]
    )
    assert paging["video:v2"].pending and not paging["video:v2"].extra

    clock.now += timedelta(days=1)
    source.fetch(videos, second.next_cursor)
    last = fake.thread_requests()[-1]
    assert last.query["videoId"] == "v2" and last.query["pageToken"] == "2"


def test_a_plan_over_the_share_says_what_pace_would_fit(replay_server: ReplayServer) -> None:
    source = FakeYouTube(replay_server).source(daily_quota=1000, quota_share=0.5, search_every_hours=6)
    videos = Watch(name="acme", sources={"youtube": {"video_ids": [f"v{n}" for n in range(10)]}})
    (line,) = source.quota_plan([videos], every_minutes=15)
    assert line.startswith("plan: at least 960 units a day (10 listing(s) a run every 15 min")
    assert "OVER the share" in line and "collect_every_minutes = 29 or more" in line
    (fits,) = source.quota_plan([videos], every_minutes=29)
    assert fits.endswith("it fits")
    searching = watch(search_videos=True)  # 4 searches a day (400 units) and up to 10 videos found
    (line,) = source.quota_plan([searching], every_minutes=60)
    assert "4 search(es) a day" in line and "at least 640 units" in line and "OVER" in line


def test_all_replies_lists_a_busy_threads_replies_for_one_unit(replay_server: ReplayServer) -> None:
    thread = _thread("c1", "Acme broke my sync", "2026-11-01T10:00:00Z")
    thread["snippet"]["totalReplyCount"] = 3
    fake = FakeYouTube(replay_server, threads=lambda request: [thread])
    replies = [
        {
            "id": f"c1.r{n}",
            "snippet": {
                "parentId": "c1",
                "textOriginal": f"me too {n}",
                "authorDisplayName": f"viewer {n}",
                "publishedAt": f"2026-11-01T1{n}:00:00Z",
                "updatedAt": f"2026-11-01T1{n}:00:00Z",
            },
        }
        for n in range(1, 4)
    ]
    replay_server.route("GET", "/comments", Reply.json({"items": replies}))

    plain = fake.source().fetch(watch(video_ids=["vid1"]), None)
    assert [m.external_id for m in plain.mentions] == ["c1"] and replay_server.requests_to("/comments") == []

    source = fake.source(all_replies=True)
    page = source.fetch(watch(video_ids=["vid1"]), None)
    assert sorted(m.external_id for m in page.mentions) == ["c1", "c1.r1", "c1.r2", "c1.r3"]
    (asked,) = replay_server.requests_to("/comments")
    assert asked.query["parentId"] == "c1" and asked.headers["x-goog-api-key"] == API_KEY
    assert source.quota.usage().used == 2
    reply = next(m for m in page.mentions if m.external_id == "c1.r2")
    assert reply.parent_id == "c1" and reply.url == "https://www.youtube.com/watch?v=vid1&lc=c1.r2"


def test_a_thread_with_unreadable_replies_keeps_its_comment_and_the_page(
    replay_server: ReplayServer, caplog: pytest.LogCaptureFixture
) -> None:
    odd = _thread("c2", "Acme again", "2026-11-02T10:00:00Z")
    odd["replies"] = {"comments": "not a list"}
    good = _thread("c1", "Acme ok", "2026-11-01T10:00:00Z")
    fake = FakeYouTube(replay_server, threads=lambda request: [odd, "not a thread", good])
    page = fake.source().fetch(watch(video_ids=["vid1"]), None)
    assert sorted(m.external_id for m in page.mentions) == ["c1", "c2"]
    assert "skipped 2 unusable item(s)" in caplog.text
