"""Riding out a database outage (issue 24, item 19): `grumble run` (the elected scheduler, working the
queue too) and two `grumble worker`s on one real PostgreSQL, which then refuses every connection and
has every session cut for 40 s. Before the fix the workers died on psycopg_pool's 30 s timeout or on
their row pruned by the first one back; now each connects again (with the backoff rule) under a new
row, and all three keep taking jobs. A fourth worker killed during the outage shows as missing."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from tests.alerts.conftest import StartServer, grumble, smtp_toml
from tests.alerts.test_workers import Processes, processes, wait_until
from tests.conftest import REPO
from tests.support.http_replay import ReplayServer, Reply, Request

__all__ = ["processes"]  # a fixture

pytestmark = [pytest.mark.slow]

WATCHES = tuple(f"brand{n}" for n in range(6))
REQUEST_SECONDS = 1.5  # a collection holds a worker slot this long: six at once fill all three workers
STALLED_AFTER_S = 3
# Past psycopg_pool's 30 s wait for a connection (what ended workers before) and ten stalled periods:
# every worker is taken for dead, and its row pruned, by the first one back.
OUTAGE_S = 40
WORKERS = ("run", "worker1", "worker2")


class SlowSearch:
    """GET /api/v1/search_by_date: one hit per keyword, answered late."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.served: Counter[str] = Counter()

    def __call__(self, request: Request) -> Reply:
        time.sleep(REQUEST_SECONDS)
        term = request.query["query"]
        with self.lock:
            self.served[term] += 1
            n = self.served[term]
        hit = {
            "objectID": f"{term}-{n}",
            "created_at_i": int(time.time()),
            "comment_text": f"{term} lost my parcel {n}",
            "author": "someone",
            "_tags": ["comment"],
        }
        return Reply.json({"hits": [hit], "nbPages": 1})


@pytest.fixture
def api() -> Iterator[tuple[ReplayServer, SlowSearch]]:
    server, search = ReplayServer(), SlowSearch()
    server.route("GET", "/api/v1/search_by_date", search)
    try:
        yield server, search
    finally:
        server.close()


def write_config(folder: Path, database_url: str, smtp_port: int, api_url: str, model: Path) -> Path:
    watches = "".join(
        f'[[watches]]\nname = "{name}"\nkeywords = ["{name}"]\n[watches.sources.hackernews]\n'
        for name in WATCHES
    )
    path = folder / "grumble.toml"
    path.write_text(
        f"""
database_url = "{database_url}"
[schedule]
collect_every_minutes = 0.1
score_every_minutes = 0.1
[queue]
concurrency = 2
heartbeat_seconds = 0.5
stalled_after_seconds = {STALLED_AFTER_S}
[model]
name = "{model}"
batch_size = 8
[sources.hackernews]
base_url = "{api_url}"
{smtp_toml(smtp_port)}{watches}""",
        encoding="utf-8",
    )
    return path


class Outage:
    """The test's database refusing connections, with every session on it cut, until `end`."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url.replace("postgresql://", "postgresql+psycopg://"))
        self.name = url.database
        # Run from the server's own maintenance database, which stays up.
        self.admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def start(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false'))
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                {"name": self.name},
            )

    def end(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true'))
        self.admin.dispose()


def jobs_done(log: str) -> int:
    """Collections and scorings this process's log says it finished."""
    return len(re.findall(r"INFO monitor\.(collect\.run: collected|score\.run: scored) ", log))


def back_and_working(log: str) -> bool:
    """The worker connected again under a new number and finished a job since (a job it finished
    while stopping, after the outage, does not count)."""
    _, back, since = log.rpartition("is back (queue worker")
    return bool(back) and jobs_done(since) > 0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_run_and_workers_ride_out_a_database_outage_and_keep_taking_jobs(
    database_url: str,
    engine: Engine,
    tiny_model_dir: Path,
    smtp_server: StartServer,
    api: tuple[ReplayServer, SlowSearch],
    processes: Processes,
    tmp_path: Path,
) -> None:
    server, search = api
    config = write_config(tmp_path, database_url, smtp_server("none").port, server.url, tiny_model_dir)
    # The README's layout: `grumble run` schedules and works the queue; `grumble worker`s add hands.
    started = {"run": processes.start("run", grumble(config, "run"))}
    for name in WORKERS[1:]:
        started[name] = processes.start(name, grumble(config, "worker"))

    def every_worker_took_a_job(since: dict[str, int]) -> bool:
        return all(jobs_done(processes.log(name)) > since[name] for name in WORKERS)

    before = dict.fromkeys(WORKERS, 0)
    wait_until(lambda: every_worker_took_a_job(before), "each worker to take a job", processes, engine)
    doomed = processes.start("doomed", grumble(config, "worker"))
    wait_until(lambda: "taking jobs" in processes.log("doomed"), "a fourth worker", processes, engine)

    outage = Outage(database_url)
    outage.start()
    processes.kill(doomed.pid)  # a worker that vanishes for good while the database is away
    outage_started = time.monotonic()
    try:
        while time.monotonic() - outage_started < OUTAGE_S:
            assert not processes.failed(), processes.logs()
            time.sleep(0.2)
            # Sessions that slipped in before the database refused them are cut too.
            outage.start()
    finally:
        outage.end()
    engine.dispose()  # the test's own sessions were cut too

    served = Counter(search.served)
    wait_until(
        lambda: (
            all(back_and_working(processes.log(name)) for name in WORKERS)
            and all(search.served[w] > served[w] for w in WATCHES)
        ),
        "each worker to take jobs again after the outage",
        processes,
        engine,
        timeout=90,
    )
    assert not processes.failed(), processes.logs()
    assert all(process.poll() is None for process in started.values()), processes.logs()
    # They saw the outage and came back under the backoff rule, not by luck.
    for name in WORKERS:
        said = processes.log(name)
        assert re.search(r"stopped taking jobs: .*; connecting again in [\d.]+ s", said), said[-3000:]
        assert "is back (queue worker" in said, said[-3000:]
    # The scheduler stood for election again under the same rule, and scheduled once it answered.
    said = processes.log("run")
    assert re.search(r"cannot reach the database to elect a scheduler \(.*\); trying again in", said), said
    assert "the database answers again" in said, said
    status = subprocess.run(
        grumble(config, "status"), cwd=REPO, capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert "scheduler: NONE" not in status, status
    assert "workers: 3 alive" in status, status
    assert re.search(rf"#\d+ \S+:{doomed.pid}  \[MISSING: taken for dead at ", status), status
    assert all(f":{process.pid}  [alive]" in status for process in started.values()), status
