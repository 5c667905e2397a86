"""The Jetstream stream's rules, one adapter per wire: v1 resumes from the stored `time_us` less a few
seconds; v2 from the stored seq as it is. When the cursor is too old for the server (v1: judged here;
v2: the server's `CursorTooOld`), the watches catch up over the search API (the bluesky source's own
collection) and the stream starts again from now."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine

from monitor.collect.run import collect
from monitor.errors import SourceError, SourceUnavailable, StreamCursorTooOld
from monitor.mention import Watch
from monitor.sources import jetstream, jetstream_v2
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
        stored = _number(cursor)
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
        return largest_position(cursor, events)

    def catch_up(self, engine: Engine, watches: Sequence[Watch], cursor: str | None) -> str | None:
        catch_up_over_search(engine, watches, self.search)
        return None


class JetstreamV2Adapter:
    """`jetstream_protocol = "v2"`: the subscribeEvents XRPC stream (sources/jetstream_v2.py)."""

    catch_up_on_connect = False  # v2 replays from its cursor too, or refuses it (CursorTooOld)

    def __init__(self, endpoint: str, search: Source) -> None:
        self.key = StreamKey("bluesky", endpoint)
        self.endpoint = endpoint
        self.search = search

    def url(self, cursor: str | None, now: datetime) -> str:
        # Inclusive resume from the seq as stored: the repeated event is dropped by its key (or
        # absorbed by the store). A seq too old is the server's to judge: it refuses it with a 400.
        return jetstream_v2.subscribe_url(self.endpoint, _number(cursor))

    def headers(self) -> dict[str, str]:
        return {}

    def subscriptions(self, watches: Sequence[Watch]) -> list[str]:
        return []  # server-push only: any frame we sent would close the connection

    def parse(self, message: str | bytes, skips: SkipLog) -> Event | None:
        frame = jetstream_v2.parse_message(message, skips)
        if isinstance(frame, jetstream_v2.Info):
            log.info("bluesky: Jetstream v2 notice %s: %s", frame.name, frame.message or "(no message)")
            return None
        if isinstance(frame, jetstream_v2.ErrorFrame):
            raise stream_error(frame)
        if frame is None:
            return None
        return Event(frame.key, frame.at, str(frame.cursor), frame.mention, frame.deleted)

    def advance(self, cursor: str | None, events: Sequence[Event]) -> str | None:
        # seq only grows on one instance: the largest seen is where to resume.
        return largest_position(cursor, events)

    def catch_up(self, engine: Engine, watches: Sequence[Watch], cursor: str | None) -> str | None:
        catch_up_over_search(engine, watches, self.search)
        return None


def stream_error(frame: jetstream_v2.ErrorFrame) -> SourceError:
    """What a terminal error frame means to the runner: ConsumerTooSlow is a dropped connection
    (reconnect after the backoff, from the stored seq); CursorTooOld, documented as a pre-upgrade 400
    only, is handled the same way should a server send it as a frame; any other error is reported in
    the stream's health and retried after the backoff too."""
    detail = f"Jetstream closed the stream with {frame.error}: {frame.message or '(no message)'}"
    if frame.error == "ConsumerTooSlow":
        return SourceUnavailable("bluesky", f"{detail} (reading too slowly; reconnecting)")
    if frame.error == "CursorTooOld":
        return StreamCursorTooOld("bluesky", detail)
    return SourceError("bluesky", detail)


def catch_up_over_search(engine: Engine, watches: Sequence[Watch], search: Source) -> None:
    """Each watch collected over the search API now; the stream then starts from now (no cursor)."""
    for watch in watches:
        result = collect(engine, watch, search, force=True)
        log.info(
            "bluesky: caught %s up over search: %d new (%s)", watch.name, result.new, result.error or "ok"
        )


def largest_position(cursor: str | None, events: Sequence[Event]) -> str | None:
    """The largest of the cursor and the events' positions (both wires' cursors are numbers)."""
    positions = [p for p in (_number(cursor), *(_number(e.position) for e in events)) if p is not None]
    return str(max(positions)) if positions else cursor


def _number(cursor: str | None) -> int | None:
    """The stored cursor as a number (v1: unix microseconds; v2: a seq)."""
    return int(cursor) if cursor and cursor.isdigit() else None
