"""Bluesky Jetstream v2 (`network.bsky.jetstream.subscribeEvents`, `jetstream_protocol = "v2"`).

No v2 frame has been recorded. The frames here are built from the documentation, read in place
(../shared/data/payloads/bluesky_jetstream): the RFD's section 5.2 message and error frame examples
and the lexicon's message union (#commit, #identity, #account, #sync, #info, with their required
fields). Posts are the recorded production v1 events re-framed into that documented v2 envelope
(same did, rev, rkey, cid and record; `seq` numbered in order, `time` from `time_us`), so the v1 and
v2 parsers can be checked against each other on real records.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from monitor.backoff import Backoff
from monitor.errors import ConfigError, SourceError, SourceUnavailable, StreamCursorTooOld
from monitor.sources import jetstream, jetstream_v2
from monitor.sources.http import SkipLog
from monitor.store.schema import mention_versions
from monitor.store.streams import StreamKey, get_stream, set_cursor
from monitor.streams.bluesky import JetstreamV2Adapter, stream_error
from monitor.streams.host import build_adapter
from monitor.streams.plan import planned_streams
from tests.factories import watch
from tests.streams.conftest import (
    GOLDEN_10,
    JETSTREAM,
    RFD,
    WINDOW_152,
    jetstream_lines,
    need,
    running,
    stored,
)
from tests.streams.test_jetstream import search_source
from tests.streams.test_stream_plan_and_health import config
from tests.support.http_replay import ReplayServer, Reply
from tests.support.ws_replay import Script, WsReplay

LEXICON = JETSTREAM / "schema_v2_lexicon_network.bsky.jetstream.subscribeEvents.json"
V2_PATH = "/xrpc/network.bsky.jetstream.subscribeEvents"
FIRST_SEQ = 1000
FAST = Backoff(base=timedelta(milliseconds=20), cap=timedelta(milliseconds=50))


# --- frames from the documentation ----------------------------------------------------------------------


def rfd_message_frame() -> dict[str, Any]:
    """The RFD's section 5.2 example message frame (a like)."""
    for block in re.findall(r"```json\n(.*?)```", need(RFD).read_text(encoding="utf-8"), re.DOTALL):
        data = json.loads(block)
        if data.get("$type") == "message":
            return dict(data)
    raise AssertionError("the RFD has no v2 message frame example")


def rfd_error_frame() -> str:
    """The RFD's error frame example, `{"$type":"error","error":"ConsumerTooSlow",...}`."""
    found = re.search(r'\{"\$type":"error".*?\}', need(RFD).read_text(encoding="utf-8"))
    assert found is not None, "the RFD has no v2 error frame example"
    return found.group(0)


def lexicon() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(need(LEXICON).read_text(encoding="utf-8"))
    return data


def v2_time(time_us: int) -> str:
    """RFC 3339 with exactly six fractional digits, UTC, as the lexicon's `time` is."""
    return datetime.fromtimestamp(time_us / 1_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def as_v2(v1_line: str, seq: int) -> str:
    """A recorded v1 event in the documented v2 envelope: a commit's fields move up into the payload;
    identity and account wrap the upstream event under their own name."""
    event = json.loads(v1_line)
    frame = rfd_message_frame()
    kind = event["kind"]
    payload: dict[str, Any] = {
        "$type": f"{jetstream_v2.NSID}#{kind}",
        "seq": seq,
        "did": event["did"],
        "time": v2_time(event["time_us"]),
    }
    if kind == "commit":
        payload.update(event["commit"])
    else:
        payload[kind] = event[kind]
    frame["payload"] = payload
    return json.dumps(frame)


def window_v2() -> list[str]:
    return [as_v2(line, FIRST_SEQ + i) for i, line in enumerate(jetstream_lines(WINDOW_152))]


def seq_of(frame: str) -> int:
    """For the loopback server to honour ?cursor= (inclusive, as the lexicon says)."""
    return int(json.loads(frame)["payload"]["seq"])


def lexicon_payload(variant: str) -> dict[str, Any]:
    """A payload holding just the lexicon's required fields of `variant`, with plausible values."""
    values = {
        "seq": 4242,
        "did": "did:plc:eygmaihciaxprqvxpfvl6flk",
        "time": "2024-09-09T19:46:02.329308Z",
        "rev": "3l3qo2vutsw2b",
        "operation": "create",
        "collection": "app.bsky.feed.like",
        "rkey": "3l3qo2vuowo2b",
        "name": "OutdatedCursor",
    }
    definition = lexicon()["defs"][variant]
    payload: dict[str, Any] = {"$type": f"{jetstream_v2.NSID}#{variant}"}
    for field in definition["required"]:
        # identity/account/sync wrap an upstream event, which the parser does not read.
        payload[field] = values.get(field, {"seq": 1, "time": "2024-09-09T19:46:02Z"})
    return payload


def frame(payload: dict[str, Any]) -> str:
    return json.dumps({"$type": "message", "payload": payload})


# --- the wire --------------------------------------------------------------------------------------------


def test_the_rfd_message_example_is_a_commit_that_moves_the_cursor_to_its_seq() -> None:
    skips = SkipLog("bluesky")
    event = jetstream_v2.parse_message(json.dumps(rfd_message_frame()), skips)
    assert isinstance(event, jetstream.StreamEvent) and skips.count == 0
    assert event.cursor == 12345
    assert event.at == datetime(2024, 9, 9, 19, 46, 2, 329308, tzinfo=UTC)
    assert event.mention is None and event.deleted is None  # a like: it only moves the cursor


def test_every_message_variant_of_the_lexicon_union_parses() -> None:
    refs = lexicon()["defs"]["main"]["message"]["schema"]["refs"]
    assert refs == ["#commit", "#identity", "#account", "#sync", "#info"]
    skips = SkipLog("bluesky")
    for ref in refs:
        parsed = jetstream_v2.parse_message(frame(lexicon_payload(ref.removeprefix("#"))), skips)
        if ref == "#info":
            assert parsed == jetstream_v2.Info("OutdatedCursor", "")
        else:
            assert isinstance(parsed, jetstream.StreamEvent), ref
            assert parsed.cursor == 4242 and parsed.mention is None and parsed.deleted is None
    assert skips.count == 0


def test_the_rfd_error_frame_parses_as_terminal() -> None:
    parsed = jetstream_v2.parse_message(rfd_error_frame(), SkipLog("bluesky"))
    assert isinstance(parsed, jetstream_v2.ErrorFrame) and parsed.error == "ConsumerTooSlow"


def test_a_post_is_the_same_mention_on_either_wire() -> None:
    lines = jetstream_lines(GOLDEN_10)
    skips = SkipLog("bluesky")
    for i, line in enumerate(lines):
        v1 = jetstream.parse_message(line, skips)
        v2 = jetstream_v2.parse_message(as_v2(line, 7 + i), skips)
        assert isinstance(v1, jetstream.StreamEvent) and isinstance(v2, jetstream.StreamEvent)
        assert v2.cursor == 7 + i and v2.at == v1.at
        assert v2.mention == v1.mention and v2.deleted == v1.deleted
    events = [jetstream_v2.parse_message(as_v2(line, 1), skips) for line in lines]
    [post] = [e.mention for e in events if isinstance(e, jetstream.StreamEvent) and e.mention]
    assert post.url == "https://bsky.app/profile/did:plc:q235v55g5unth4zjjdpacfdr/post/3mmoojp4cd223"
    assert skips.count == 0


def test_the_recorded_window_reframed_parses_posts_deletes_identity_and_account() -> None:
    skips = SkipLog("bluesky")
    events = [jetstream_v2.parse_message(f, skips) for f in window_v2()]
    assert all(isinstance(e, jetstream.StreamEvent) for e in events) and skips.count == 0
    parsed = [e for e in events if isinstance(e, jetstream.StreamEvent)]
    assert [e.cursor for e in parsed] == list(range(FIRST_SEQ, FIRST_SEQ + 152))
    assert sum(1 for e in parsed if e.mention) == 17
    assert [e.deleted for e in parsed if e.deleted] == [
        "at://did:plc:4smmjsqf6l5jkzczvw6vsrqc/app.bsky.feed.post/3mpt73z3ejc2p"
    ]


def test_frames_that_are_not_v2_messages_are_skipped_and_counted() -> None:
    skips = SkipLog("bluesky")
    assert jetstream_v2.parse_message("not json", skips) is None
    assert jetstream_v2.parse_message("[1]", skips) is None
    # A v1 event is not a v2 frame: pointing v2 at a v1 server shows up as skips, not as posts.
    assert jetstream_v2.parse_message(jetstream_lines(GOLDEN_10)[0], skips) is None
    assert jetstream_v2.parse_message(frame({"$type": f"{jetstream_v2.NSID}#commit"}), skips) is None
    assert skips.count == 4


def test_the_url_is_the_xrpc_path_with_v2_filters_and_the_seq_as_stored() -> None:
    assert jetstream_v2.stream_url("wss://js.example/subscribe") == f"wss://js.example{V2_PATH}"
    assert jetstream_v2.stream_url("wss://js.example") == f"wss://js.example{V2_PATH}"
    assert jetstream_v2.stream_url(f"wss://js.example{V2_PATH}") == f"wss://js.example{V2_PATH}"
    url = jetstream_v2.subscribe_url(
        f"wss://js.example{V2_PATH}?wantedCollections=x&maxMessageSizeBytes=9", 77
    )
    # v1's filter names are refused by a v2 server: never sent.
    assert url == (
        f"wss://js.example{V2_PATH}?maxMessageSizeBytes=9&kinds=commit&collections=app.bsky.feed.post&cursor=77"
    )
    assert "cursor" not in jetstream_v2.subscribe_url(f"wss://js.example{V2_PATH}", None)


def test_the_protocol_option_picks_the_v2_endpoint_and_adapter_and_names_a_wrong_value() -> None:
    watches = [{"name": "a", "keywords": ["acme"], "sources": {"bluesky": {"stream": True}}}]
    v2 = config(watches, {"bluesky": {"jetstream_protocol": "v2"}})
    [plan] = planned_streams(v2)
    assert plan.key.endpoint == f"wss://jetstream2.us-east.bsky.network{V2_PATH}"
    assert isinstance(build_adapter(v2, plan, lambda _: search_source()), JetstreamV2Adapter)
    [v1] = planned_streams(config(watches))
    assert v1.key.endpoint == jetstream.DEFAULT_JETSTREAM_URL  # the default is unchanged
    with pytest.raises(ConfigError, match="jetstream_protocol is 'v3'; expected v1 or v2"):
        planned_streams(config(watches, {"bluesky": {"jetstream_protocol": "v3"}}))


def test_error_frames_map_to_what_the_runner_does_and_info_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert isinstance(stream_error(jetstream_v2.ErrorFrame("ConsumerTooSlow", "x")), SourceUnavailable)
    assert isinstance(stream_error(jetstream_v2.ErrorFrame("CursorTooOld", "x")), StreamCursorTooOld)
    other = stream_error(jetstream_v2.ErrorFrame("Surprise", "what"))
    assert type(other) is SourceError and "Surprise: what" in str(other)
    adapter = JetstreamV2Adapter(f"ws://127.0.0.1:9{V2_PATH}", search_source())
    info = {**lexicon_payload("info"), "message": "resumed from seq 900"}
    with caplog.at_level(logging.INFO, logger="monitor.streams.bluesky"):
        assert adapter.parse(frame(info), SkipLog("bluesky")) is None
    assert "OutdatedCursor: resumed from seq 900" in caplog.text
    with pytest.raises(SourceUnavailable, match="ConsumerTooSlow"):
        adapter.parse(rfd_error_frame(), SkipLog("bluesky"))


# --- the runner on loopback ------------------------------------------------------------------------------


def the_posts(frames: list[str]) -> set[str]:
    """The posts a watch on "the" keeps (as test_jetstream.py counts them)."""
    out = set()
    for f in frames:
        p = json.loads(f)["payload"]
        text = str(p.get("record", {}).get("text", "")).lower()
        if p.get("collection") == "app.bsky.feed.post" and "the" in re.findall(r"\w+", text):
            out.add(f"at://{p['did']}/app.bsky.feed.post/{p['rkey']}")
    return out


def test_a_dropped_connection_resumes_from_the_stored_seq_and_stores_each_post_once(
    sqlite_engine: Engine, ws_server: WsReplay
) -> None:
    frames = window_v2()
    assert json.loads(frames[55])["payload"]["collection"] == "app.bsky.feed.post"  # the one repeated
    ws_server.play(
        Script(frames=frames, drop_after=56, by_cursor=seq_of, pace_s=0.002),
        Script(frames=frames, by_cursor=seq_of),
    )
    adapter = JetstreamV2Adapter(ws_server.url(V2_PATH), search_source())
    with running(sqlite_engine, adapter, [watch("all", keywords=("the",))], backoff=FAST):
        ws_server.wait_for(lambda: get_stream(sqlite_engine, adapter.key).cursor == str(FIRST_SEQ + 151))
        health = get_stream(sqlite_engine, adapter.key)
    first, second = ws_server.connections[:2]
    assert first.path == V2_PATH and first.query == {"kinds": "commit", "collections": "app.bsky.feed.post"}
    # The seq as stored, no rewinding: the server replays it inclusively, and that one repeat is dropped.
    assert second.query["cursor"] == str(FIRST_SEQ + 55) and second.sent == 152 - 55
    assert health.events_total == 152 and health.reconnects == 1
    assert set(stored(sqlite_engine)) == the_posts(frames) != set()


def test_a_restart_resumes_from_the_stored_seq_and_the_store_absorbs_the_repeat(
    sqlite_engine: Engine, ws_server: WsReplay
) -> None:
    frames = window_v2()[:148]  # ends on a post, the one the resume repeats
    ws_server.play(Script(frames=frames, by_cursor=seq_of))
    watches = [watch("all", keywords=("the",))]
    adapter = JetstreamV2Adapter(ws_server.url(V2_PATH), search_source())
    with running(sqlite_engine, adapter, watches):
        ws_server.wait_for(lambda: get_stream(sqlite_engine, adapter.key).cursor == str(FIRST_SEQ + 147))
    before = stored(sqlite_engine)
    # A new runner remembers no keys: the repeated post meets the store, which keeps it once.
    with running(sqlite_engine, JetstreamV2Adapter(ws_server.url(V2_PATH), search_source()), watches):
        ws_server.wait_for(lambda: len(ws_server.connections) >= 2 and ws_server.connections[1].sent == 1)
        ws_server.wait_for(lambda: get_stream(sqlite_engine, adapter.key).events_total >= 149)
    assert ws_server.connections[1].query["cursor"] == str(FIRST_SEQ + 147)
    assert stored(sqlite_engine) == before and set(before) == the_posts(frames)
    with sqlite_engine.connect() as connection:
        assert connection.execute(select(mention_versions)).all() == []  # the repeat is no edit


def test_a_seq_refused_as_too_old_is_caught_up_over_search_then_streams_from_now(
    sqlite_engine: Engine, ws_server: WsReplay, replay_server: ReplayServer
) -> None:
    """The refusal is the lexicon's CursorTooOld as the RFD's pre-upgrade 400 XRPC envelope."""
    post = {
        "uri": "at://did:plc:abc/app.bsky.feed.post/3kzzz",
        "cid": "bafyreib",
        "author": {"did": "did:plc:abc", "handle": "carol.bsky.social"},
        "record": {"text": "acme lost my order", "createdAt": "2026-12-01T10:00:00Z"},
        "indexedAt": "2026-12-01T10:00:01Z",
    }
    replay_server.route("GET", "/xrpc/app.bsky.feed.searchPosts", Reply.json({"posts": [post]}))
    key = StreamKey("bluesky", ws_server.url(V2_PATH))
    set_cursor(sqlite_engine, key, "1100")
    ws_server.play(
        Script(refuse=(400, '{"error":"CursorTooOld","message":"cursor 1100 is below the floor seq 1200"}')),
        Script(frames=[]),
    )
    adapter = JetstreamV2Adapter(key.endpoint, search_source(replay_server))
    with running(sqlite_engine, adapter, [watch("acme", keywords=("acme",))]):
        ws_server.wait_for(
            lambda: len(ws_server.connections) >= 2 and get_stream(sqlite_engine, key).connected
        )
    assert stored(sqlite_engine)[str(post["uri"])]["watches"] == {"acme"}
    assert ws_server.connections[0].query["cursor"] == "1100"
    assert "cursor" not in ws_server.connections[1].query  # from now: the gap came from search
    assert "CursorTooOld" in (get_stream(sqlite_engine, key).fell_back_reason or "")


def test_consumer_too_slow_reconnects_after_the_backoff_from_the_stored_seq(
    sqlite_engine: Engine, ws_server: WsReplay
) -> None:
    frames = window_v2()
    ws_server.play(
        Script(frames=[*frames[:60], rfd_error_frame()], keep_open=False),
        Script(frames=frames, by_cursor=seq_of),
    )
    adapter = JetstreamV2Adapter(ws_server.url(V2_PATH), search_source())  # search unreachable: unused
    with running(sqlite_engine, adapter, [watch("all", keywords=("the",))], backoff=FAST):
        ws_server.wait_for(lambda: get_stream(sqlite_engine, adapter.key).cursor == str(FIRST_SEQ + 151))
        health = get_stream(sqlite_engine, adapter.key)
    assert ws_server.connections[1].query["cursor"] == str(FIRST_SEQ + 59)
    assert health.reconnects == 1 and health.fell_back_reason is None  # no search catch-up
    assert health.events_total == 152
    assert set(stored(sqlite_engine)) == the_posts(frames)
