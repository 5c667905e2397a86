"""A stream killed with SIGKILL at any point resumes from its stored cursor on restart: no gap, no
duplicate. The events are the recorded golden post repeated with new record keys, times and texts
(one stream of 1,500 posts in time order), served by a loopback Jetstream that honours ?cursor=."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select

from monitor.store.engine import connect
from monitor.store.schema import mention_watches, mentions
from monitor.store.streams import StreamKey, get_stream
from tests.conftest import REPO
from tests.streams.conftest import GOLDEN_10, jetstream_lines
from tests.support.ws_replay import Script, WsReplay, jetstream_time

TOTAL = 1500


def synthetic_posts() -> list[str]:
    post = json.loads(next(line for line in jetstream_lines(GOLDEN_10) if '"app.bsky.feed.post"' in line))
    start = int(datetime.now(UTC).timestamp() * 1_000_000) - TOTAL * 1000
    frames = []
    for n in range(TOTAL):
        event = json.loads(json.dumps(post))
        event["time_us"] = start + n * 1000
        event["commit"]["rkey"] = f"3crash{n:06d}"
        event["commit"]["record"]["text"] = f"acme outage report {n}"
        frames.append(json.dumps(event))
    return frames


def stored_rkeys(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return [uri.rsplit("/", 1)[1] for uri in connection.scalars(select(mentions.c.external_id))]


@pytest.mark.both_databases
@pytest.mark.slow
def test_kill_9_mid_stream_then_restart_stores_every_post_exactly_once(
    database_url: str, ws_server: WsReplay
) -> None:
    frames = synthetic_posts()
    times = {json.loads(f)["commit"]["rkey"]: jetstream_time(f) for f in frames}
    ws_server.play(Script(frames=frames, by_cursor=jetstream_time, pace_s=0.001))
    engine = connect(database_url)
    key = StreamKey("bluesky", ws_server.url())
    command = [sys.executable, "-m", "tests.streams.crash_stream_worker", database_url, ws_server.url()]
    for threshold in (200, 700, TOTAL):
        worker = subprocess.Popen(command, cwd=REPO)
        deadline = time.monotonic() + 90
        while len(stored_rkeys(engine)) < threshold and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        assert worker.returncode == -signal.SIGKILL, "the worker ended before it could be killed"
        # The cursor moved exactly with the stored posts: each one up to it, none after it.
        cursor = int(get_stream(engine, key).cursor or 0)
        assert sorted(stored_rkeys(engine)) == sorted(k for k, t in times.items() if t <= cursor)
    assert sorted(stored_rkeys(engine)) == sorted(times)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(mention_watches)) == TOTAL
    # Each restart resumed a few seconds before its cursor, not from the start.
    resumed = [c.query.get("cursor") for c in ws_server.connections]
    assert resumed[0] is None and all(r is not None for r in resumed[1:])
    engine.dispose()
