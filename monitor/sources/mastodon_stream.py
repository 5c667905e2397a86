"""Mastodon streaming: one multiplexed websocket (`/api/v1/streaming`) per instance.

Each streamed watch subscribes its hashtags (`{"type":"subscribe","stream":"hashtag","tag":...}`), or,
with a user token, the public timeline or a list (Mastodon 4.2+ needs a user token for every stream; it
goes in the Authorization header, never in the URL, so no access log keeps it). Frames are
`{"stream":[...],"event":...,"payload":"<JSON as a string>"}`: `update` is a new status, `status.update`
an edit (the same id, updated in place), `delete` a status id that is gone.

Mastodon does not replay what was missed while disconnected: after a gap the runner backfills over
REST (monitor/sources/mastodon.py's fetch) from the newest status seen (`backfill_cursor`) before it
reads the stream again. Statuses keep mastodon.py's ids, so REST and stream give one mention.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from monitor.mention import Mention, Watch, utcnow
from monitor.sources.http import SkipLog, option_list
from monitor.sources.mastodon import DEFAULT_BASE_URL, _hashtag, parse_status
from monitor.sources.paging import StreamState, encode_cursor, search_terms
from monitor.sources.text import as_str

STREAMING_PATH = "/api/v1/streaming"


@dataclass(frozen=True)
class StatusEvent:
    """One frame as the runner needs it: a status (new or edited), a deleted status id, or neither."""

    key: str  # the frame's identity, for dropping a repeat
    at: datetime
    mention: Mention | None = None
    deleted: str | None = None
    edited: bool = False


def streaming_url(base_url: str | None, configured: str | None = None) -> str:
    """`streaming_url` as configured, else the instance's own address over ws(s)."""
    if configured:
        return configured
    parts = urlsplit(base_url or DEFAULT_BASE_URL)
    scheme = "ws" if parts.scheme == "http" else "wss"
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + STREAMING_PATH, "", ""))


def stream_option(watch: Watch) -> Any:
    return watch.options_for("mastodon").get("stream")


def subscriptions(watches: Iterable[Watch], has_token: bool) -> list[dict[str, str]]:
    """The subscribe messages for every streamed watch, each asked once.

    `stream = true`: the watch's hashtags (or its keywords as hashtags); `stream = "public"`: the whole
    public timeline, matched on our side; `stream = "list:<id>"`: one of the token's lists."""
    wanted: dict[tuple[str, str], dict[str, str]] = {}
    for watch in watches:
        option = stream_option(watch)
        if isinstance(option, str) and option.startswith("list:"):
            list_id = option.removeprefix("list:")
            wanted[("list", list_id)] = {"type": "subscribe", "stream": "list", "list": list_id}
        elif option == "public":
            wanted[("public", "")] = {"type": "subscribe", "stream": "public"}
        else:
            for tag in hashtags(watch):
                # Tags are case-insensitive: one subscription, spelt as first written.
                wanted.setdefault(
                    ("hashtag", tag.lower()), {"type": "subscribe", "stream": "hashtag", "tag": tag}
                )
    del has_token  # every stream needs the token since 4.2; the runner says so when it is missing
    return list(wanted.values())


def hashtags(watch: Watch) -> list[str]:
    options = watch.options_for("mastodon")
    tags = [_hashtag(t) for t in option_list(options, "hashtags")]
    if not any(tags):
        tags = [_hashtag(term) for term in search_terms(watch.keywords, watch.required)]
    return [t for t in tags if t]


def parse_frame(message: str | bytes, skips: SkipLog) -> StatusEvent | None:
    """One websocket frame; None for what is not an event (an error frame raises in the runner)."""
    try:
        frame = json.loads(message)
    except (ValueError, UnicodeDecodeError):
        skips.skip("frames that are not JSON")
        return None
    if not isinstance(frame, Mapping):
        skips.skip("frames that are not objects")
        return None
    return parse_event(as_str(frame.get("event")) or "", frame.get("payload"), skips)


def parse_event(event: str, payload: Any, skips: SkipLog) -> StatusEvent | None:
    """An event by name and payload, as the websocket frame or an SSE `event:`/`data:` pair gives it."""
    now = utcnow()
    if event == "delete":
        status_id = as_str(payload)
        if status_id is None:
            skips.skip("delete events without an id")
            return None
        return StatusEvent(f"delete|{status_id}", now, deleted=status_id.strip())
    if event not in ("update", "status.update"):
        return StatusEvent(f"{event}|{now.timestamp()}", now)  # notifications, filters_changed...
    status: Any = payload
    if isinstance(payload, str):
        try:
            status = json.loads(payload)
        except ValueError:
            skips.skip(f"{event} events with a payload that is not JSON")
            return None
    parsed = parse_status(status, skips)
    if parsed is None:
        return None
    _, mention = parsed
    edited_at = as_str(status.get("edited_at")) if isinstance(status, Mapping) else None
    return StatusEvent(
        f"{event}|{mention.external_id}|{edited_at or ''}",
        now,
        mention=mention,
        edited=event == "status.update",
    )


def backfill_cursor(watch: Watch, has_token: bool, last_created: float, last_id: str) -> str:
    """A mastodon.py cursor whose every listing is marked at the newest status the stream stored, so
    its fetch returns only what came after: the same listings its `fetch` asks for this watch."""
    options = watch.options_for("mastodon")
    tags = [t for t in (_hashtag(t) for t in option_list(options, "hashtags")) if t]
    terms = search_terms(watch.keywords, watch.required)
    if not tags and not has_token:
        tags = [t for t in (_hashtag(term) for term in terms) if t]
    keys = ["tags:" + ",".join(tags)] if tags else [f"search:{term}" for term in terms]
    mark = StreamState(mark=last_created, mark_ids=(last_id,))
    return encode_cursor(dict.fromkeys(keys, mark))
