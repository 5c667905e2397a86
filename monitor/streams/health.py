"""How each live stream is doing, in the words `grumble status` and the Sources page use, and as
Prometheus metrics read from the database at scrape time (every process sees the stream's one row,
whichever worker holds it)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor.mention import utcnow
from monitor.store.engine import redact_url
from monitor.store.streams import StreamHealth, all_streams

log = logging.getLogger(__name__)
# One stream per source and endpoint, both from the configuration: bounded. (The endpoint carries no
# secret: a token travels in a header.)
LABELS = ["source", "endpoint"]


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = max((now - moment).total_seconds(), 0.0)
    if seconds < 120:
        return f"{seconds:.1f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def describe(health: StreamHealth, now: datetime | None = None) -> dict[str, Any]:
    """One stream as the Sources page's row (and `grumble status`'s lines) show it."""
    now = now or utcnow()
    state = health.state(now)
    lag = health.lag_seconds if state == "live" else None
    return {
        "stream": f"{health.source} {health.endpoint}",
        "state": state if state == "live" else state.upper(),
        "held by": health.holder or "",
        "lag": f"{lag:.1f} s" if lag is not None else "",
        "events/min": round(health.events_per_minute or 0.0, 1) if state == "live" else 0.0,
        "last event": _ago(health.last_event_at, now),
        "reconnects": health.reconnects,
        "mentions": health.mentions_total,
        "problem": health.last_error or "",
        "fell back": f"{_ago(health.fell_back_at, now)}: {health.fell_back_reason}"
        if health.fell_back_at
        else "",
    }


def stream_rows(engine: Engine, now: datetime | None = None) -> list[dict[str, Any]]:
    return [describe(health, now) for health in all_streams(engine)]


def status_lines(engine: Engine, now: datetime | None = None) -> list[str]:
    """`grumble status`'s section on the live streams (none when no stream ever ran)."""
    lines = []
    for row in stream_rows(engine, now):
        lines.append(
            f"\nstream {row['stream']}  [{row['state']}]"
            + (f"  held by {row['held by']}" if row["held by"] else "")
        )
        lines.append(f"  lag:              {row['lag'] or '-'}")
        lines.append(f"  events/minute:    {row['events/min']}")
        lines.append(f"  last event:       {row['last event']}")
        lines.append(f"  reconnects:       {row['reconnects']}")
        lines.append(f"  mentions stored:  {row['mentions']}")
        if row["problem"]:
            lines.append(f"  last error:       {row['problem']}")
        if row["fell back"]:
            lines.append(f"  fell back:        {row['fell back']}")
    return lines


class StreamCollector:
    """A prometheus_client custom collector of the streams' health (labels: source only, bounded)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._failing = False

    def describe(self) -> Iterable[Metric]:
        return _families()

    def collect(self) -> Iterator[Metric]:
        try:
            streams = all_streams(self.engine)
        except SQLAlchemyError as exc:
            if not self._failing:
                log.warning("metrics: cannot read the streams' health: %s", redact_url(str(exc)))
            self._failing = True
            return
        self._failing = False
        yield from _families(streams, utcnow())


def _families(streams: Iterable[StreamHealth] = (), now: datetime | None = None) -> list[GaugeMetricFamily]:
    connected = GaugeMetricFamily(
        "grumble_stream_connected",
        "1 while the source's live stream is connected and heard from",
        labels=LABELS,
    )
    lag = GaugeMetricFamily(
        "grumble_stream_lag_seconds",
        "How late the newest streamed batch was read: its arrival minus the newest event's time",
        labels=LABELS,
    )
    rate = GaugeMetricFamily(
        "grumble_stream_events_per_minute", "Events read from the stream in the last minute", labels=LABELS
    )
    last = GaugeMetricFamily(
        "grumble_stream_last_event_timestamp_seconds",
        "The newest streamed event's time (Unix)",
        labels=LABELS,
    )
    reconnects = GaugeMetricFamily(
        "grumble_stream_reconnects", "Times the stream reconnected after a failure", labels=LABELS
    )
    fell_back = GaugeMetricFamily(
        "grumble_stream_fell_back_timestamp_seconds",
        "When the stream last fell back to the REST API (backfill or polling), Unix time",
        labels=LABELS,
    )
    now = now or utcnow()
    for health in streams:
        labels = [health.source, health.endpoint]
        live = health.live(now)
        connected.add_metric(labels, 1.0 if live else 0.0)
        if live and health.lag_seconds is not None:
            lag.add_metric(labels, health.lag_seconds)
        rate.add_metric(labels, (health.events_per_minute or 0.0) if live else 0.0)
        if health.last_event_at is not None:
            last.add_metric(labels, health.last_event_at.timestamp())
        reconnects.add_metric(labels, health.reconnects)
        if health.fell_back_at is not None:
            fell_back.add_metric(labels, health.fell_back_at.timestamp())
    return [connected, lag, rate, last, reconnects, fell_back]
