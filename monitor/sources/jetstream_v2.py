"""Bluesky Jetstream v2: the `network.bsky.jetstream.subscribeEvents` XRPC stream (RFD section 5.2).

Every frame is one JSON object: a message `{"$type": "message", "payload": {...}}` whose payload is
one of the lexicon's `#commit`, `#identity`, `#account`, `#sync` or `#info`, or a terminal error
`{"$type": "error", "error": "ConsumerTooSlow", "message": ...}`. A post's create or update becomes
the same `Mention` the v1 parser makes (sources/jetstream.py), so one post is one mention whichever
wire or the search API brought it.

Cursors: `seq` is the instance's own sequence number, opaque to us (no rewinding by seconds: it is
not a time). The server replays from a cursor inclusively, so a reconnect sends the newest stored seq
and the one repeat is dropped. A seq below the server's floor is refused before the upgrade with an
HTTP 400 naming `CursorTooOld` (the runner's handshake mapping), never silently clamped as v1 does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from monitor.sources.bluesky import POST_COLLECTION
from monitor.sources.http import SkipLog
from monitor.sources.jetstream import DEFAULT_JETSTREAM_URL, StreamEvent, post_mention
from monitor.sources.text import as_int, as_mapping, as_str, parse_time

NSID = "network.bsky.jetstream.subscribeEvents"
XRPC_PATH = f"/xrpc/{NSID}"
DEFAULT_JETSTREAM_V2_URL = urlunsplit(urlsplit(DEFAULT_JETSTREAM_URL)._replace(path=XRPC_PATH))
# Query parameters we set ourselves; the v1 names are rejected by a v2 server with a 400.
_OURS = ("cursor", "kinds", "collections", "wantedCollections", "wantedDids")


@dataclass(frozen=True)
class Info:
    """An advisory `#info` frame (OutdatedCursor after a clamped timestamp cursor): no seq, no event."""

    name: str
    message: str


@dataclass(frozen=True)
class ErrorFrame:
    """A terminal `{"$type": "error"}` frame: the server closes the connection right after it."""

    error: str
    message: str


Frame = StreamEvent | Info | ErrorFrame


def stream_url(endpoint: str) -> str:
    """The v2 endpoint of a configured Jetstream URL: a host alone or the v1 `/subscribe` path gets
    the XRPC path, so `jetstream_url` can stay as it was when switching protocols."""
    parts = urlsplit(endpoint)
    path = parts.path.rstrip("/")
    if path.endswith(XRPC_PATH):
        return endpoint
    path = path.removesuffix("/subscribe") + XRPC_PATH
    return urlunsplit(parts._replace(path=path))


def subscribe_url(endpoint: str, cursor: int | None) -> str:
    """Commits of posts only (`kinds` too: `collections` alone still lets every identity, account and
    sync event through), from `cursor` inclusive when resuming; any other query kept."""
    parts = urlsplit(endpoint)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in _OURS]
    query += [("kinds", "commit"), ("collections", POST_COLLECTION)]
    if cursor is not None:
        query.append(("cursor", str(cursor)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def parse_message(message: str | bytes, skips: SkipLog) -> Frame | None:
    """One websocket frame. None (counted in `skips`) for a frame that is none of the lexicon's."""
    try:
        data = json.loads(message)
    except (ValueError, UnicodeDecodeError):
        skips.skip("not JSON")
        return None
    if not isinstance(data, Mapping):
        skips.skip("not an object")
        return None
    frame_type = data.get("$type")
    if frame_type == "error":
        return ErrorFrame(as_str(data.get("error")) or "unnamed error", as_str(data.get("message")) or "")
    if frame_type != "message":
        skips.skip("neither a message nor an error frame")
        return None
    return parse_payload(as_mapping(data.get("payload")), skips)


def parse_payload(payload: Mapping[str, Any], skips: SkipLog) -> Frame | None:
    kind = _variant(payload.get("$type"))
    if kind == "info":
        return Info(as_str(payload.get("name")) or "unnamed", as_str(payload.get("message")) or "")
    seq = as_int(payload.get("seq"))
    did = as_str(payload.get("did"))
    at = parse_time(payload.get("time"))
    if seq is None or did is None or at is None:
        skips.skip("messages without seq, did or time")
        return None
    # seq is unique on one instance (and one instance is one stream): the repeat after a resume.
    key = f"seq:{seq}"
    operation = as_str(payload.get("operation")) or ""
    rkey = as_str(payload.get("rkey"))
    if kind != "commit" or payload.get("collection") != POST_COLLECTION or rkey is None:
        # identity, account, sync, another collection, or a variant newer than this code: the
        # cursor still moves past it.
        return StreamEvent(seq, at, key)
    uri = f"at://{did}/{POST_COLLECTION}/{rkey}"
    if operation == "delete":
        return StreamEvent(seq, at, key, deleted=uri)
    if operation not in ("create", "update"):
        return StreamEvent(seq, at, key)
    # A v2 commit carries record and cid at the top of the payload, where v1 nests them in "commit".
    return StreamEvent(seq, at, key, mention=post_mention(uri, did, payload, at, skips))


def _variant(value: Any) -> str:
    """ "commit" from `network.bsky.jetstream.subscribeEvents#commit` (or a bare `#commit`)."""
    text = as_str(value) or ""
    nsid, _, fragment = text.partition("#")
    return fragment if nsid in ("", NSID) else ""
