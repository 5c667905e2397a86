"""A worker paused (SIGSTOP) mid-collection past the stall time has its job handed to another worker; when
it wakes, its run cannot store what its request brought back, and it leaves the job to the new holder.
Real PostgreSQL, real `grumble worker` and `grumble run --no-worker` processes, and a Hacker
News-shaped API on loopback that answers each request with items named after the request."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from monitor.store.collect_state import get_state
from tests.alerts.conftest import grumble
from tests.alerts.test_workers import Processes, workers_running
from tests.support.http_replay import ReplayServer, Reply, Request

pytestmark = [pytest.mark.slow]

REQUEST_SECONDS = 3.0
STALLED_AFTER_S = 3


class NumberedSearch:
    """Each request's hits are named after it (`r1-0`, `r2-0`, ...): what each run stored shows."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.in_flight = 0

    def __call__(self, request: Request) -> Reply:
        with self.lock:
            self.requests += 1
            number = self.requests
            self.in_flight += 1
        try:
            time.sleep(REQUEST_SECONDS)
            hits = [
                {
                    "objectID": f"r{number}-{n}",
                    "created_at_i": int(time.time()) - 60 * n,
                    "comment_text": f"acme lost my order {n}",
                    "author": f"user{n}",
                    "_tags": ["comment"],
                }
                for n in range(3)
            ]
            return Reply.json({"hits": hits, "nbPages": 1})
        finally:
            with self.lock:
                self.in_flight -= 1


@pytest.fixture
def api() -> Iterator[tuple[ReplayServer, NumberedSearch]]:
    server, search = ReplayServer(), NumberedSearch()
    server.route("GET", "/api/v1/search_by_date", search)
    try:
        yield server, search
    finally:
        server.close()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    running = Processes(tmp_path)
    try:
        yield running
    finally:
        for process in running.started.values():  # a paused process cannot die until it runs again
            if process.poll() is None:
                os.kill(process.pid, signal.SIGCONT)
        running.stop_all()


def write_config(folder: Path, database_url: str, api_url: str, model: Path) -> Path:
    path = folder / "grumble.toml"
    path.write_text(
        f"""
database_url = "{database_url}"
[schedule]
collect_every_minutes = 30
score_every_minutes = 60
[queue]
concurrency = 1
heartbeat_seconds = 0.5
stalled_after_seconds = {STALLED_AFTER_S}
[model]
name = "{model}"
[dashboard]
public_url = "https://grumble.example"
[sources.hackernews]
base_url = "{api_url}"
[[watches]]
name = "acme"
keywords = ["acme"]
[watches.sources.hackernews]
""",
        encoding="utf-8",
    )
    return path


def stored_ids(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(text("SELECT external_id FROM mentions")).scalars())


def wait(condition: object, what: str, processes: Processes, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{processes.logs()}")
        time.sleep(0.05)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_paused_workers_collection_cannot_store_after_its_job_was_handed_to_another(
    database_url: str,
    engine: Engine,
    tiny_model_dir: Path,
    api: tuple[ReplayServer, NumberedSearch],
    processes: Processes,
    tmp_path: Path,
) -> None:
    server, search = api
    config = write_config(tmp_path, database_url, server.url, tiny_model_dir)
    workers = [processes.start(f"worker{n}", grumble(config, "worker")) for n in range(2)]
    processes.start("scheduler", grumble(config, "run", "--no-worker"))

    # The first collection's request is in flight: pause the worker that sent it.
    wait(
        lambda: search.in_flight == 1 and bool(workers_running(engine, "collect")), "a collection", processes
    )
    [paused_pid] = workers_running(engine, "collect")
    os.kill(paused_pid, signal.SIGSTOP)
    [other] = [worker for worker in workers if worker.pid != paused_pid]

    # Silent past the stall time: the job is handed back and the other worker sends request 2.
    wait(lambda: search.requests == 2, "the handed-back job's second request", processes)
    assert workers_running(engine, "collect") == [other.pid]
    os.kill(paused_pid, signal.SIGCONT)  # it wakes with request 1's answer waiting for it

    wait(lambda: stored_ids(engine) >= {"r2-0", "r2-1", "r2-2"}, "the new holder's page", processes)
    paused_log = next(name for name, p in processes.started.items() if p.pid == paused_pid)
    wait(lambda: not workers_running(engine, "collect"), "both runs to end", processes)
    time.sleep(1.0)  # the woken run, had it been free to, would have stored by now

    assert not {f"r1-{n}" for n in range(3)} & stored_ids(engine), "the paused run stored its page"
    said = processes.log(paused_log)
    assert "stopped collecting hackernews for watch acme without storing" in said, said
    assert "handed to another worker while this one was silent" in said
    state = get_state(engine, "acme", "hackernews")
    assert state.mentions_collected == 3 and state.consecutive_failures == 0
    assert other.poll() is None, processes.log("worker0") + processes.log("worker1")
