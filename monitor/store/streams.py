"""Live streams in the store: each connection's cursor and health (`stream_state`). The batch itself
is stored by monitor/streams/saving.py, which calls `advance_stream` in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Engine, select, update

from monitor.mention import utcnow
from monitor.store.schema import stream_state

# A runner writes a heartbeat every few seconds; one quiet for longer than this has stopped or died.
STALE_AFTER = timedelta(seconds=60)


@dataclass(frozen=True)
class StreamKey:
    """One connection: a source at one endpoint, shared by every watch that streams from it."""

    source: str
    endpoint: str

    def describe(self) -> str:
        return f"{self.source} stream {self.endpoint}"


@dataclass(frozen=True)
class StreamHealth:
    source: str
    endpoint: str
    cursor: str | None = None
    holder: str | None = None
    connected: bool = False
    connected_at: datetime | None = None
    heartbeat_at: datetime | None = None
    last_event_at: datetime | None = None
    lag_seconds: float | None = None
    events_per_minute: float | None = None
    events_total: int = 0
    mentions_total: int = 0
    reconnects: int = 0
    last_error: str | None = None
    fell_back_at: datetime | None = None
    fell_back_reason: str | None = None

    def live(self, now: datetime | None = None) -> bool:
        """Connected and heard from lately: polling for its watches may wait."""
        now = now or utcnow()
        return bool(self.connected and self.heartbeat_at and now - self.heartbeat_at <= STALE_AFTER)

    def state(self, now: datetime | None = None) -> str:
        """'live', 'reconnecting' (its runner is up, the connection is not), or 'stopped'."""
        now = now or utcnow()
        if self.live(now):
            return "live"
        if self.heartbeat_at and now - self.heartbeat_at <= STALE_AFTER:
            return "reconnecting"
        return "stopped"


@dataclass(frozen=True)
class Progress:
    """What a stored batch moved: events read, the newest event's time and the lag it arrived with."""

    events: int
    last_event_at: datetime | None
    lag_seconds: float | None
    events_per_minute: float | None


def _where(key: StreamKey) -> ColumnElement[bool]:
    return (stream_state.c.source == key.source) & (stream_state.c.endpoint == key.endpoint)


def _ensure_row(connection: Connection, key: StreamKey) -> None:
    exists = connection.scalar(select(stream_state.c.source).where(_where(key)))
    if exists is None:
        connection.execute(
            stream_state.insert().values(
                source=key.source,
                endpoint=key.endpoint,
                connected=False,
                events_total=0,
                mentions_total=0,
                reconnects=0,
            )
        )


def get_stream(engine: Engine, key: StreamKey) -> StreamHealth:
    with engine.connect() as connection:
        row = connection.execute(select(stream_state).where(_where(key))).first()
    return StreamHealth(**row._mapping) if row else StreamHealth(key.source, key.endpoint)


def all_streams(engine: Engine) -> list[StreamHealth]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(stream_state).order_by(stream_state.c.source, stream_state.c.endpoint)
        )
        return [StreamHealth(**row._mapping) for row in rows]


def advance_stream(
    connection: Connection, key: StreamKey, cursor: str | None, progress: Progress, new: int
) -> None:
    """Inside the caller's transaction (the one storing the batch): the cursor moves exactly when the
    batch is stored."""
    _ensure_row(connection, key)
    values: dict[str, object] = {
        "cursor": cursor,
        "events_total": stream_state.c.events_total + progress.events,
        "mentions_total": stream_state.c.mentions_total + new,
        "heartbeat_at": utcnow(),
    }
    if progress.last_event_at is not None:
        values.update(last_event_at=progress.last_event_at, lag_seconds=progress.lag_seconds)
    if progress.events_per_minute is not None:
        values["events_per_minute"] = progress.events_per_minute
    connection.execute(update(stream_state).where(_where(key)).values(values))


def record_connection(
    engine: Engine,
    key: StreamKey,
    holder: str,
    *,
    connected: bool,
    error: str | None = None,
    reconnect: bool = False,
) -> None:
    """The runner connected (clears the last error) or lost the connection (with why)."""
    now = utcnow()
    values: dict[str, object] = {"holder": holder, "connected": connected, "heartbeat_at": now}
    if connected:
        values.update(connected_at=now, last_error=None)
    elif error is not None:
        values["last_error"] = error[:2000]
    if reconnect:
        values["reconnects"] = stream_state.c.reconnects + 1
    with engine.begin() as connection:
        _ensure_row(connection, key)
        connection.execute(update(stream_state).where(_where(key)).values(values))


def record_heartbeat(engine: Engine, key: StreamKey, holder: str, events_per_minute: float) -> None:
    with engine.begin() as connection:
        _ensure_row(connection, key)
        connection.execute(
            update(stream_state)
            .where(_where(key))
            .values(holder=holder, heartbeat_at=utcnow(), events_per_minute=events_per_minute)
        )


def record_stopped(engine: Engine, key: StreamKey) -> None:
    """The runner stopped on purpose (shutdown, lost its lock): not connected, no heartbeat."""
    with engine.begin() as connection:
        connection.execute(update(stream_state).where(_where(key)).values(connected=False, heartbeat_at=None))


def record_fallback(engine: Engine, key: StreamKey, reason: str) -> None:
    """The stream could not cover its watches and their mentions came over the REST API instead."""
    with engine.begin() as connection:
        _ensure_row(connection, key)
        connection.execute(
            update(stream_state)
            .where(_where(key))
            .values(fell_back_at=utcnow(), fell_back_reason=reason[:2000])
        )


def set_cursor(engine: Engine, key: StreamKey, cursor: str | None) -> None:
    """Replace the cursor outside a batch (a too-old one dropped after the gap was backfilled)."""
    with engine.begin() as connection:
        _ensure_row(connection, key)
        connection.execute(update(stream_state).where(_where(key)).values(cursor=cursor))
