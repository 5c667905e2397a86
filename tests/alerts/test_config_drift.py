"""Config drift (issue 24, item 13): a `grumble worker` started on an older grumble.toml than the
scheduler's. It used to skip the new watch's jobs saying the watch was "no longer configured" (it
never was) while `grumble status` said nothing. Now each worker's row and the elected scheduler carry a
fingerprint of their config, and status, /metrics and the skip message say which worker differs."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from monitor.config import parse_config
from monitor.queue.drift import NOT_CONFIGURED_HERE, config_hash, unknown_name
from monitor.queue.election import Election
from tests.alerts.conftest import StartServer, free_port, grumble, smtp_toml
from tests.alerts.test_workers import Processes, processes, wait_until
from tests.conftest import REPO
from tests.support.http_replay import ReplayServer, Reply

__all__ = ["processes"]  # a fixture


def watch_toml(*names: str) -> str:
    return "".join(
        f'[[watches]]\nname = "{name}"\nkeywords = ["{name}"]\n[watches.sources.hackernews]\n'
        for name in names
    )


def write_config(
    path: Path, database_url: str, smtp_port: int, api_url: str, model: Path, watches: str
) -> Path:
    path.write_text(
        f"""
database_url = "{database_url}"
[schedule]
collect_every_minutes = 0.1
score_every_minutes = 0.1
[queue]
heartbeat_seconds = 0.5
stalled_after_seconds = 3
[model]
name = "{model}"
[sources.hackernews]
base_url = "{api_url}"
{smtp_toml(smtp_port)}{watches}""",
        encoding="utf-8",
    )
    return path


def fingerprint(path: Path) -> str:
    return config_hash(parse_config(tomllib.loads(path.read_text(encoding="utf-8")), path, {}))


def test_the_fingerprint_covers_what_jobs_mean_and_not_what_differs_between_machines() -> None:
    def parsed(extra: str) -> str:
        text = f'database_url = "{extra}"\n' + watch_toml("acme")
        return config_hash(parse_config(tomllib.loads(text), None, {}))

    one = parse_config(tomllib.loads(watch_toml("acme")), None, {})
    two = parse_config(tomllib.loads(watch_toml("acme", "globex")), None, {})
    assert config_hash(one) != config_hash(two)
    assert re.fullmatch(r"[0-9a-f]{12}", config_hash(one))
    # Another machine's database address or model path is no drift.
    assert parsed("postgresql://a/grumble") == parsed("postgresql://b/grumble")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_job_for_a_watch_this_worker_lacks_says_why_by_the_schedulers_fingerprint(
    database_url: str, engine: Engine
) -> None:
    old = parse_config(tomllib.loads(watch_toml("acme")), None, {})
    new = parse_config(tomllib.loads(watch_toml("acme", "globex")), None, {})
    # No scheduler recorded yet: the usual words.
    assert unknown_name(old, engine, "no longer configured") == "no longer configured"
    election = Election(database_url, "host:1", config_hash=config_hash(new))
    try:
        assert election.try_lead()
        assert unknown_name(old, engine, "no longer configured") == NOT_CONFIGURED_HERE
        assert unknown_name(new, engine, "no longer configured") == "no longer configured"
    finally:
        election.resign()


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_status_metrics_and_log_name_a_worker_on_another_config_than_the_scheduler(
    database_url: str,
    engine: Engine,
    tiny_model_dir: Path,
    smtp_server: StartServer,
    processes: Processes,
    tmp_path: Path,
) -> None:
    api = ReplayServer()
    api.route("GET", "/api/v1/search_by_date", Reply.json({"hits": [], "nbPages": 1}))
    smtp = smtp_server("none")
    try:
        new = write_config(
            tmp_path / "new.toml",
            database_url,
            smtp.port,
            api.url,
            tiny_model_dir,
            watch_toml("acme", "globex"),
        )
        old = write_config(
            tmp_path / "old.toml", database_url, smtp.port, api.url, tiny_model_dir, watch_toml("acme")
        )
        port = free_port()
        scheduler = processes.start(
            "scheduler", grumble(new, "run", "--no-worker", "--metrics-port", str(port))
        )
        worker = processes.start("worker", grumble(old, "worker"))

        def skipped_the_new_watch() -> bool:
            return "skipped collecting hackernews for globex" in processes.log("worker")

        wait_until(
            skipped_the_new_watch, "the old worker to skip the new watch", processes, engine, timeout=90
        )
        said = processes.log("worker")
        assert (
            "skipped collecting hackernews for globex: the watch is not configured in this worker's "
            "grumble.toml (its config differs from the scheduler's; restart it)"
        ) in said, said
        assert "no longer configured" not in said, said

        status = subprocess.run(
            grumble(new, "status"), cwd=REPO, capture_output=True, text=True, timeout=120, check=True
        ).stdout
        new_hash, old_hash = fingerprint(new), fingerprint(old)
        assert f"scheduler config {new_hash}" in status, status
        assert re.search(rf":{worker.pid}  \[alive\].*config {old_hash}  CONFIG DIFFERS", status), status
        assert re.search(rf"config drift: \S+:{worker.pid} run another grumble\.toml", status), status

        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert re.search(r"^grumble_workers_config_drift 1\.0$", metrics, re.M), metrics
        assert f"runs config {new_hash}" in processes.log("scheduler")
        said = processes.log("worker")
        assert f"config {old_hash}) taking jobs" in said, said
        assert f"runs config {old_hash} and the scheduler {new_hash}: it will skip jobs" in said, said
        assert scheduler.poll() is None and worker.poll() is None
    finally:
        api.close()
