"""Run by the stream crash test in a subprocess, which kills it with SIGKILL mid-stream:
`python -m tests.streams.crash_stream_worker DATABASE_URL WS_URL`."""

from __future__ import annotations

import asyncio
import sys

import httpx

from monitor.sources.base import SourceSettings
from monitor.sources.bluesky import BlueskySource
from monitor.store.engine import connect
from monitor.streams.bluesky import JetstreamAdapter
from monitor.streams.runner import StreamRunner
from tests.factories import watch

if __name__ == "__main__":
    engine = connect(sys.argv[1])
    search = BlueskySource(SourceSettings("bluesky"), httpx.Client(base_url="http://127.0.0.1:9"))
    runner = StreamRunner(
        engine, JetstreamAdapter(sys.argv[2], search), [watch("acme", keywords=("acme",))], holder="crash:1"
    )
    asyncio.run(runner.run(asyncio.Event()))
