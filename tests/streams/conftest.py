"""Shared by the stream tests: the recordings (read in place; a missing one fails the test), a real
websocket server on loopback (tests/support/ws_replay.py), and a runner in a thread of its own."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from monitor.mention import Watch
from monitor.store.schema import mention_watches, mentions
from monitor.streams.host import StreamHost
from monitor.streams.runner import Adapter, StreamRunner
from tests.support.cassettes import PAYLOADS, load
from tests.support.ws_replay import ws_server

__all__ = ["ws_server"]

JETSTREAM = PAYLOADS / "bluesky_jetstream"
MASTODON = PAYLOADS / "mastodon_streaming"
WINDOW_152 = JETSTREAM / "recorded_jetstream-v1_production_152-events-contiguous-window.jsonl"
GOLDEN_10 = JETSTREAM / "recorded_jetstream-v1_production_10-events-golden.jsonl"
MANIFEST_152 = JETSTREAM / "recorded_152-events_capture-manifest.json"
RFD = JETSTREAM / "official-doc_RFD-section5_v1-and-v2-wire-examples.md"
SSE_USER_DIRECT = (
    MASTODON
    / "recorded_vcr_streaming-user+direct_SSE_update-delete-status.update-notification-conversation.yaml"
)
SSE_USER = MASTODON / "recorded_vcr_streaming-user_SSE_update.yaml"
STREAMING_DOC = MASTODON / "official-doc_methods-streaming.md"


def need(path: Path) -> Path:
    assert path.exists(), f"missing recording {path}: the stream tests need ../shared/data/payloads"
    return path


def jetstream_lines(path: Path) -> list[str]:
    return [line for line in need(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def recent(lines: Sequence[str], newest: datetime | None = None) -> list[str]:
    """The events moved in time so the newest is now (their order and spacing kept): a recorded
    cursor from months ago would be too old for Jetstream to resume from."""
    events = [json.loads(line) for line in lines]
    target = int((newest or datetime.now(UTC)).timestamp() * 1_000_000)
    shift = target - max(int(e["time_us"]) for e in events)
    for event in events:
        event["time_us"] = int(event["time_us"]) + shift
    return [json.dumps(event) for event in events]


def sse_events(path: Path) -> list[tuple[str, str]]:
    """(event, data) pairs of every streaming response of a vcrpy cassette, in order."""
    pairs: list[tuple[str, str]] = []
    for interaction in load(need(path)):
        if "/streaming/" not in interaction.url or interaction.status != 200:
            continue
        for block in interaction.body.decode("utf-8").split("\n\n"):
            event = data = None
            for line in block.splitlines():
                if line.startswith("event:"):
                    event = line.removeprefix("event:").strip()
                elif line.startswith("data:"):
                    data = line.removeprefix("data:").strip()
            if event is not None and data is not None:
                pairs.append((event, data))
    return pairs


def as_websocket_frame(event: str, data: str, stream: Sequence[str] = ("hashtag", "acme")) -> str:
    """The SSE event as the websocket carries it (the documented framing: the payload is the same
    string, inside {"stream", "event", "payload"}). The recordings are SSE only; no websocket one exists."""
    return json.dumps({"stream": list(stream), "event": event, "payload": data})


def doc_websocket_frames(path: Path) -> list[dict[str, Any]]:
    """The documented websocket frames ({"stream": [...], "event": ..., ...}) in the streaming doc."""
    frames = []
    for block in re.findall(r"```json\n(.*?)```", need(path).read_text(encoding="utf-8"), re.DOTALL):
        try:
            data = json.loads(block)
        except ValueError:
            continue
        if isinstance(data, dict) and "event" in data and "stream" in data:
            frames.append(data)
    return frames


@contextmanager
def running(
    engine: Engine, adapter: Adapter, watches: Sequence[Watch], **kwargs: Any
) -> Iterator[StreamRunner]:
    runner = StreamRunner(engine, adapter, watches, holder="test:1", **kwargs)
    host = StreamHost(engine, [runner]).start()
    try:
        yield runner
    finally:
        host.stop()


def stored(engine: Engine) -> dict[str, dict[str, Any]]:
    """Every stored mention by external id: text, deleted_at and the watches it belongs to."""
    # One statement: the stream writes while this reads, and SQLite gives each SELECT its own snapshot.
    query = select(
        mentions.c.external_id, mentions.c.text, mentions.c.deleted_at, mention_watches.c.watch
    ).select_from(mentions.outerjoin(mention_watches, mention_watches.c.mention_id == mentions.c.id))
    out: dict[str, dict[str, Any]] = {}
    with engine.connect() as connection:
        for r in connection.execute(query):
            entry = out.setdefault(
                r.external_id, {"text": r.text, "deleted_at": r.deleted_at, "watches": set()}
            )
            if r.watch is not None:
                entry["watches"].add(r.watch)
    return out
