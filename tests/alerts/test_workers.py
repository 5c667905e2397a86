"""Scale-out evidence: an elected scheduler and three `grumble worker` processes on one real PostgreSQL,
a Hacker News-shaped API on loopback that counts requests in flight, aiosmtpd counting Message-IDs and
a webhook sink counting posts. One worker is SIGKILLed mid-scoring and another mid-collection; the
survivor finishes their jobs once their heartbeats lapse, and nothing is stored, scored or sent twice."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from monitor.mention import Mention, utcnow
from monitor.score.run import load_model
from monitor.store import alerts as alert_store
from monitor.store.mentions import import_mentions, scoring_text
from monitor.store.schema import mention_watches, mentions
from tests.alerts.conftest import Spec, StartServer, add_mentions, grumble, run_together, smtp_toml
from tests.conftest import REPO
from tests.support.http_replay import ReplayServer, Reply, Request

pytestmark = [pytest.mark.slow]

WATCHES = ("acme", "globex")
HITS_PER_WATCH = 25
LOUD = 3
BACKLOG = 300  # imported unscored before the workers start: the scoring a worker is killed in
RECIPIENTS = ("support@example.com", "lead@example.com")
SENDING = ("check_alerts", "digest", "retry_digests")
REQUEST_SECONDS = 2.0  # each search answers this late: a collection is killable mid-request


class CountingSearch:
    """GET /api/v1/search_by_date for each watch's keyword; counts requests, and how many were in
    flight at once per keyword (two at once would mean one (watch, source) collected twice at once)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight: Counter[str] = Counter()
        self.most_at_once: Counter[str] = Counter()
        self.served: Counter[str] = Counter()
        self.now = int(time.time())

    def __call__(self, request: Request) -> Reply:
        term = request.query["query"]
        with self.lock:
            self.in_flight[term] += 1
            self.most_at_once[term] = max(self.most_at_once[term], self.in_flight[term])
        try:
            time.sleep(REQUEST_SECONDS)
            hits = [
                {
                    "objectID": f"{term}-{n}",
                    "created_at_i": self.now - 60 * n,
                    "comment_text": f"{term} lost my order {n} again, worst support ever",
                    "author": f"user{n}",
                    "_tags": ["comment"],
                }
                for n in range(HITS_PER_WATCH)
            ]
            return Reply.json({"hits": hits, "nbPages": 1})
        finally:
            with self.lock:
                self.in_flight[term] -= 1
                self.served[term] += 1

    def busy(self) -> bool:
        with self.lock:
            return any(self.in_flight.values())


@pytest.fixture
def api() -> Iterator[tuple[ReplayServer, CountingSearch]]:
    server, search = ReplayServer(), CountingSearch()
    server.route("GET", "/api/v1/search_by_date", search)
    server.route("POST", "/hook", Reply(status=200, body="ok"))
    try:
        yield server, search
    finally:
        server.close()


def write_config(folder: Path, database_url: str, smtp_port: int, api_url: str, model: Path) -> Path:
    watches = "".join(
        f'[[watches]]\nname = "{name}"\nkeywords = ["{name}"]\n[watches.sources.hackernews]\n'
        for name in WATCHES
    )
    at = (utcnow().replace(second=0, microsecond=0)).strftime("%H:%M")
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
stalled_after_seconds = 3
[model]
name = "{model}"
batch_size = 8
[dashboard]
public_url = "https://grumble.example"
[sources.hackernews]
base_url = "{api_url}"
{smtp_toml(smtp_port)}[alerts]
recipients = ["oncall@example.com"]
webhook_url = "{api_url}/hook"
loud_priority = 0.01
check_every_minutes = 0.1
[[digests]]
name = "support"
recipients = [{", ".join(f'"{r}"' for r in RECIPIENTS)}]
every = "daily"
at = "{at}"
{watches}""",
        encoding="utf-8",
    )
    return path


class Processes:
    """Long-running grumble processes, each logging to its own file; all killed at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: dict[str, subprocess.Popen[bytes]] = {}
        self.killed: set[int] = set()

    def start(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
        log = (self.folder / f"{name}.log").open("wb")
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.started[name] = process
        return process

    def kill(self, pid: int) -> None:
        self.killed.add(pid)
        os.kill(pid, signal.SIGKILL)

    def failed(self) -> list[str]:
        """Processes that ended though nobody killed them."""
        return [
            name
            for name, process in self.started.items()
            if process.poll() is not None and process.pid not in self.killed
        ]

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(encoding="utf-8", errors="replace")

    def logs(self) -> str:
        """Each process's warnings and errors (the routine lines would bury them)."""
        shown = []
        for name in self.started:
            lines = [line for line in self.log(name).splitlines() if " INFO " not in line]
            shown.append(f"--- {name}\n" + "\n".join(lines[-60:]))
        return "\n".join(shown)

    def stop_all(self) -> None:
        for process in self.started.values():
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    running = Processes(tmp_path)
    try:
        yield running
    finally:
        running.stop_all()


def wait_until(
    condition: Callable[[], bool], what: str, processes: Processes, engine: Engine, timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if processes.failed():
            raise AssertionError(
                f"{processes.failed()} ended while waiting for {what}\n{snapshot(engine)}\n{processes.logs()}"
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{snapshot(engine)}\n{processes.logs()}")
        time.sleep(0.05)


def snapshot(engine: Engine) -> str:
    """The store and the queue as they stand, for a failure message."""
    with engine.connect() as connection:
        jobs = connection.execute(
            text("SELECT task_name, status, worker_id, count(*) FROM procrastinate_jobs GROUP BY 1, 2, 3")
        ).all()
        workers = connection.execute(text("SELECT id, last_heartbeat FROM procrastinate_workers")).all()
    alerts = [
        (e.id, e.sent_at is not None, e.webhook_sent_at is not None) for e in alert_store.all_events(engine)
    ]
    return (
        f"mentions {count(engine)}, unscored {count(engine, 'WHERE label IS NULL')}\n"
        f"jobs {jobs}\nworkers {workers}\nalerts (id, mailed, posted) {alerts}"
    )


def workers_running(engine: Engine, task: str) -> list[int]:
    """The pids of workers running a job of `task` now."""
    with engine.connect() as connection:
        names = connection.execute(
            text(
                "SELECT n.name FROM procrastinate_jobs j"
                " JOIN grumble_queue_workers n ON n.worker_id = j.worker_id"
                " WHERE j.status = 'doing' AND j.task_name LIKE :task"
            ),
            {"task": f"%:{task}"},
        ).scalars()
        return [int(name.rpartition(":")[2]) for name in names]


def count(engine: Engine, where: str = "") -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM mentions {where}")).scalar_one())


def backlog(n: int) -> Mention:
    return Mention(
        source="file",
        external_id=f"backlog-{n}",
        text=f"acme ticket {n}: the app crashes when I pay, support never answers",
        created_at=utcnow(),
    )


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_three_workers_survive_two_kills_and_store_score_and_send_everything_once(
    database_url: str,
    engine: Engine,
    tiny_model_dir: Path,
    smtp_server: StartServer,
    api: tuple[ReplayServer, CountingSearch],
    processes: Processes,
    tmp_path: Path,
) -> None:
    server, search = api
    smtp = smtp_server("none")
    config = write_config(tmp_path, database_url, smtp.port, server.url, tiny_model_dir)
    import_mentions(engine, "acme", [backlog(n) for n in range(BACKLOG)])
    # Loud unhappy customers, already scored: what the alert checks, run on any worker, announce.
    add_mentions(engine, [Spec(n, negative=0.97, author_reach=5_000_000) for n in range(LOUD)], now=utcnow())
    workers = {f"worker{n}": processes.start(f"worker{n}", grumble(config, "worker")) for n in range(3)}
    scheduler = processes.start("scheduler", grumble(config, "run", "--no-worker"))

    # A worker runs two jobs at once. The kills aim at scoring and collection: a worker that is also
    # mid-send is spared, as a kill inside an SMTP transaction is the one window no sender can close
    # (the next try resends under the same Message-ID; test_digest_crash.py covers it).
    def victims(task: str, spared: set[int]) -> list[int]:
        sending = {pid for job in SENDING for pid in workers_running(engine, job)}
        return [pid for pid in workers_running(engine, task) if pid not in sending | spared]

    # Mid-scoring: a worker is running a scoring job and some of the backlog is scored, not all.
    def scoring_midway() -> bool:
        scored = count(engine, "WHERE label IS NOT NULL AND source = 'file'")
        return 0 < scored < BACKLOG - 40 and bool(victims("score", set()))

    wait_until(scoring_midway, "a worker midway through scoring", processes, engine)
    [scorer_pid, *_] = victims("score", set())
    processes.kill(scorer_pid)

    # Mid-collection: a live worker's search request is in flight.
    def collecting_midway() -> bool:
        return search.busy() and bool(victims("collect", {scorer_pid}))

    wait_until(collecting_midway, "a live worker midway through a collection", processes, engine)
    [collector_pid, *_] = victims("collect", {scorer_pid})
    processes.kill(collector_pid)
    killed = {scorer_pid, collector_pid}
    assert {p.pid for p in workers.values()} > killed

    status = subprocess.run(
        grumble(config, "status"), cwd=REPO, capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert f"scheduler: {os.uname().nodename}:{scheduler.pid}" in status, status

    def all_done() -> bool:
        alerts = alert_store.all_events(engine)
        return (
            count(engine) == LOUD + BACKLOG + len(WATCHES) * HITS_PER_WATCH
            and count(engine, "WHERE label IS NULL") == 0
            and bool(alerts)
            and all(e.sent_at is not None and e.webhook_sent_at is not None for e in alerts)
            and all(search.served[name] >= 2 for name in WATCHES)
        )

    wait_until(all_done, "every mention collected and scored, every alert sent", processes, engine)
    forced = run_together(
        grumble(config, "digest", "--send"),
        grumble(config, "digest", "--send"),
        grumble(config, "alerts", "--check"),
        grumble(config, "alerts", "--check"),
    )
    assert [result.returncode for result in forced] == [0, 0, 0, 0], [r.stderr for r in forced]
    status = subprocess.run(
        grumble(config, "status"), cwd=REPO, capture_output=True, text=True, timeout=120, check=True
    ).stdout

    # Stored once: each hit and each backlog item is one row, linked to its watch once.
    with engine.connect() as connection:
        per_watch = dict(
            connection.execute(
                select(mention_watches.c.watch, func.count()).group_by(mention_watches.c.watch)
            ).all()
        )
        rows = connection.execute(
            select(mentions.c.title, mentions.c.text, mentions.c.label, mentions.c.negative).where(
                mentions.c.source.in_(["file", "hackernews"])
            )
        ).all()
    assert per_watch == {"acme": LOUD + BACKLOG + HITS_PER_WATCH, "globex": HITS_PER_WATCH}
    # Scored once, as one scorer in one process would have: a redone batch gives the same scores.
    model = load_model(str(tiny_model_dir))
    expected = model.predict([scoring_text(row.title, row.text) for row in rows])
    assert [row.label for row in rows] == [score.label for score in expected]
    assert [row.negative for row in rows] == pytest.approx([score.negative for score in expected], abs=1e-5)
    # One collection at a time per (watch, source), though three workers took collection jobs.
    assert search.most_at_once == Counter({name: 1 for name in WATCHES})
    # Every alert batch went out once by email and once by webhook; each digest once per recipient.
    alert_ids = {e.message_id for e in alert_store.all_events(engine)}
    alert_mail = [m for m in smtp.messages if "oncall@example.com" in str(m["To"])]
    assert sorted(str(m["Message-ID"]) for m in alert_mail) == sorted(alert_ids)
    assert len([r for r in server.requests if r.path == "/hook"]) == len(alert_ids)
    digests = [m for m in smtp.messages if "oncall@example.com" not in str(m["To"])]
    assert Counter(str(m["To"]) for m in digests) == Counter(RECIPIENTS)
    # The survivor took over the dead workers' jobs once their heartbeats lapsed.
    said = "".join(processes.log(n) for n in workers)
    assert re.search(
        r"silent for over 3 s: (handed to another worker|superseded by the same job queued since)", said
    )
    assert "workers: 1 alive" in status, status
    assert scheduler.poll() is None, processes.log("scheduler")
    assert len([p for p in workers.values() if p.poll() is None]) == 1
