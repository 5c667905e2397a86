"""The Mastodon stream's rules: subscribe each watch's hashtags (or public / a list), remember the
newest status seen, and after every reconnection fetch over REST what came since it (Mastodon does not
replay), storing it like a streamed batch."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import Engine

from monitor.collect.matching import matches
from monitor.errors import SourceAuthError, SourceError
from monitor.mention import Mention, Watch
from monitor.sources import mastodon_stream
from monitor.sources.base import Source
from monitor.sources.http import SkipLog
from monitor.store.streams import Progress, StreamKey, record_fallback
from monitor.streams.fanout import Event
from monitor.streams.saving import save_stream_batch

log = logging.getLogger(__name__)

MAX_CATCH_UP_PAGES = 20


def _id_order(status_id: str) -> tuple[int, str]:
    return (int(status_id), "") if status_id.isdigit() else (0, status_id)


def _position(mention: Mention) -> str:
    return json.dumps({"id": mention.external_id, "at": mention.created_at.timestamp()})


def _read(cursor: str | None) -> tuple[str, float] | None:
    try:
        data = json.loads(cursor or "")
        return str(data["id"]), float(data["at"])
    except (ValueError, KeyError, TypeError):
        return None


class MastodonAdapter:
    catch_up_on_connect = True  # a gap is never replayed

    def __init__(self, endpoint: str, rest: Source, token: str | None) -> None:
        self.key = StreamKey("mastodon", endpoint)
        self.endpoint = endpoint
        self.rest = rest
        self._token = token

    def url(self, cursor: str | None, now: datetime) -> str:
        if not self._token:
            raise SourceAuthError(
                "mastodon",
                "streaming needs a user access token since Mastodon 4.2: set GRUMBLE_MASTODON_ACCESS_TOKEN "
                "(or access_token in [sources.mastodon]), made under Preferences > Development with the "
                "read scope",
            )
        return self.endpoint

    def headers(self) -> dict[str, str]:
        # The header, never the access_token parameter: URLs end up in access logs.
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    def subscriptions(self, watches: Sequence[Watch]) -> list[str]:
        return [json.dumps(message) for message in mastodon_stream.subscriptions(watches, True)]

    def parse(self, message: str | bytes, skips: SkipLog) -> Event | None:
        error = _error_frame(message)
        if error is not None:
            raise error
        event = mastodon_stream.parse_frame(message, skips)
        if event is None:
            return None
        mention = event.mention
        position = _position(mention) if mention is not None and not event.edited else None
        at = mention.created_at if mention is not None and not event.edited else None
        return Event(event.key, at, position, mention, event.deleted)

    def advance(self, cursor: str | None, events: Sequence[Event]) -> str | None:
        """The newest status seen (by Mastodon's id order): where a REST catch-up starts."""
        best = _read(cursor)
        for event in events:
            seen = _read(event.position)
            if seen is not None and (best is None or _id_order(seen[0]) > _id_order(best[0])):
                best = seen
        return json.dumps({"id": best[0], "at": best[1]}) if best else cursor

    def catch_up(self, engine: Engine, watches: Sequence[Watch], cursor: str | None) -> str | None:
        last = _read(cursor)
        if last is None:
            return cursor
        last_id, last_at = last
        per_watch: dict[str, list[Mention]] = {}
        newest: list[Event] = []
        for watch in watches:
            watch_cursor: str | None = mastodon_stream.backfill_cursor(
                watch, bool(self._token), last_at, last_id
            )
            kept: list[Mention] = []
            for _ in range(MAX_CATCH_UP_PAGES):
                page = self.rest.fetch(watch, watch_cursor)
                kept += [m for m in page.mentions if matches(watch, m, need_keyword=page.unsearched)]
                newest += [Event(m.external_id, m.created_at, _position(m), m) for m in page.mentions]
                watch_cursor = page.next_cursor
                if not page.has_more:
                    break
            per_watch[watch.name] = kept
        moved = self.advance(cursor, newest)
        new = save_stream_batch(engine, self.key, per_watch, [], moved, Progress(0, None, None, None)).new
        found = sum(len(batch) for batch in per_watch.values())
        record_fallback(
            engine, self.key, f"reconnected: {found} status(es) missed while disconnected fetched over REST"
        )
        log.info("mastodon: caught up over REST after a disconnect: %d found, %d new", found, new)
        return moved


def _error_frame(message: str | bytes) -> SourceError | None:
    """`{"error": "...", "status": 401}`: the server's answer to a bad subscription or token."""
    try:
        frame = json.loads(message)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(frame, Mapping) or "error" not in frame or "event" in frame:
        return None
    status = frame.get("status")
    detail = f"the streaming server said: {frame.get('error')}" + (f" ({status})" if status else "")
    if status in (401, 403):
        return SourceAuthError("mastodon", f"{detail}; check GRUMBLE_MASTODON_ACCESS_TOKEN")
    return SourceError("mastodon", detail)
