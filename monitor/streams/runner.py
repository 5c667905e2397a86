"""One live connection: connect, read, store in batches, and reconnect with the backoff rule.

A receiving task reads frames as fast as the server sends them into a queue; the storing task takes
everything queued at once (up to `max_batch`), drops repeats (a bounded set of event keys: delivery
is at least once, and a reconnect rewinds), routes the rest to the watches, and stores them with the
cursor after them in one transaction (store/streams.py). So a burst becomes a few large transactions
instead of many small ones, and a quiet stream stores each event as it comes.

Failures (refused handshake, dropped connection, an error frame) are SourceErrors in the stream's
health; the next try waits as monitor/backoff.py says (a connection that stayed up a while starts
the count again). A stored cursor the server can no longer resume from is a `StreamCursorTooOld`:
the adapter catches the watches up over REST, and the stream starts again from now.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from monitor.backoff import Backoff
from monitor.errors import (
    SourceAuthError,
    SourceError,
    SourceNotFound,
    SourceRateLimited,
    SourceUnavailable,
    StreamCursorTooOld,
)
from monitor.mention import Watch, utcnow
from monitor.observe.metrics import count_collected
from monitor.sources.http import SkipLog
from monitor.store.streams import (
    Progress,
    StreamKey,
    get_stream,
    record_connection,
    record_fallback,
    record_heartbeat,
    record_stopped,
    set_cursor,
)
from monitor.streams.fanout import Event, route
from monitor.streams.saving import save_stream_batch

log = logging.getLogger(__name__)

# Seconds, then doubling up to five minutes: a stream is worth getting back quickly.
STREAM_BACKOFF = Backoff(base=timedelta(seconds=1), cap=timedelta(minutes=5))
# A connection that stayed up this long was healthy: the next failure counts from one again.
HEALTHY_AFTER_S = 60.0
HEARTBEAT_S = 5.0
MAX_BATCH = 1000
SEEN_KEYS = 50_000
# The websockets client logs every handshake header at DEBUG, the Authorization header included: its
# own logger, never below INFO, keeps a user token out of the logs whatever level the root is at.
WIRE_LOG = logging.getLogger("monitor.streams.wire")
WIRE_LOG.setLevel(logging.INFO)


class Adapter(Protocol):
    """What differs between APIs (streams/bluesky.py, streams/mastodon.py)."""

    key: StreamKey
    # Catch up over REST after every (re)connection (Mastodon does not replay), or only when the
    # cursor is too old to resume (Jetstream replays from its cursor).
    catch_up_on_connect: bool

    def url(self, cursor: str | None, now: datetime) -> str:
        """Where to connect to resume after `cursor`; raises StreamCursorTooOld when it cannot."""
        ...

    def headers(self) -> dict[str, str]: ...

    def subscriptions(self, watches: Sequence[Watch]) -> list[str]:
        """Messages to send once connected (Mastodon's subscribe frames)."""
        ...

    def parse(self, message: str | bytes, skips: SkipLog) -> Event | None:
        """One frame; raises a SourceError for an error frame (the connection is then dropped)."""
        ...

    def advance(self, cursor: str | None, events: Sequence[Event]) -> str | None:
        """The cursor after `events` (which may arrive slightly out of order)."""
        ...

    def catch_up(self, engine: Engine, watches: Sequence[Watch], cursor: str | None) -> str | None:
        """Fetch over REST what the stream missed after `cursor`; returns the cursor to go on from."""
        ...


class Rate:
    """Events in the last minute, from the storing task's counts."""

    def __init__(self) -> None:
        self._counts: deque[tuple[float, int]] = deque()

    def add(self, count: int, now: float) -> None:
        self._counts.append((now, count))

    def per_minute(self, now: float) -> float:
        while self._counts and self._counts[0][0] < now - 60:
            self._counts.popleft()
        return float(sum(count for _, count in self._counts))


class SeenKeys:
    """The keys of the last `size` events: a repeat within them is dropped (the store absorbs older
    ones: mentions are unique on source and id, and a repeated delete or edit changes nothing)."""

    def __init__(self, size: int = SEEN_KEYS) -> None:
        self.size = size
        self._keys: OrderedDict[str, None] = OrderedDict()

    def unseen(self, events: Sequence[Event]) -> list[Event]:
        """The events not seen before (nor earlier in `events`)."""
        fresh: dict[str, Event] = {}
        for event in events:
            if event.key not in self._keys and event.key not in fresh:
                fresh[event.key] = event
        return list(fresh.values())

    def remember(self, events: Sequence[Event]) -> None:
        """Called once the events are stored: a batch that failed to store is not skipped next time."""
        for event in events:
            self._keys[event.key] = None
            self._keys.move_to_end(event.key)
        while len(self._keys) > self.size:
            self._keys.popitem(last=False)


def handshake_error(source: str, exc: Exception) -> SourceError:
    """A failed connection as the SourceError tree says (the same as the HTTP sources' mapping)."""
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        body = (exc.response.body or b"")[:500].decode("utf-8", "replace")
        if status == 400 and "CursorTooOld" in body:
            return StreamCursorTooOld(source, f"the server refused our cursor as too old: {body}")
        if status in (401, 403):
            return SourceAuthError(
                source,
                f"the streaming server refused the connection ({status}): check the access token "
                f"(GRUMBLE_{source.upper()}_ACCESS_TOKEN or [sources.{source}] access_token)",
            )
        if status == 404:
            return SourceNotFound(source, f"no streaming endpoint there (404): check [sources.{source}]")
        if status == 429:
            retry = exc.response.headers.get("Retry-After", "")
            wait = float(retry) if retry.isdigit() else 60.0
            return SourceRateLimited(source, "the streaming server asked us to slow down (429)", wait)
        if status >= 500:
            return SourceUnavailable(source, f"the streaming server answered {status}")
        return SourceError(source, f"the streaming server refused the connection ({status}): {body}")
    if isinstance(exc, InvalidURI):
        return SourceError(source, f"the stream URL is not a websocket URL: {exc}")
    if isinstance(exc, ConnectionClosed):
        return SourceUnavailable(source, f"the connection was closed ({exc})")
    if isinstance(exc, InvalidHandshake):
        return SourceUnavailable(source, f"the websocket handshake failed: {exc}")
    if isinstance(exc, TimeoutError):
        return SourceUnavailable(source, "timed out connecting to the streaming server")
    if isinstance(exc, OSError):
        return SourceUnavailable(source, f"cannot reach the streaming server: {exc}")
    # A bug or the database, not the network: say what it was (the runner logs the traceback).
    return SourceError(source, f"unexpected {type(exc).__name__}: {exc}")


class StreamRunner:
    """Keeps one stream connected and stored until `stop` is set."""

    def __init__(
        self,
        engine: Engine,
        adapter: Adapter,
        watches: Sequence[Watch],
        *,
        holder: str,
        on_new: Callable[[int], object] = lambda _: None,
        backoff: Backoff = STREAM_BACKOFF,
        max_batch: int = MAX_BATCH,
        open_timeout_s: float = 10.0,
    ) -> None:
        self.engine = engine
        self.adapter = adapter
        self.key = adapter.key
        self.watches = list(watches)
        self.holder = holder
        self.on_new = on_new
        self.backoff = backoff
        self.max_batch = max_batch
        self.open_timeout_s = open_timeout_s
        self.seen = SeenKeys()
        self.rate = Rate()
        self.failures = 0
        self.connections = 0  # connections opened by this runner (tests wait on it)

    async def run(self, stop: asyncio.Event) -> None:
        source = self.key.source
        try:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    await self._connected(stop)
                    if stop.is_set():
                        break
                    raise SourceUnavailable(source, "the server closed the stream")
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    error = exc if isinstance(exc, SourceError) else handshake_error(source, exc)
                    if type(error) is SourceError and not isinstance(exc, SourceError):
                        log.exception("%s: unexpected error", self.key.describe())
                    if isinstance(error, StreamCursorTooOld):
                        await self._too_old(error)
                        continue
                    if time.monotonic() - started >= HEALTHY_AFTER_S:
                        self.failures = 0
                    self.failures += 1
                    delay = self.backoff.delay(self.failures).total_seconds()
                    if isinstance(error, SourceRateLimited):
                        delay = max(delay, error.retry_after)
                    log.warning(
                        "%s: disconnected (%d in a row; reconnecting in %.1f s): %s",
                        self.key.describe(),
                        self.failures,
                        delay,
                        error,
                    )
                    await asyncio.to_thread(
                        record_connection,
                        self.engine,
                        self.key,
                        self.holder,
                        connected=False,
                        error=str(error),
                        reconnect=True,
                    )
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=delay)
        finally:
            await asyncio.to_thread(record_stopped, self.engine, self.key)

    async def _too_old(self, exc: StreamCursorTooOld) -> None:
        log.warning(
            "%s: %s; catching up over the REST API, then streaming from now", self.key.describe(), exc
        )
        stored = (await asyncio.to_thread(get_stream, self.engine, self.key)).cursor
        await asyncio.to_thread(self.adapter.catch_up, self.engine, self.watches, stored)
        await asyncio.to_thread(set_cursor, self.engine, self.key, None)
        await asyncio.to_thread(
            record_fallback, self.engine, self.key, f"{exc.detail}: backfilled over the REST API"
        )

    async def _connected(self, stop: asyncio.Event) -> None:
        state = await asyncio.to_thread(get_stream, self.engine, self.key)
        cursor = state.cursor
        url = self.adapter.url(cursor, utcnow())
        async with connect(
            url,
            additional_headers=self.adapter.headers(),
            open_timeout=self.open_timeout_s,
            max_size=4 * 1024 * 1024,
            max_queue=None,  # the receiving task drains it as fast as frames come
            user_agent_header="grumble/0.1 (self-hosted sentiment monitor)",
            logger=WIRE_LOG,
        ) as websocket:
            self.connections += 1
            for message in self.adapter.subscriptions(self.watches):
                await websocket.send(message)
            await asyncio.to_thread(record_connection, self.engine, self.key, self.holder, connected=True)
            log.info("%s: connected", self.key.describe())
            if self.adapter.catch_up_on_connect and cursor is not None:
                # Frames arriving meanwhile wait in the socket; repeats are absorbed by the store.
                cursor = await asyncio.to_thread(self.adapter.catch_up, self.engine, self.watches, cursor)
            await self._pump(websocket, cursor, stop)

    async def _pump(self, websocket: ClientConnection, cursor: str | None, stop: asyncio.Event) -> None:
        queue: asyncio.Queue[str | bytes | BaseException] = asyncio.Queue()

        async def receive() -> None:
            try:
                async for message in websocket:
                    queue.put_nowait(message)
                queue.put_nowait(
                    ConnectionClosed(websocket.protocol.close_rcvd, websocket.protocol.close_sent)
                )
            except ConnectionClosed as exc:
                queue.put_nowait(exc)

        receiver = asyncio.create_task(receive())
        stopping = asyncio.create_task(stop.wait())
        skips = SkipLog(self.key.source)
        try:
            while not stop.is_set():
                getting = asyncio.create_task(queue.get())
                done, _ = await asyncio.wait(
                    {getting, stopping}, timeout=HEARTBEAT_S, return_when="FIRST_COMPLETED"
                )
                if getting not in done:
                    getting.cancel()
                    if stop.is_set():
                        return
                    now = time.monotonic()
                    await asyncio.to_thread(
                        record_heartbeat, self.engine, self.key, self.holder, self.rate.per_minute(now)
                    )
                    continue
                frames = [getting.result()]
                while not queue.empty() and len(frames) < self.max_batch:
                    frames.append(queue.get_nowait())
                closed = next((f for f in frames if isinstance(f, BaseException)), None)
                messages = [f for f in frames if not isinstance(f, BaseException)]
                cursor = await self._store(messages, cursor, skips)
                if closed is not None:
                    raise closed
        finally:
            stopping.cancel()
            receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await receiver

    async def _store(self, messages: Sequence[str | bytes], cursor: str | None, skips: SkipLog) -> str | None:
        events: list[Event] = []
        error: SourceError | None = None
        for message in messages:
            try:
                event = self.adapter.parse(message, skips)
            except SourceError as exc:
                error = exc  # store what came before it, then drop the connection
                break
            if event is not None:
                events.append(event)
        skips.report(f"the {self.key.describe()}")
        if events or messages:
            fresh = self.seen.unseen(events)
            routed = route(self.watches, fresh)
            cursor = self.adapter.advance(cursor, events)
            received = utcnow()
            times = [event.at for event in events if event.at is not None]
            newest = max(times) if times else None
            lag = max((received - newest).total_seconds(), 0.0) if newest else None
            now = time.monotonic()
            # Repeats (a rewind, at-least-once delivery) are not new events: counted once.
            self.rate.add(len(fresh), now)
            progress = Progress(len(fresh), newest, lag, self.rate.per_minute(now))
            saved = await asyncio.to_thread(
                save_stream_batch, self.engine, self.key, routed.per_watch, routed.deleted, cursor, progress
            )
            self.seen.remember(fresh)
            count_collected(self.key.source, saved.new)
            if saved.changed:
                self.on_new(saved.new)
        if error is not None:
            raise error
        return cursor
