"""`grumble collect --once` and `grumble status` end to end against loopback fakes of all six sources.

One watch listens on every source; each source's base_url (and the feed URL) points at its own
loopback server. Runs in process through `monitor.cli.main` and as a real `grumble` subprocess.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor.cli import main
from monitor.sources.paging import FAILURES, decode_cursor
from monitor.store.collect_state import get_state
from monitor.store.engine import connect
from monitor.store.mentions import counts_by_source
from monitor.store.schema import mentions
from tests.conftest import REPO
from tests.sources.fakes import ADAPTERS, FEED_PATH, Adapter, install_hackernews
from tests.support.http_replay import ReplayServer, Reply

GRUMBLE = REPO / ".venv" / "bin" / "grumble"
USER_AGENT_PART = "grumble/"
SOURCES = ("reddit", "hackernews", "mastodon", "bluesky", "appstore", "rss")


@pytest.fixture
def fakes() -> Iterator[dict[str, Adapter]]:
    servers = {name: ReplayServer() for name in SOURCES}
    try:
        yield {name: ADAPTERS[name](server) for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.close()


def write_config(path: Path, fakes: dict[str, Adapter], database: Path, *, max_backfill: int = 50) -> Path:
    url = {name: adapter.server.url for name, adapter in fakes.items()}
    path.write_text(
        f"""
database_url = "sqlite:///{database}"

[sources.reddit]
base_url = "{url["reddit"]}"
client_id = "test-client"
client_secret = "test-secret"
max_backfill = {max_backfill}

[sources.hackernews]
base_url = "{url["hackernews"]}"
max_backfill = {max_backfill}
page_size = 3

[sources.mastodon]
base_url = "{url["mastodon"]}"
access_token = "masto-token"
max_backfill = {max_backfill}

[sources.bluesky]
base_url = "{url["bluesky"]}"
handle = "grumble.bsky.social"
app_password = "app-pass-1234"
max_backfill = {max_backfill}

[sources.appstore]
base_url = "{url["appstore"]}"
max_backfill = {max_backfill}

[sources.rss]
max_backfill = {max_backfill}
timeout_s = 5

[[watches]]
name = "acme"
keywords = ["acme"]

[watches.sources.reddit]
subreddits = ["CustomerService"]

[watches.sources.hackernews]
tags = "(story,comment)"

[watches.sources.mastodon]

[watches.sources.bluesky]

[watches.sources.appstore]
app_ids = ["1234567890"]
countries = ["gb"]

[watches.sources.rss]
feeds = ["{url["rss"]}{FEED_PATH}"]
""",
        encoding="utf-8",
    )
    return path


def test_collect_once_fills_the_store_from_all_six_and_status_shows_a_failing_one(
    fakes: dict[str, Adapter], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "grumble.db"
    config = str(write_config(tmp_path / "grumble.toml", fakes, database))

    assert main(["--config", config, "collect", "--once", "--no-score"]) == 0

    engine = connect(f"sqlite:///{database}")
    counts = counts_by_source(engine)
    for name, adapter in fakes.items():
        assert counts[name].stored == len(adapter.ids(adapter.fixtures["items"])), name
        assert all(USER_AGENT_PART in r.headers["user-agent"] for r in adapter.server.requests)

    # New mentions everywhere; meanwhile Hacker News goes down. A real `grumble` process collects.
    for adapter in fakes.values():
        adapter.publish_newer()
    broken = fakes["hackernews"]
    broken.server.route(
        "GET", "/api/v1/search_by_date", Reply.text("<html>503 Service Unavailable</html>", 503)
    )
    cursor_before = get_state(engine, "acme", "hackernews").cursor
    result = subprocess.run(
        [str(GRUMBLE), "--config", config, "collect", "--once", "--no-score"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stderr
    assert "acme/hackernews: FAILED" in result.stderr and "503" in result.stderr

    counts = counts_by_source(engine)
    for name, adapter in fakes.items():
        if name != "hackernews":
            expected = len(adapter.ids(adapter.fixtures["items"])) + len(
                adapter.ids(adapter.fixtures["newer"])
            )
            assert counts[name].stored == expected, name
    state = get_state(engine, "acme", "hackernews")
    # The cursor keeps its place (the marks of what was stored) and learns how often the page failed.
    before, after = decode_cursor("hackernews", cursor_before), decode_cursor("hackernews", state.cursor)
    assert {key: (s.mark, s.mark_ids) for key, s in after.items()} == {
        key: (s.mark, s.mark_ids) for key, s in before.items()
    }
    assert [s.extra.get(FAILURES) for s in after.values()] == [1] and state.consecutive_failures == 1

    capsys.readouterr()
    assert main(["--config", config, "status"]) == 0
    out = capsys.readouterr().out
    sections = {block.split()[0]: block for block in out.split("\n\n")[1:] if block.strip()}
    assert "[FAILING]" in sections["hackernews"] and "1 failures in a row" in sections["hackernews"]
    assert "HTTP 503" in sections["hackernews"]
    for name in SOURCES:
        if name != "hackernews":
            assert "[ok]" in sections[name], sections[name]
    engine.dispose()


@pytest.mark.slow
def test_collection_killed_mid_backfill_then_rerun_stores_every_mention_once(
    fakes: dict[str, Adapter], tmp_path: Path
) -> None:
    """kill -9 a real `grumble collect` paging through Hacker News, rerun: every mention stored once."""
    adapter = fakes["hackernews"]
    template = adapter.fixtures["items"][0]
    adapter.items = [
        dict(template, objectID=str(50_000 + n), created_at_i=template["created_at_i"] - 60 * n)
        for n in range(45)
    ]
    search = install_hackernews(adapter)
    # A slow API (each page answers 50 ms late), so the kill lands mid-backfill.
    adapter.server.route(
        "GET", "/api/v1/search_by_date", lambda request: replace(search(request), delay_s=0.05)
    )
    database = tmp_path / "grumble.db"
    config = str(write_config(tmp_path / "grumble.toml", fakes, database, max_backfill=45))
    engine = connect(f"sqlite:///{database}")

    worker = subprocess.Popen(
        [str(GRUMBLE), "--config", config, "collect", "--once", "--no-score", "--source", "hackernews"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def stored() -> int:
        with engine.connect() as connection:
            query = select(func.count()).select_from(mentions).where(mentions.c.source == "hackernews")
            return int(connection.scalar(query) or 0)

    deadline = time.monotonic() + 60
    while stored() < 9 and worker.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert worker.returncode == -signal.SIGKILL, "the collection finished before it could be killed"
    assert 0 < stored() < 45

    assert main(["--config", config, "collect", "--once", "--no-score", "--source", "hackernews"]) == 0
    with engine.connect() as connection:
        ids = connection.scalars(
            select(mentions.c.external_id).where(mentions.c.source == "hackernews")
        ).all()
    assert sorted(ids) == sorted(str(50_000 + n) for n in range(45))
    engine.dispose()
