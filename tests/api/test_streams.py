"""/streams: each live stream's health as `grumble status` says it, read with a viewer's token."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from monitor.mention import utcnow
from monitor.store.schema import stream_state
from monitor.store.streams import StreamKey, record_connection
from tests.api.conftest import Api


def test_a_live_stream_and_a_dropped_one_read_as_status_says_them(api: Api) -> None:
    assert api.get("/streams").json() == []
    live = StreamKey("mastodon", "wss://mastodon.example/api/v1/streaming")
    record_connection(api.engine, live, "worker:1", connected=True)
    dropped = StreamKey("bluesky", "wss://jetstream.example/subscribe")
    record_connection(
        api.engine, dropped, "worker:2", connected=False, error="bluesky: dropped", reconnect=True
    )
    with api.engine.begin() as connection:  # its runner last heard from five minutes ago
        connection.execute(
            update(stream_state)
            .where(stream_state.c.source == "bluesky")
            .values(heartbeat_at=utcnow() - timedelta(minutes=5))
        )

    answer = api.get("/streams")
    assert answer.status_code == 200
    by_source = {row["source"]: row for row in answer.json()}
    assert by_source["mastodon"]["state"] == "live" and by_source["mastodon"]["held_by"] == "worker:1"
    # Quiet for five minutes: its runner is gone, and the figures of a live stream are not shown.
    assert by_source["bluesky"]["state"] == "stopped"
    assert (
        by_source["bluesky"]["last_error"] == "bluesky: dropped" and by_source["bluesky"]["reconnects"] == 1
    )
    assert by_source["bluesky"]["events_per_minute"] is None
    assert api.get("/streams", role=None).status_code == 401
