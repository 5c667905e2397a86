"""Mastodon streaming: every recorded and documented event parsed, and the runner against a real
websocket server on loopback. The recordings (Mastodon.py's cassettes of a 4.6.4 server) are SSE;
the websocket carries the same event name and payload string inside the documented frame
`{"stream": [...], "event": ..., "payload": ...}`, which is how they are served here."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from sqlalchemy import Engine, select

from monitor.sources.base import SourceSettings
from monitor.sources.http import SkipLog
from monitor.sources.mastodon import MastodonSource
from monitor.sources.mastodon_stream import parse_event, parse_frame, streaming_url, subscriptions
from monitor.store.schema import mention_versions
from monitor.store.streams import get_stream
from monitor.streams.mastodon import MastodonAdapter
from tests.factories import watch
from tests.streams.conftest import (
    SSE_USER,
    SSE_USER_DIRECT,
    STREAMING_DOC,
    as_websocket_frame,
    doc_websocket_frames,
    running,
    sse_events,
    stored,
)
from tests.support.cassettes import load
from tests.support.http_replay import ReplayServer, Reply
from tests.support.ws_replay import Script, WsReplay

TOKEN = "test-user-token-not-for-logs"
EDITED = "117024236332527350"  # posted, edited ("status.update"), then deleted in the recording


def rest_source(server: ReplayServer | None = None) -> MastodonSource:
    base = server.url if server is not None else "http://127.0.0.1:9"
    settings = SourceSettings("mastodon", base_url=base, options={"access_token": TOKEN})
    return MastodonSource(settings, httpx.Client(base_url=base, timeout=5))


def recorded_frames() -> list[str]:
    return [as_websocket_frame(event, data) for event, data in sse_events(SSE_USER_DIRECT)]


# --- conformance ------------------------------------------------------------------------------------


@pytest.mark.parametrize("cassette", [SSE_USER_DIRECT, SSE_USER], ids=["user+direct", "user"])
def test_every_recorded_sse_event_parses(cassette: object) -> None:
    events = sse_events(cassette)  # type: ignore[arg-type]
    assert events, "no streaming events in the recording"
    skips = SkipLog("mastodon")
    for name, data in events:
        event = parse_event(name, data, skips)
        assert event is not None, (name, data[:80])
        if name in ("update", "status.update"):
            assert event.mention is not None and event.mention.external_id == json.loads(data)["id"]
            assert event.edited == (name == "status.update")
        elif name == "delete":
            assert event.deleted == data
        else:  # notification, conversation: not statuses of a timeline
            assert event.mention is None and event.deleted is None
    assert skips.count == 0


def test_the_recorded_edit_and_delete_name_the_same_status() -> None:
    events = {name: data for name, data in sse_events(SSE_USER_DIRECT)}
    edit = parse_event("status.update", events["status.update"], SkipLog("mastodon"))
    assert edit is not None and edit.mention is not None
    assert edit.mention.external_id == EDITED and edit.mention.text == "only real animals respond."
    assert events["delete"] == EDITED


def test_every_documented_websocket_frame_parses() -> None:
    frames = doc_websocket_frames(STREAMING_DOC)
    assert {f["event"] for f in frames} >= {"update", "delete", "filters_changed"}
    for frame in frames:
        event = parse_frame(json.dumps(frame), SkipLog("mastodon"))
        assert event is not None
        if frame["event"] == "update":
            assert event.mention is not None and event.mention.author == "tobtobxx@fosstodon.org"
        if frame["event"] == "delete":
            assert event.deleted == "106692867363994015"


def test_subscriptions_and_the_streaming_url() -> None:
    watches = [
        watch(
            "a", keywords=("acme",), sources={"mastodon": {"stream": True, "hashtags": ["Acme", "#acme_app"]}}
        ),
        watch("b", keywords=("acme",), sources={"mastodon": {"stream": True, "hashtags": ["acme"]}}),
        watch("c", keywords=("acme",), sources={"mastodon": {"stream": "list:42"}}),
    ]
    assert subscriptions(watches, True) == [
        {"type": "subscribe", "stream": "hashtag", "tag": "Acme"},
        {"type": "subscribe", "stream": "hashtag", "tag": "acme_app"},
        {"type": "subscribe", "stream": "list", "list": "42"},
    ]
    assert streaming_url("https://fosstodon.org") == "wss://fosstodon.org/api/v1/streaming"
    assert streaming_url("http://127.0.0.1:4000/") == "ws://127.0.0.1:4000/api/v1/streaming"
    assert streaming_url("https://x.example", "wss://stream.x.example/api/v1/streaming") == (
        "wss://stream.x.example/api/v1/streaming"
    )


# --- the runner on loopback -----------------------------------------------------------------------------


def test_updates_edits_and_deletes_from_the_stream(
    sqlite_engine: Engine, ws_server: WsReplay, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    frames = recorded_frames()
    # Apart, so the edit meets the stored status and the delete the edited one.
    ws_server.play(Script(frames=frames, pace_s=0.3))
    streamed = watch(
        "cars", keywords=("respond", "jeep"), sources={"mastodon": {"stream": True, "hashtags": ["acme"]}}
    )
    adapter = MastodonAdapter(ws_server.url("/api/v1/streaming"), rest_source(), TOKEN)
    with running(sqlite_engine, adapter, [streamed]):
        ws_server.wait_for(lambda: get_stream(sqlite_engine, adapter.key).events_total >= len(frames))
    [connection] = ws_server.connections
    assert connection.headers["authorization"] == f"Bearer {TOKEN}"
    assert connection.query == {}  # the token never in the URL
    assert [json.loads(m) for m in connection.received] == [
        {"type": "subscribe", "stream": "hashtag", "tag": "acme"}
    ]
    rows = stored(sqlite_engine)
    assert rows[EDITED]["text"] == "only real animals respond."
    assert rows[EDITED]["deleted_at"] is not None
    with sqlite_engine.connect() as db:
        assert db.scalars(select(mention_versions.c.text)).all() == ["only real cars respond."]
    # Whatever the level (DEBUG here), no log record of ours (the test server's are not) has the token.
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("websockets.server")]
    assert ours and not any(TOKEN in message for message in ours)


def test_after_a_disconnect_what_was_missed_is_fetched_over_rest_before_streaming_again(
    sqlite_engine: Engine, ws_server: WsReplay, replay_server: ReplayServer
) -> None:
    """The REST answer is the tag timeline built from the recorded statuses (the recorded POST
    /api/v1/statuses answers of the same cassette), newest first as the API lists them."""
    statuses = [
        i.json() for i in load(SSE_USER_DIRECT) if i.method == "POST" and i.path == "/api/v1/statuses"
    ]
    first, later = statuses[0], statuses[1]  # "only real cars respond.", "@... beep beep I'm a jeep"
    assert int(later["id"]) > int(first["id"])
    replay_server.route("GET", "/api/v1/timelines/tag/acme", Reply.json([later, first]))
    ws_server.play(
        Script(frames=[as_websocket_frame("update", json.dumps(first))], drop_after=1),
        Script(frames=[]),
    )
    streamed = watch(
        "cars", keywords=("respond", "jeep"), sources={"mastodon": {"stream": True, "hashtags": ["acme"]}}
    )
    adapter = MastodonAdapter(ws_server.url("/api/v1/streaming"), rest_source(replay_server), TOKEN)
    with running(sqlite_engine, adapter, [streamed]):
        ws_server.wait_for(lambda: len(ws_server.connections) >= 2 and len(replay_server.requests) >= 1)
        ws_server.wait_for(lambda: later["id"] in stored(sqlite_engine))
    rows = stored(sqlite_engine)
    assert set(rows) == {first["id"], later["id"]}
    [request] = replay_server.requests
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    health = get_stream(sqlite_engine, adapter.key)
    assert health.cursor is not None and json.loads(health.cursor)["id"] == later["id"]
    assert "fetched over REST" in (health.fell_back_reason or "")
    assert health.reconnects == 1


def test_without_a_user_token_the_stream_says_what_to_set_and_never_connects(
    sqlite_engine: Engine, ws_server: WsReplay
) -> None:
    adapter = MastodonAdapter(ws_server.url("/api/v1/streaming"), rest_source(), None)
    with running(sqlite_engine, adapter, [watch("a", keywords=("acme",))]):
        ws_server.wait_for(lambda: get_stream(sqlite_engine, adapter.key).last_error is not None)
    error = get_stream(sqlite_engine, adapter.key).last_error or ""
    assert "GRUMBLE_MASTODON_ACCESS_TOKEN" in error and "4.2" in error
    assert ws_server.connections == []


def test_an_error_frame_from_the_server_is_an_auth_failure_in_the_health(
    sqlite_engine: Engine, ws_server: WsReplay
) -> None:
    """The documented in-socket error JSON, with a 401 status as the server sends for a bad token."""
    ws_server.play(Script(frames=[json.dumps({"error": "Error: Invalid access token", "status": 401})]))
    adapter = MastodonAdapter(ws_server.url("/api/v1/streaming"), rest_source(), TOKEN)
    with running(sqlite_engine, adapter, [watch("a", keywords=("acme",))]):
        ws_server.wait_for(lambda: get_stream(sqlite_engine, adapter.key).last_error is not None)
    health = get_stream(sqlite_engine, adapter.key)
    assert "Invalid access token" in (health.last_error or "") and not health.connected
    assert TOKEN not in (health.last_error or "")


def test_a_refused_handshake_maps_to_the_source_error_tree(
    sqlite_engine: Engine, ws_server: WsReplay
) -> None:
    ws_server.play(Script(refuse=(401, '{"error":"The access token is invalid"}')))
    adapter = MastodonAdapter(ws_server.url("/api/v1/streaming"), rest_source(), TOKEN)
    with running(sqlite_engine, adapter, [watch("a", keywords=("acme",))]):
        ws_server.wait_for(lambda: get_stream(sqlite_engine, adapter.key).last_error is not None)
    assert "check the access token" in (get_stream(sqlite_engine, adapter.key).last_error or "")
