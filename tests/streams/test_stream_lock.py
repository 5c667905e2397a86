"""On PostgreSQL exactly one worker runs the streams: the one holding the stream lock (an advisory lock
on a session of its own); when it lets go (stops, or its session ends with its process), another takes
the streams over within seconds."""

from __future__ import annotations

import time

import httpx
import pytest

from monitor.config.load import parse_config
from monitor.sources.base import SourceSettings
from monitor.sources.bluesky import BlueskySource
from monitor.store.engine import connect
from monitor.streams import host
from tests.support.ws_replay import Script, WsReplay


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.slow
def test_one_worker_streams_and_another_takes_over_when_it_lets_go(
    database_url: str, ws_server: WsReplay, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    monkeypatch.setattr(host, "LEADERSHIP_CHECK_S", 0.3)
    ws_server.play(Script(frames=[]))
    config = parse_config(
        {
            "watches": [{"name": "acme", "keywords": ["acme"], "sources": {"bluesky": {"stream": True}}}],
            "sources": {"bluesky": {"jetstream_url": ws_server.url()}},
        },
        None,
        {},
        database_url,
    )
    engine = connect(database_url)
    search = BlueskySource(SourceSettings("bluesky"), httpx.Client(base_url="http://127.0.0.1:9"))
    workers = [
        host.streams_in_one_worker(config, engine, lambda _: search, lambda: None, threading.Event())
        for _ in range(2)
    ]
    first, second = workers
    first.__enter__()
    entered = [first]
    try:
        ws_server.wait_for(lambda: len(ws_server.connections) == 1)  # the first holds the streams
        second.__enter__()
        entered.append(second)
        time.sleep(2.0)  # the second has stood for the lock several times by now
        assert len(ws_server.connections) == 1, "two workers stream at once"
        entered.remove(first)
        first.__exit__(None, None, None)  # the holder stops: its lock's session ends
        ws_server.wait_for(lambda: len(ws_server.connections) == 2, timeout=20)
        time.sleep(1.0)
        assert len(ws_server.connections) == 2
    finally:
        for worker in entered:
            worker.__exit__(None, None, None)
    engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.slow
def test_a_stream_holder_killed_with_sigkill_is_taken_over_by_another_worker(
    database_url: str, ws_server: WsReplay
) -> None:
    import signal
    import subprocess
    import sys

    from tests.conftest import REPO

    ws_server.play(Script(frames=[]))
    command = [sys.executable, "-m", "tests.streams.stream_lock_worker", database_url, ws_server.url()]
    first = subprocess.Popen(command, cwd=REPO)
    second: subprocess.Popen[bytes] | None = None
    try:
        ws_server.wait_for(lambda: len(ws_server.connections) == 1, timeout=60)
        second = subprocess.Popen(command, cwd=REPO)
        time.sleep(4.0)  # the second worker has started and stood for the lock several times
        assert len(ws_server.connections) == 1, "two workers stream at once"
        first.send_signal(signal.SIGKILL)
        first.wait()
        ws_server.wait_for(lambda: len(ws_server.connections) == 2, timeout=30)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
