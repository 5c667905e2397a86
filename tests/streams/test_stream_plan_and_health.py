"""Which streams a configuration runs (one connection per source and endpoint, shared by its watches),
the config errors, polling standing in while a stream is down, and the health in `grumble status`,
on the Sources page's rows and in /metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import Engine

from monitor.cli import main
from monitor.config import Config
from monitor.config.load import parse_config
from monitor.errors import ConfigError
from monitor.jobs import Jobs, ModelHolder
from monitor.mention import Page, Watch
from monitor.store.streams import Progress, StreamKey, get_stream, record_connection
from monitor.streams.health import StreamCollector, status_lines, stream_rows
from monitor.streams.plan import planned_streams
from monitor.streams.saving import save_stream_batch
from tests.factories import mention

JETSTREAM_URL = "wss://jetstream2.us-east.bsky.network/subscribe"


def config(
    watches: list[dict[str, Any]], sources: dict[str, Any] | None = None, database_url: str = "sqlite://"
) -> Config:
    return parse_config({"watches": watches, "sources": sources or {}}, None, {}, database_url)


def test_watches_on_one_endpoint_share_one_stream_and_the_endpoints_come_from_the_sources() -> None:
    plans = planned_streams(
        config(
            [
                {
                    "name": "a",
                    "keywords": ["acme"],
                    "sources": {"bluesky": {"stream": True}, "mastodon": {"stream": True}},
                },
                {"name": "b", "keywords": ["bolt"], "sources": {"bluesky": {"stream": True}}},
                {"name": "c", "keywords": ["acme"], "sources": {"bluesky": {}}},  # polled only
            ],
            {"mastodon": {"base_url": "https://fosstodon.org", "access_token": "t"}},
        )
    )
    by_key = {plan.key: [w.name for w in plan.watches] for plan in plans}
    assert by_key == {
        StreamKey("bluesky", JETSTREAM_URL): ["a", "b"],
        StreamKey("mastodon", "wss://fosstodon.org/api/v1/streaming"): ["a"],
    }


def test_a_configured_jetstream_url_is_the_endpoint() -> None:
    [plan] = planned_streams(
        config(
            [{"name": "a", "keywords": ["acme"], "sources": {"bluesky": {"stream": True}}}],
            {"bluesky": {"jetstream_url": "wss://jetstream1.us-west.bsky.network/subscribe"}},
        )
    )
    assert plan.key.endpoint == "wss://jetstream1.us-west.bsky.network/subscribe"


@pytest.mark.parametrize(
    ("source", "options", "keywords", "message"),
    [
        ("bluesky", {"stream": "yes"}, ["acme"], "stream of watch 'a' is 'yes'; expected true or false"),
        ("mastodon", {"stream": "home"}, ["acme"], 'expected true, "public" or "list:<id>"'),
        ("reddit", {"stream": True}, ["acme"], "reddit has no live stream; streams: bluesky, mastodon"),
        ("bluesky", {"stream": True}, [], "a streamed watch needs keywords"),
    ],
)
def test_a_wrong_stream_option_says_what_is_wrong(
    source: str, options: dict[str, Any], keywords: list[str], message: str
) -> None:
    with pytest.raises(ConfigError, match="stream") as error:
        planned_streams(config([{"name": "a", "keywords": keywords, "sources": {source: options}}]))
    assert message in str(error.value)


class CountingSource:
    name: ClassVar[str] = "bluesky"

    def __init__(self) -> None:
        self.calls = 0

    def fetch(self, watch: Watch, cursor: str | None) -> Page:
        self.calls += 1
        return Page([], None)


def test_polling_waits_while_the_stream_is_live_and_stands_in_while_it_is_down(sqlite_engine: Engine) -> None:
    cfg = config([{"name": "a", "keywords": ["acme"], "sources": {"bluesky": {"stream": True}}}])
    jobs = Jobs(cfg, sqlite_engine, ModelHolder(lambda: None))  # type: ignore[arg-type,return-value]
    source = CountingSource()
    jobs._sources["bluesky"] = source
    [watch] = cfg.watches
    key = StreamKey("bluesky", JETSTREAM_URL)

    jobs.collect(watch, "bluesky")  # never connected: poll
    assert source.calls == 1
    assert "polled bluesky for a instead" in (get_stream(sqlite_engine, key).fell_back_reason or "")

    record_connection(sqlite_engine, key, "host:1", connected=True)
    jobs.collect(watch, "bluesky")  # live: the stream brings them
    assert source.calls == 1

    record_connection(sqlite_engine, key, "host:1", connected=False, error="bluesky: dropped", reconnect=True)
    jobs.collect(watch, "bluesky")
    assert source.calls == 2


def seeded_stream(engine: Engine) -> StreamKey:
    from monitor.mention import utcnow

    key = StreamKey("bluesky", JETSTREAM_URL)
    record_connection(engine, key, "host:42", connected=True)
    progress = Progress(events=3, last_event_at=utcnow(), lag_seconds=0.25, events_per_minute=180.0)
    saved = save_stream_batch(
        engine, key, {"acme": [mention(1, source="bluesky")]}, [], "1783175888000000", progress
    )
    assert saved.new == 1
    return key


def test_health_rows_and_status_lines(sqlite_engine: Engine) -> None:
    seeded_stream(sqlite_engine)
    [row] = stream_rows(sqlite_engine)
    assert row["state"] == "live" and row["lag"] == "0.2 s" and row["events/min"] == 180.0
    assert row["held by"] == "host:42" and row["mentions"] == 1 and row["reconnects"] == 0
    lines = "\n".join(status_lines(sqlite_engine))
    assert f"stream bluesky {JETSTREAM_URL}  [live]  held by host:42" in lines
    assert "events/minute:    180.0" in lines


def test_metrics_are_read_from_the_store_at_scrape_time(sqlite_engine: Engine) -> None:
    seeded_stream(sqlite_engine)
    registry = CollectorRegistry()
    registry.register(StreamCollector(sqlite_engine))
    text = generate_latest(registry).decode()
    labels = f'{{endpoint="{JETSTREAM_URL}",source="bluesky"}}'
    assert f"grumble_stream_connected{labels} 1.0" in text
    assert f"grumble_stream_lag_seconds{labels} 0.25" in text
    assert f"grumble_stream_events_per_minute{labels} 180.0" in text
    assert f"grumble_stream_reconnects{labels} 0.0" in text


def test_grumble_status_shows_the_streams(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from monitor.store.engine import connect

    url = f"sqlite:///{tmp_path / 'g.db'}"
    engine = connect(url)
    key = seeded_stream(engine)
    record_connection(
        engine, key, "host:42", connected=False, error="bluesky: the connection was closed", reconnect=True
    )
    (tmp_path / "grumble.toml").write_text(
        f'database_url = "{url}"\n[[watches]]\nname = "acme"\nkeywords = ["acme"]\n'
        "[watches.sources.bluesky]\nstream = true\n",
        encoding="utf-8",
    )
    assert main(["--config", str(tmp_path / "grumble.toml"), "status"]) == 0
    out = capsys.readouterr().out
    assert f"stream bluesky {JETSTREAM_URL}  [RECONNECTING]" in out
    assert "reconnects:       1" in out
    assert "last error:       bluesky: the connection was closed" in out


def test_streams_beside_the_scheduler_run_every_planned_stream_and_nudge_scoring(
    sqlite_engine: Engine, ws_server: Any
) -> None:
    """What `grumble run` does on SQLite: the configured streams connect, their mentions are stored
    and the scoring job is nudged (here a counter stands in for the model)."""
    import json
    import threading

    import httpx

    from monitor.sources.base import SourceSettings
    from monitor.sources.bluesky import BlueskySource
    from monitor.streams.host import streams_beside
    from tests.streams.conftest import GOLDEN_10, jetstream_lines, recent
    from tests.support.ws_replay import Script

    line = next(line for line in jetstream_lines(GOLDEN_10) if '"app.bsky.feed.post"' in line)
    event = json.loads(line)
    event["commit"]["record"]["text"] = "acme charged me twice"
    ws_server.play(Script(frames=recent([json.dumps(event)])))
    cfg = config(
        [{"name": "acme", "keywords": ["acme"], "sources": {"bluesky": {"stream": True}}}],
        {"bluesky": {"jetstream_url": ws_server.url()}},
    )
    search = BlueskySource(SourceSettings("bluesky"), httpx.Client(base_url="http://127.0.0.1:9"))
    scored = threading.Event()
    with streams_beside(cfg, sqlite_engine, lambda _: search, scored.set) as host:
        assert host.running
        assert scored.wait(15), "scoring was not nudged after a streamed mention"
    key = StreamKey("bluesky", ws_server.url())
    health = get_stream(sqlite_engine, key)
    assert health.mentions_total == 1
    assert not health.connected and health.heartbeat_at is None  # stopped on purpose: not "live"
