"""Bluesky Jetstream: every recorded event parsed, and the runner against a real websocket server on
loopback replaying the 152 events production Jetstream v1 sent (../shared/data/payloads)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, select

from monitor.sources import jetstream
from monitor.sources.base import SourceSettings
from monitor.sources.bluesky import BlueskySource
from monitor.sources.http import SkipLog
from monitor.store.mentions import import_mentions
from monitor.store.schema import mention_versions
from monitor.store.streams import StreamKey, get_stream
from monitor.streams.bluesky import JetstreamAdapter
from tests.factories import mention, watch
from tests.streams.conftest import (
    GOLDEN_10,
    MANIFEST_152,
    RFD,
    WINDOW_152,
    jetstream_lines,
    need,
    recent,
    running,
    stored,
)
from tests.support.http_replay import ReplayServer, Reply
from tests.support.ws_replay import Script, WsReplay, jetstream_time

GOVERNMENT = "at://did:plc:d3blkgynnwi3rp7vak25pfe3/app.bsky.feed.post/3mptbyo7dms2m"  # en
DELETED_POST = "at://did:plc:4smmjsqf6l5jkzczvw6vsrqc/app.bsky.feed.post/3mpt73z3ejc2p"


def search_source(server: ReplayServer | None = None) -> BlueskySource:
    base = server.url if server is not None else "http://127.0.0.1:9"
    return BlueskySource(SourceSettings("bluesky", base_url=base), httpx.Client(base_url=base, timeout=5))


def posts(path_lines: list[str]) -> list[dict[str, Any]]:
    events = [json.loads(line) for line in path_lines]
    return [e for e in events if e.get("commit", {}).get("collection") == "app.bsky.feed.post"]


# --- conformance: every file that holds events ---------------------------------------------------------


def test_every_event_of_the_152_window_parses_and_the_counts_match_the_capture_manifest() -> None:
    manifest = json.loads(need(MANIFEST_152).read_text(encoding="utf-8"))
    lines = jetstream_lines(WINDOW_152)
    assert len(lines) == manifest["v1_events"] == 152
    skips = SkipLog("bluesky")
    events = [jetstream.parse_message(line, skips) for line in lines]
    assert all(e is not None for e in events) and skips.count == 0
    created = [e for e in events if e and e.mention]
    deleted = [e for e in events if e and e.deleted]
    recorded = posts(lines)
    assert len(created) == sum(1 for p in recorded if p["commit"]["operation"] == "create")
    assert len(created) == 17 and len(deleted) == 1
    assert deleted[0].deleted == DELETED_POST
    # Every event moves the cursor, posts or not; time_us is unix microseconds.
    assert [e.cursor for e in events if e] == [json.loads(line)["time_us"] for line in lines]


def test_the_golden_events_parse_a_reply_post_with_its_thread_and_cid() -> None:
    lines = jetstream_lines(GOLDEN_10)
    skips = SkipLog("bluesky")
    events = [jetstream.parse_message(line, skips) for line in lines]
    assert len(events) == 10 and all(events)
    [post] = [e.mention for e in events if e and e.mention]
    assert post.text == "Try RSV for a good time !!"
    assert post.external_id == "at://did:plc:q235v55g5unth4zjjdpacfdr/app.bsky.feed.post/3mmoojp4cd223"
    # The search source's id and link scheme: one mention whichever way it is seen.
    assert post.url == "https://bsky.app/profile/did:plc:q235v55g5unth4zjjdpacfdr/post/3mmoojp4cd223"
    assert post.parent_id == "at://did:plc:j76trmiofvaxxpvx2vnb2vwf/app.bsky.feed.post/3mmojbrjwbs26"
    assert post.language == "en"
    assert post.raw is not None and post.raw["cid"].startswith("bafyrei")  # what a reply needs
    assert post.created_at == datetime(2026, 5, 25, 14, 23, 28, 757000, tzinfo=UTC)


def test_the_rfd_v1_example_parses_as_a_non_post_event() -> None:
    block = re.search(r"```json\n(\{.*?\})\n```", need(RFD).read_text(encoding="utf-8"), re.DOTALL)
    assert block is not None
    event = jetstream.parse_message(block.group(1), SkipLog("bluesky"))
    assert event is not None and event.cursor == 1725911162329308
    assert event.mention is None and event.deleted is None  # a like: it only moves the cursor


def test_frames_that_are_not_events_are_skipped_and_counted() -> None:
    skips = SkipLog("bluesky")
    assert jetstream.parse_message("not json", skips) is None
    assert jetstream.parse_message("[1, 2]", skips) is None
    assert jetstream.parse_message('{"did": "x"}', skips) is None
    assert skips.count == 3


def test_the_url_asks_for_posts_and_resumes_a_few_seconds_before_the_cursor() -> None:
    url = jetstream.subscribe_url("wss://js.example/subscribe?compress=false", 1_000_000_000)
    assert (
        url
        == "wss://js.example/subscribe?compress=false&wantedCollections=app.bsky.feed.post&cursor=1000000000"
    )
    assert jetstream.resume_cursor(1_783_175_888_000_000) == 1_783_175_883_000_000
    assert jetstream.resume_cursor(None) is None


# --- the runner on loopback -----------------------------------------------------------------------------


def test_recorded_events_become_mentions_of_each_matching_watch_with_languages_and_deletes(
    sqlite_engine: Engine, ws_server: WsReplay
) -> None:
    lines = jetstream_lines(WINDOW_152)
    # A post search found earlier: the stream's delete of it is the same mention.
    import_mentions(sqlite_engine, "acme", [mention(1, source="bluesky", external_id=DELETED_POST)])
    ws_server.play(Script(frames=lines))
    watches = [
        watch("gov", keywords=("government",), languages=("en",)),
        watch("bands", keywords=("band",)),
    ]
    adapter = JetstreamAdapter(ws_server.url(), search_source())
    with running(sqlite_engine, adapter, watches):
        ws_server.wait_for(lambda: get_stream(sqlite_engine, adapter.key).events_total >= 152)
    rows = stored(sqlite_engine)
    by_watch = {name: sorted(k for k, v in rows.items() if name in v["watches"]) for name in ("gov", "bands")}
    # "government" is also in a Turkish-tagged post, which the en-only watch leaves out.
    assert by_watch["gov"] == [GOVERNMENT]
    assert len(by_watch["bands"]) == 2  # the German #HowToTellAiToShutUp post and a Turkish one ("band's")
    assert rows[DELETED_POST]["deleted_at"] is not None
    assert len(rows) == 4  # nothing else of the 152 events is kept
    health = get_stream(sqlite_engine, adapter.key)
    assert health.cursor == str(max(json.loads(line)["time_us"] for line in lines))
    assert health.mentions_total == 3 and health.events_total == 152
    assert health.last_event_at is not None and health.lag_seconds is not None
    [connection] = ws_server.connections
    assert connection.query == {"wantedCollections": "app.bsky.feed.post"}


def test_a_dropped_connection_reconnects_rewinds_its_cursor_and_stores_each_post_once(
    sqlite_engine: Engine, ws_server: WsReplay
) -> None:
    lines = recent(jetstream_lines(WINDOW_152))
    ws_server.play(
        Script(frames=lines, drop_after=60, by_cursor=jetstream_time, pace_s=0.002),
        Script(frames=lines, by_cursor=jetstream_time),
    )
    every_post = watch("all", keywords=("the",))
    adapter = JetstreamAdapter(ws_server.url(), search_source())
    with running(sqlite_engine, adapter, [every_post]) as runner:
        ws_server.wait_for(lambda: len(ws_server.connections) >= 2)
        ws_server.wait_for(
            lambda: get_stream(sqlite_engine, adapter.key).cursor == str(max(map(jetstream_time, lines)))
        )
        health = get_stream(sqlite_engine, adapter.key)
    second = ws_server.connections[1]
    # Resumed 5 s before the newest event stored: everything (the window is < 1 s) is sent again...
    assert int(second.query["cursor"]) <= max(map(jetstream_time, lines[:60])) - 5_000_000
    assert second.sent == 152
    # ...and each event counted once, each post stored once.
    assert health.events_total == 152
    assert health.reconnects == 1 and health.connected
    expected = {
        e["did"] + e["commit"]["rkey"]
        for e in posts(lines)
        if "the" in re.findall(r"\w+", str(e["commit"].get("record", {}).get("text", "")).lower())
    }
    assert len(stored(sqlite_engine)) == len(expected) > 0
    assert runner.connections == 2


def test_an_edit_updates_the_post_in_place(sqlite_engine: Engine, ws_server: WsReplay) -> None:
    """No recorded post update exists (the Bluesky app does not edit posts); this one is the recorded
    create of the golden file with operation "update", a later time_us and new text, as the v1 wire
    carries every update (the recorded profile updates have this shape)."""
    line = next(line for line in jetstream_lines(GOLDEN_10) if '"app.bsky.feed.post"' in line)
    create = json.loads(line)
    create["commit"]["record"]["text"] = "acme support is a good time"
    edit = json.loads(json.dumps(create))
    edit["time_us"] += 1000
    edit["commit"]["operation"] = "update"
    edit["commit"]["record"]["text"] = "acme support never answered, a bad time"
    # Apart, so the edit meets a stored post (in one batch the last version simply wins).
    ws_server.play(Script(frames=[json.dumps(create), json.dumps(edit)], pace_s=0.5))
    adapter = JetstreamAdapter(ws_server.url(), search_source())
    with running(sqlite_engine, adapter, [watch("acme", keywords=("acme",))]):
        ws_server.wait_for(lambda: get_stream(sqlite_engine, adapter.key).events_total >= 2)
    [row] = stored(sqlite_engine).values()
    assert row["text"] == "acme support never answered, a bad time"
    with sqlite_engine.connect() as connection:
        versions = connection.execute(select(mention_versions.c.version, mention_versions.c.text)).all()
    assert [tuple(v) for v in versions] == [(1, "acme support is a good time")]


def test_a_cursor_refused_as_too_old_is_caught_up_over_search_then_streams_from_now(
    sqlite_engine: Engine, ws_server: WsReplay, replay_server: ReplayServer
) -> None:
    """The refusal is the documented pre-upgrade 400 XRPC envelope naming CursorTooOld (RFD 5.1);
    the search answer is hand-made in searchPosts' documented shape."""
    post = {
        "uri": "at://did:plc:abc/app.bsky.feed.post/3kzzz",
        "cid": "bafyreib",
        "author": {"did": "did:plc:abc", "handle": "carol.bsky.social"},
        "record": {"text": "acme lost my order", "createdAt": "2026-12-01T10:00:00Z"},
        "indexedAt": "2026-12-01T10:00:01Z",
    }
    replay_server.route("GET", "/xrpc/app.bsky.feed.searchPosts", Reply.json({"posts": [post]}))
    key = StreamKey("bluesky", ws_server.url())
    from monitor.store.streams import set_cursor

    recent = int((datetime.now(UTC) - timedelta(minutes=5)).timestamp() * 1_000_000)
    set_cursor(sqlite_engine, key, str(recent))
    ws_server.play(
        Script(refuse=(400, '{"error":"CursorTooOld","message":"cursor is before the floor seq 1200"}')),
        Script(frames=[]),
    )
    adapter = JetstreamAdapter(ws_server.url(), search_source(replay_server))
    with running(sqlite_engine, adapter, [watch("acme", keywords=("acme",))]):
        ws_server.wait_for(
            lambda: len(ws_server.connections) >= 2 and get_stream(sqlite_engine, key).connected
        )
    rows = stored(sqlite_engine)
    assert rows[str(post["uri"])]["watches"] == {"acme"}
    assert replay_server.requests[0].query["q"] == "acme"
    assert "cursor" in ws_server.connections[0].query
    assert "cursor" not in ws_server.connections[1].query  # from now: the gap came from search
    health = get_stream(sqlite_engine, key)
    assert health.fell_back_reason is not None and "CursorTooOld" in health.fell_back_reason


def test_a_stored_cursor_older_than_jetstream_keeps_is_not_sent_the_gap_comes_from_search(
    sqlite_engine: Engine, ws_server: WsReplay, replay_server: ReplayServer
) -> None:
    """v1 would silently start at its oldest event (36 h back): the gap would be lost unseen."""
    replay_server.route("GET", "/xrpc/app.bsky.feed.searchPosts", Reply.json({"posts": []}))
    key = StreamKey("bluesky", ws_server.url())
    from monitor.store.streams import set_cursor

    old = int((datetime.now(UTC) - timedelta(hours=40)).timestamp() * 1_000_000)
    set_cursor(sqlite_engine, key, str(old))
    adapter = JetstreamAdapter(ws_server.url(), search_source(replay_server))
    with running(sqlite_engine, adapter, [watch("acme", keywords=("acme",))]):
        ws_server.wait_for(
            lambda: len(ws_server.connections) >= 1 and get_stream(sqlite_engine, key).connected
        )
    assert "cursor" not in ws_server.connections[0].query
    assert len(replay_server.requests) == 1
    assert "older than Jetstream keeps" in (get_stream(sqlite_engine, key).fell_back_reason or "")
