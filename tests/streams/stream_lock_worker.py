"""Run by the stream lock test: a worker standing for the stream lock until killed.
`python -m tests.streams.stream_lock_worker DATABASE_URL JETSTREAM_URL`."""

from __future__ import annotations

import sys
import threading

import httpx

from monitor.config.load import parse_config
from monitor.sources.base import SourceSettings
from monitor.sources.bluesky import BlueskySource
from monitor.store.engine import connect
from monitor.streams import host

if __name__ == "__main__":
    database_url, endpoint = sys.argv[1], sys.argv[2]
    host.LEADERSHIP_CHECK_S = 0.3
    config = parse_config(
        {
            "watches": [{"name": "acme", "keywords": ["acme"], "sources": {"bluesky": {"stream": True}}}],
            "sources": {"bluesky": {"jetstream_url": endpoint}},
        },
        None,
        {},
        database_url,
    )
    search = BlueskySource(SourceSettings("bluesky"), httpx.Client(base_url="http://127.0.0.1:9"))
    stop = threading.Event()
    with host.streams_in_one_worker(config, connect(database_url), lambda _: search, lambda: None, stop):
        stop.wait()
