"""Bluesky Jetstream (v1 `/subscribe`): a websocket of every repository commit, as JSON.

We ask for `wantedCollections=app.bsky.feed.post` only; the stream is not searched for the watch's
keywords or languages (`unsearched`: the stream runner matches them on our side). A post's create or
update becomes a `Mention` with the same id and link as the search source (monitor/sources/bluesky.py),
so a post seen by both is one mention; a delete names the post that is gone.

Cursors: v1 `time_us` is unix microseconds. Delivery is at least once and the events of one moment
arrive slightly out of order, so a reconnect asks from a few seconds before the newest event stored
(`resume_cursor`) and the runner drops what it has already seen. v1 silently starts a too-old cursor
at the oldest event it keeps (36 hours): the gap would be lost without a word, so a cursor that old
is not sent at all (`cursor_too_old`) and the watches are backfilled over the search API instead,
as for a v2 server's pre-upgrade `CursorTooOld` refusal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from monitor.mention import Mention
from monitor.sources.bluesky import POST_COLLECTION, BlueskySource, permalink
from monitor.sources.http import SkipLog
from monitor.sources.text import as_int, as_mapping, as_str, dig, parse_time

DEFAULT_JETSTREAM_URL = "wss://jetstream2.us-east.bsky.network/subscribe"
DEFAULT_REWIND = timedelta(seconds=5)
# v1 keeps 36 hours; an hour's margin so a cursor near the edge is not clamped while we reconnect.
LOOKBACK = timedelta(hours=35)


@dataclass(frozen=True)
class StreamEvent:
    """One event as the runner needs it: a post (created or edited), a deleted post, or neither (a
    commit of another kind, identity, account), which still moves the cursor."""

    cursor: int
    at: datetime  # when the server saw the event: what lag is measured against
    key: str  # the event's identity, for dropping a repeat after a rewind
    mention: Mention | None = None
    deleted: str | None = None


def subscribe_url(endpoint: str, cursor: int | None) -> str:
    """The endpoint with the post collection wanted and, to resume, a cursor (kept query kept)."""
    parts = urlsplit(endpoint)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("wantedCollections", "cursor")]
    query.append(("wantedCollections", POST_COLLECTION))
    if cursor is not None:
        query.append(("cursor", str(cursor)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def resume_cursor(stored: int | None, rewind: timedelta = DEFAULT_REWIND) -> int | None:
    """Where to reconnect: a few seconds before the newest stored event (repeats are dropped)."""
    if stored is None:
        return None
    return max(stored - int(rewind.total_seconds() * 1_000_000), 0)


def cursor_too_old(stored: int, now: datetime) -> bool:
    """True when v1 would silently skip events after `stored`: older than the server keeps."""
    return datetime.fromtimestamp(stored / 1_000_000, UTC) < now - LOOKBACK


def cursor_time(cursor: int) -> datetime:
    return datetime.fromtimestamp(cursor / 1_000_000, UTC)


def parse_message(message: str | bytes, skips: SkipLog) -> StreamEvent | None:
    """One websocket text frame. None (counted in `skips`) for a frame that is not an event."""
    try:
        data = json.loads(message)
    except (ValueError, UnicodeDecodeError):
        skips.skip("not JSON")
        return None
    return parse_event(data, skips)


def parse_event(event: Any, skips: SkipLog) -> StreamEvent | None:
    if not isinstance(event, Mapping):
        skips.skip("not an object")
        return None
    time_us = as_int(event.get("time_us"))
    did = as_str(event.get("did"))
    if time_us is None or did is None:
        skips.skip("without time_us or did")
        return None
    at = cursor_time(time_us)
    commit = as_mapping(event.get("commit"))
    kind = as_str(event.get("kind")) or ""
    operation = as_str(commit.get("operation")) or ""
    rkey = as_str(commit.get("rkey"))
    key = f"{did}|{kind}|{operation}|{rkey}|{commit.get('rev')}|{time_us}"
    if kind != "commit" or commit.get("collection") != POST_COLLECTION or rkey is None:
        return StreamEvent(time_us, at, key)
    uri = f"at://{did}/{POST_COLLECTION}/{rkey}"
    if operation == "delete":
        return StreamEvent(time_us, at, key, deleted=uri)
    if operation not in ("create", "update"):
        return StreamEvent(time_us, at, key)
    mention = post_mention(uri, did, commit, at, skips)
    return StreamEvent(time_us, at, key, mention=mention)


def post_mention(
    uri: str, did: str, commit: Mapping[str, Any], at: datetime, skips: SkipLog
) -> Mention | None:
    """The post in a commit's `record` (and `cid`); also the v2 parser's (sources/jetstream_v2.py)."""
    record = as_mapping(commit.get("record"))
    text = record.get("text")
    if not isinstance(text, str):
        skips.skip("posts without record.text")
        return None
    langs = record.get("langs")
    # Shaped like a postView (uri, cid, record, author), so replying finds the cid and thread root.
    raw = {"uri": uri, "cid": as_str(commit.get("cid")), "record": dict(record), "author": {"did": did}}
    return Mention(
        source=BlueskySource.name,
        external_id=uri,
        text=text,
        created_at=parse_time(record.get("createdAt")) or at,
        author=did,  # the stream carries no handle; the search source fills it in when it meets the post
        url=permalink(uri, None),
        parent_id=as_str(dig(record, "reply", "parent", "uri")),
        language=as_str(langs[0]) if isinstance(langs, list) and langs else None,
        raw=raw,
    )
