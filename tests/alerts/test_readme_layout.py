"""README.md's "Running on several machines", exactly as written (issue 24, item 17): `grumble run`
(elected scheduler, also working the queue) and a separate `grumble worker`, on one real PostgreSQL.

`grumble run` once built two procrastinate Apps from one shared task list, which renamed it, so it
queued `grumble:grumble:*` jobs that the separate worker did not know ("Task was not found", 58 jobs
lost in five minutes, a digest never sent). Here every job either process queued is found and done by
one of them, and the digest due while they run goes out once per recipient."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from monitor.mention import utcnow
from monitor.queue.tasks import CONTEXT_TASKS, TASKS
from tests.alerts.conftest import StartServer, grumble, smtp_toml
from tests.alerts.test_workers import Processes, processes, wait_until
from tests.support.http_replay import ReplayServer, Reply, Request

__all__ = ["processes"]  # a fixture

pytestmark = [pytest.mark.slow]

RECIPIENTS = ("support@example.com", "lead@example.com")
# Every task a worker knows, as procrastinate names them; anything else queued would be lost.
KNOWN_TASKS = {f"grumble:{name}" for name in (*TASKS, *CONTEXT_TASKS)} | {
    "builtin:procrastinate.builtin_tasks.remove_old_jobs"
}
STARTUP_S = 12  # both processes load the model and register before the digest's minute comes


def hit(n: int) -> dict[str, object]:
    return {
        "objectID": f"acme-{n}",
        "created_at_i": int(time.time()) - 60 * n,
        "comment_text": f"acme charged me twice ({n}), support never answers",
        "author": f"user{n}",
        "_tags": ["comment"],
    }


@pytest.fixture
def api() -> Iterator[ReplayServer]:
    def search(request: Request) -> Reply:
        return Reply.json({"hits": [hit(n) for n in range(5)], "nbPages": 1})

    server = ReplayServer()
    server.route("GET", "/api/v1/search_by_date", search)
    try:
        yield server
    finally:
        server.close()


def digest_minute() -> int:
    """The first whole minute at least STARTUP_S away: an hourly digest then falls due while the
    processes run (the trigger counts whole minutes)."""
    return (utcnow() + timedelta(seconds=STARTUP_S + 60)).minute


def write_config(folder: Path, database_url: str, smtp_port: int, api_url: str, model: Path) -> Path:
    path = folder / "grumble.toml"
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
batch_size = 8
[dashboard]
public_url = "https://grumble.example"
[sources.hackernews]
base_url = "{api_url}"
{smtp_toml(smtp_port)}
[[digests]]
name = "support"
recipients = [{", ".join(f'"{r}"' for r in RECIPIENTS)}]
every = "hourly"
at = "00:{digest_minute():02d}"
send_when_quiet = true
[[watches]]
name = "acme"
keywords = ["acme"]
[watches.sources.hackernews]
""",
        encoding="utf-8",
    )
    return path


def queued_tasks(engine: Engine) -> Counter[str]:
    """Every job in the queue's table by task name (done ones are deleted; failed ones are kept)."""
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT task_name, status::text FROM procrastinate_jobs")).all()
    return Counter(f"{task} {status}" for task, status in rows)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_run_and_a_worker_on_one_database_find_every_job_and_send_the_digest_once(
    database_url: str,
    engine: Engine,
    tiny_model_dir: Path,
    smtp_server: StartServer,
    api: ReplayServer,
    processes: Processes,
    tmp_path: Path,
) -> None:
    smtp = smtp_server("none")
    config = write_config(tmp_path, database_url, smtp.port, api.url, tiny_model_dir)
    processes.start("run", grumble(config, "run"))  # machine 1
    processes.start("worker", grumble(config, "worker"))  # machine 2

    def digest_sent() -> bool:
        return len(smtp.messages) >= len(RECIPIENTS)

    wait_until(digest_sent, "the digest due while both run", processes, engine, timeout=STARTUP_S + 100)

    def both_worked() -> bool:
        done = r"INFO monitor\.(collect\.run: collected|score\.run: scored|surface\.\S+: sent) "
        return all(re.search(done, processes.log(name)) for name in ("run", "worker"))

    # Both take jobs: the worker in `grumble run` and the separate one find every task the other queued.
    wait_until(both_worked, "each process to finish a job", processes, engine, timeout=60)
    time.sleep(3)  # a few more rounds of every job: a second digest would have gone by now

    logs = processes.log("run") + processes.log("worker")
    assert "Task was not found" not in logs, processes.logs()
    assert "grumble:grumble:" not in logs, processes.logs()
    in_queue = queued_tasks(engine)
    assert {entry.split()[0] for entry in in_queue} <= KNOWN_TASKS, in_queue
    assert not [entry for entry in in_queue if entry.endswith(" failed")], (in_queue, processes.logs())
    assert Counter(str(message["To"]) for message in smtp.messages) == Counter(RECIPIENTS)
    assert not processes.failed(), processes.logs()
