import logging
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from sqlalchemy import Engine

from monitor.cli.service import install_stop_handlers
from monitor.config import parse_config
from monitor.errors import SourceUnavailable
from monitor.jobs import Jobs, ModelHolder
from monitor.scheduler import build_scheduler
from monitor.store.collect_state import get_state
from monitor.store.engine import connect
from monitor.store.filters import MentionFilter
from monitor.store.mentions import counts_by_source, iter_all
from tests.alerts.conftest import free_port
from tests.fake_sources import PagedSource

CONFIG = {
    "watches": [
        {"name": "acme", "keywords": ["acme"], "sources": {"demo": {}, "file": {"path": "x.csv"}}},
        {"name": "rival", "keywords": ["rival"], "sources": {"demo": {}}},
    ],
    "schedule": {"collect_every_minutes": 10, "score_every_minutes": 2},
}


def test_one_job_per_watch_and_source_plus_scoring_without_overlap(
    sqlite_engine: Engine, tiny_model: Any
) -> None:
    config = parse_config(CONFIG, None, {})
    scheduler = build_scheduler(
        config, sqlite_engine, Jobs(config, sqlite_engine, ModelHolder(lambda: tiny_model))
    )
    scheduler.start(paused=True)  # job defaults apply once jobs reach the job store
    jobs = {job.id: job for job in scheduler.get_jobs()}
    scheduler.shutdown(wait=False)
    assert set(jobs) == {
        "collect:acme:demo",
        "collect:acme:file",
        "collect:rival:demo",
        "score",
        "settle-replies",
        "learn",
        "topics-refit",
    }
    for job in jobs.values():
        assert job.max_instances == 1
        assert job.coalesce is True
    assert jobs["collect:acme:demo"].trigger.interval.total_seconds() == 600
    assert jobs["score"].trigger.interval.total_seconds() == 120


def test_a_source_with_a_pace_of_its_own_is_polled_at_it_and_the_others_at_the_schedules(
    sqlite_engine: Engine, tiny_model: Any
) -> None:
    config = parse_config({**CONFIG, "sources": {"file": {"collect_every_minutes": 1440}}}, None, {})
    scheduler = build_scheduler(
        config, sqlite_engine, Jobs(config, sqlite_engine, ModelHolder(lambda: tiny_model))
    )
    scheduler.start(paused=True)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    scheduler.shutdown(wait=False)
    assert jobs["collect:acme:file"].trigger.interval.total_seconds() == 1440 * 60
    assert jobs["collect:acme:demo"].trigger.interval.total_seconds() == 600


def test_a_sources_pace_must_be_a_positive_number() -> None:
    from monitor.errors import ConfigError

    for bad in (0, "daily", -5):
        with pytest.raises(ConfigError, match="collect_every_minutes"):
            parse_config({**CONFIG, "sources": {"file": {"collect_every_minutes": bad}}}, None, {})


def test_new_mentions_are_scored_right_after_their_collection(sqlite_engine: Engine, tiny_model: Any) -> None:
    config = parse_config(CONFIG, None, {})
    jobs = Jobs(config, sqlite_engine, ModelHolder(lambda: tiny_model))
    jobs.collect(config.watches[0], "demo")
    rows = list(iter_all(sqlite_engine, MentionFilter()))
    assert rows and all(row["scored_at"] is not None and row["model_version"] for row in rows)


def test_a_failing_job_is_logged_with_its_source_and_the_others_go_on(
    sqlite_engine: Engine, tiny_model: Any, caplog: pytest.LogCaptureFixture
) -> None:
    config = parse_config(CONFIG, None, {})
    jobs = Jobs(config, sqlite_engine, ModelHolder(lambda: tiny_model))

    class Exploding(PagedSource):
        def fetch(self, watch: Any, cursor: str | None) -> Any:
            raise RuntimeError("unexpected bug in a parser")

    class ExplodingTwo(Exploding):
        name = "exploding"

    jobs._sources["file"] = ExplodingTwo(1, 1)
    jobs._sources["demo"] = PagedSource(
        total=5, page_size=5, fail_at=0, error=SourceUnavailable("paged", "HTTP 502")
    )
    jobs.collect(config.watches[0], "file")
    jobs.collect(config.watches[0], "demo")
    assert get_state(sqlite_engine, "acme", "exploding").last_error == (
        "exploding: unexpected RuntimeError: unexpected bug in a parser"
    )
    assert any("exploding for watch acme" in r.getMessage() and r.exc_info for r in caplog.records)
    assert get_state(sqlite_engine, "acme", "paged").last_error == "paged: HTTP 502"
    jobs._sources["demo"] = PagedSource(total=5, page_size=5)
    jobs.collect(config.watches[1], "demo")
    assert counts_by_source(sqlite_engine)["paged"].stored == 5


def test_ctrl_c_and_sigterm_both_ask_the_scheduler_to_stop() -> None:
    """One handler for both signals; the real-process test below sends SIGTERM through it (a second
    process for SIGINT would only spend its 10 s loading the model again)."""
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            stop = install_stop_handlers()
            handler = signal.getsignal(stop_signal)
            assert callable(handler) and not stop.is_set()
            handler(stop_signal, None)
            assert stop.is_set()
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


@pytest.mark.slow
def test_run_collects_scores_and_stops_cleanly_on_a_signal(tmp_path: Path, tiny_model_dir: Path) -> None:
    stop_signal = signal.SIGTERM
    database = tmp_path / "g.db"
    config = tmp_path / "grumble.toml"
    config.write_text(
        f'database_url = "sqlite:///{database}"\n[model]\nname = "{tiny_model_dir}"\n'
        '[[watches]]\nname = "acme"\nkeywords = ["acme"]\n[watches.sources.demo]\n',
        encoding="utf-8",
    )
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "--config", str(config), "run", "--metrics-port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    engine = connect(f"sqlite:///{database}")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        counts = counts_by_source(engine)
        if (
            counts
            and sum(c.stored for c in counts.values()) == 280
            and all(c.pending == 0 for c in counts.values())
        ):
            break
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        time.sleep(0.2)
    else:
        pytest.fail("the scheduler did not collect and score the demo mentions in time")
    # What an operator's Prometheus and load balancer see of it, while it runs.
    health = httpx.get(f"http://localhost:{port}/healthz", timeout=10)
    assert health.status_code == 200
    assert health.json() == {
        "ok": True,
        "role": "scheduler",
        "details": {"database": "ok", "scheduler": "ok"},
    }
    metrics = httpx.get(f"http://localhost:{port}/metrics", timeout=10).text
    assert re.search(r'^grumble_jobs_total\{kind="collect",outcome="succeeded"\} [1-9]', metrics, re.M), (
        metrics
    )
    assert re.search(r'^grumble_mentions_scored_total\{source="\w+"\} [1-9]', metrics, re.M), metrics
    assert re.search(r"^grumble_mentions_unscored 0\.0$", metrics, re.M), metrics
    process.send_signal(stop_signal)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "scheduler stopped" in output


def test_the_settle_replies_job_asks_only_sources_that_can_reply(
    sqlite_engine: Engine, tiny_model: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    config = parse_config(CONFIG, None, {})
    jobs = Jobs(config, sqlite_engine, ModelHolder(lambda: tiny_model))
    assert jobs.replier("demo") is None  # collects, cannot reply
    assert jobs.replier("no-such-source") is None
    assert jobs.settle_replies() == 0  # nothing unconfirmed in the store

    asked: list[Callable[[str], Any]] = []

    def settled_one(engine: Engine, repliers: Callable[[str], Any]) -> list[str]:
        asked.append(repliers)
        return ["reply 7"]

    monkeypatch.setattr("monitor.jobs.settle_unconfirmed", settled_one)
    with caplog.at_level(logging.INFO):
        assert jobs.settle_replies() == 1
    assert asked == [jobs.replier]
    assert "1 unconfirmed reply(ies) found on their source and recorded as posted" in caplog.text


def test_a_job_that_raises_is_logged_by_the_listener_and_the_scheduler_goes_on(
    sqlite_engine: Engine, tiny_model: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    config = parse_config({"watches": [{"name": "acme", "keywords": ["acme"]}]}, None, {})
    jobs = Jobs(config, sqlite_engine, ModelHolder(lambda: tiny_model))

    def broken(engine: Engine, repliers: Callable[[str], Any]) -> list[str]:
        raise RuntimeError("the replies table is gone")

    monkeypatch.setattr("monitor.jobs.settle_unconfirmed", broken)
    with pytest.raises(RuntimeError, match="the replies table is gone"):
        jobs.settle_replies()  # a job's failure is no longer swallowed where it happens

    scheduler = build_scheduler(config, sqlite_engine, jobs)
    finished: list[str] = []
    scheduler.add_listener(lambda event: finished.append(event.job_id), EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    with caplog.at_level(logging.INFO):
        scheduler.start()  # both jobs are due at once
        try:
            deadline = time.monotonic() + 30
            while set(finished) < {"score", "settle-replies"} and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            scheduler.shutdown(wait=True)
    assert set(finished) == {"score", "settle-replies"}
    failures = [r for r in caplog.records if r.name == "monitor.scheduler" and r.levelname == "ERROR"]
    assert [r.getMessage() for r in failures] == [
        "job settle-replies failed: RuntimeError: the replies table is gone"
    ]
