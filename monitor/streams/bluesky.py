"""The Jetstream stream's rules: resume from the stored `time_us` less a few seconds, and, when that
is too old for the server, catch up over the search API (the bluesky source's own collection)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine

from monitor.collect.run import collect
from monitor.errors import StreamCursorTooOld
from monitor.mention import Watch
from monitor.sources import jetstream
from monitor.sources.base import Source
from monitor.sources.http import SkipLog
from monitor.store.streams import StreamKey
from monitor.streams.fanout import Event

log = logging.getLogger(__name__)


class JetstreamAdapter:
    catch_up_on_connect = False  # Jetstream replays from its cursor

    def __init__(
        self,
        endpoint: str,
        search: Source,
        *,
        rewind: timedelta = jetstream.DEFAULT_REWIND,
    ) -> None:
        self.key = StreamKey("bluesky", endpoint)
        self.endpoint = endpoint
        self.search = search
        self.rewind = rewind

    def url(self, cursor: str | None, now: datetime) -> str:
        stored = _time_us(cursor)
        if stored is not None and jetstream.cursor_too_old(stored, now):
            # v1 would start at its oldest event without a word: the gap must come from search.
            since = jetstream.cursor_time(stored).isoformat(timespec="seconds")
            raise StreamCursorTooOld(
                self.key.source, f"the stored cursor ({since}) is older than Jetstream keeps"
            )
        return jetstream.subscribe_url(self.endpoint, jetstream.resume_cursor(stored, self.rewind))

    def headers(self) -> dict[str, str]:
        return {}

    def subscriptions(self, watches: Sequence[Watch]) -> list[str]:
        return []

    def parse(self, message: str | bytes, skips: SkipLog) -> Event | None:
        event = jetstream.parse_message(message, skips)
        if event is None:
            return None
        return Event(event.key, event.at, str(event.cursor), event.mention, event.deleted)

    def advance(self, cursor: str | None, events: Sequence[Event]) -> str | None:
        # Events of one moment arrive slightly out of order: the newest so far is the cursor.
        positions = [p for p in (_time_us(cursor), *(_time_us(e.position) for e in events)) if p is not None]
        return str(max(positions)) if positions else cursor

    def catch_up(self, engine: Engine, watches: Sequence[Watch], cursor: str | None) -> str | None:
        for watch in watches:
            result = collect(engine, watch, self.search, force=True)
            log.info(
                "bluesky: caught %s up over search: %d new (%s)", watch.name, result.new, result.error or "ok"
            )
        return None


def _time_us(cursor: str | None) -> int | None:
    return int(cursor) if cursor and cursor.isdigit() else None
