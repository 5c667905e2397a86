"""Polling stands in for a stream that is down: the (watch, source) poll job is skipped while the
watch's stream is live, and runs, saying so in the stream's health, while it is not."""

from __future__ import annotations

import logging

from sqlalchemy import Engine

from monitor.config import Config
from monitor.mention import Watch
from monitor.store.streams import get_stream, record_fallback
from monitor.streams.plan import stream_for

log = logging.getLogger(__name__)


def stream_is_covering(config: Config, engine: Engine, watch: Watch, source: str) -> bool:
    """True when the watch streams this source and the stream is live: its poll may be skipped.
    False otherwise; for a streamed watch whose stream is down, the poll about to run is recorded as
    the stream's fallback."""
    key = stream_for(config, watch, source)
    if key is None:
        return False
    health = get_stream(engine, key)
    if health.live():
        return True
    reason = f"the stream is {health.state()}: polled {source} for {watch.name} instead"
    log.warning("%s: %s", key.describe(), reason)
    record_fallback(engine, key, reason)
    return False
