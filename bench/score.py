"""Scoring speed, model alone against `score_pending` end to end, and 1 against 2 scorers on PostgreSQL.

    python -m bench.score [--count 100000] [--batch-size 64] [--postgres] [--profile]

Imports --count mentions (tweets and app/product reviews from ../shared/data/sentiment, reviews with
stars as the store keeps them) into a fresh SQLite store, then prints, on one thread each:
- the bundled model alone (`SentimentModel.predict`, batches of --batch-size) on the same texts;
- `score_pending` end to end on that store (reading, the model, cues, ranking, writing);
- their ratio (issue 13's target: end to end at least 80% of the model alone).
With --postgres, the same mentions go into a fresh PostgreSQL (pgserver) store, scored once by one
scorer process and once by two at the same time (each model on one thread), and prints the speed-up
(target: at least 1.7x on 2 cores). --profile prints where end-to-end time goes (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text, update

from models.backends import cpu_count
from monitor.mention import Mention, utcnow
from monitor.score.run import score_pending
from monitor.store.engine import connect
from monitor.store.mentions import SCORE_COLUMNS, import_mentions
from monitor.store.schema import mentions

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data" / "sentiment"
REVIEWS = (
    "threads_app_reviews",
    "ethiopian_bank_app_reviews",
    "womens_clothing_reviews",
    "amazon_alexa_reviews",
)
# Stars a review of each label stands for (the sets were labelled from them: 1-2, 3, 4-5).
STARS = {"negative": (1.0, 2.0), "neutral": (3.0,), "positive": (4.0, 5.0)}
IMPORT_CHUNK = 2000


def tweets() -> list[str]:
    path = DATA / "tweeteval_sentiment" / "train_text.txt"
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def reviews() -> list[tuple[str, float]]:
    """Raw review texts with a star rating matching their label."""
    out = []
    for name in REVIEWS:
        lines = (DATA / name / "data.tsv").read_text(encoding="utf-8").splitlines()[1:]
        for n, line in enumerate(lines):
            body, _, label = line.rpartition("\t")
            if body.strip() and label in STARS:
                out.append((body, STARS[label][n % len(STARS[label])]))
    return out


def build_mentions(count: int) -> list[Mention]:
    """Tweets and reviews taken in turn, so both kinds (short and long texts) spread over the ids."""
    tweet_texts, review_texts = tweets(), reviews()
    now = utcnow()
    out = []
    for n in range(count):
        created = now - timedelta(seconds=count - n)
        if n % 2:
            body, rating = review_texts[(n // 2) % len(review_texts)]
            out.append(Mention("appstore", f"r{n}", body, created, author=f"a{n}", rating=rating))
        else:
            body = tweet_texts[(n // 2) % len(tweet_texts)]
            out.append(Mention("bluesky", f"t{n}", body, created, author=f"a{n}", author_reach=n % 5000))
    return out


def fill(engine: Engine, batch: list[Mention]) -> None:
    for start in range(0, len(batch), IMPORT_CHUNK):
        import_mentions(engine, "bench", batch[start : start + IMPORT_CHUNK])


def clear_scores(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(update(mentions).values({name: None for name in SCORE_COLUMNS}))


def one_thread_model() -> Any:
    """The bundled model as `SentimentModel.load()` gives it, held to one core."""
    from models import SentimentModel

    model = SentimentModel.load()
    if model.backend_name == "torch":
        import torch

        torch.set_num_threads(1)
    else:
        # The ONNX backend runs one text per core side by side (`workers`, cpu_count() by default;
        # each run is already single-threaded): one worker is one core.
        model.backend.runs.workers = 1  # type: ignore[attr-defined]
    model.predict(["warming up the model", "a second text"])
    return model


@dataclass
class Clock:
    """Wall and CPU seconds spent on one side of the comparison, added up over the rounds."""

    wall: float = 0.0
    cpu: float = 0.0
    count: int = 0

    def add(self, wall: float, cpu: float, count: int) -> None:
        self.wall, self.cpu, self.count = self.wall + wall, self.cpu + cpu, self.count + count


def model_alone(model: Any, texts: list[str], batch_size: int, clock: Clock) -> None:
    """`SentimentModel.predict` on `texts`, in the batches scoring uses."""
    wall, cpu = time.perf_counter(), time.process_time()
    for offset in range(0, len(texts), batch_size):
        model.predict(texts[offset : offset + batch_size])
    clock.add(time.perf_counter() - wall, time.process_time() - cpu, len(texts))


def end_to_end(
    engine: Engine, model: Any, batch_size: int, limit: int | None, clock: Clock, profiler: Any
) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    done = score_pending(engine, model, batch_size=batch_size, limit=limit)
    if profiler:
        profiler.disable()
    clock.add(time.perf_counter() - wall, time.process_time() - cpu, done)


def compare_on_sqlite(engine: Engine, model: Any, batch_size: int, rounds: int, profile: bool) -> None:
    """The model alone and `score_pending` take turns on the same mentions, a slice per round, so a
    change in the machine's speed (it is shared) hits both alike. CPU seconds are this process's
    own: on a busy machine they compare the two sides more steadily than wall time."""
    with engine.connect() as connection:
        texts = list(connection.scalars(select(mentions.c.text).order_by(mentions.c.id)))
    alone, whole = Clock(), Clock()
    profiler = cProfile.Profile() if profile else None
    share = -(-len(texts) // rounds)
    for offset in range(0, len(texts), share):
        model_alone(model, texts[offset : offset + share], batch_size, alone)
        last = offset + share >= len(texts)  # the last round scores what is left, and ends the run
        end_to_end(engine, model, batch_size, None if last else share, whole, profiler)
    name = f"{model.backend_name}, 1 thread"
    print(
        f"model alone ({name}): {alone.count / alone.wall:.0f} texts/s ({alone.count / alone.cpu:.0f}/CPU s)"
    )
    print(
        f"score_pending end to end, SQLite: {whole.count / whole.wall:.0f} mentions/s "
        f"({whole.count / whole.cpu:.0f}/CPU s)"
    )
    print(
        f"end to end / model alone: {alone.wall / whole.wall * whole.count / alone.count:.0%} wall, "
        f"{alone.cpu / whole.cpu * whole.count / alone.count:.0%} CPU (target 80%)"
    )
    if profiler:
        report = io.StringIO()
        pstats.Stats(profiler, stream=report).sort_stats("tottime").print_stats(25)
        print(report.getvalue())


def worker(url: str, batch_size: int) -> None:
    """One scorer process: load, say ready, wait for the go line, score, report its own span."""
    engine = connect(url)
    model = one_thread_model()
    print("ready", flush=True)
    sys.stdin.readline()
    start, cpu = time.time(), time.process_time()
    done = score_pending(engine, model, batch_size=batch_size)
    report = {"scored": done, "start": start, "end": time.time(), "cpu": time.process_time() - cpu}
    print(json.dumps(report), flush=True)


def scorers_at_once(url: str, n: int, batch_size: int) -> tuple[int, float, float]:
    """(mentions scored, wall seconds, the mean share of its wall time each process ran on a core)
    for `n` scorer processes started together on one store. A share below one scorer's alone went
    waiting: for a core on a machine others share (see the load average), or on the other scorer."""
    command = [sys.executable, "-m", "bench.score", "--worker", url, "--batch-size", str(batch_size)]
    procs = [
        subprocess.Popen(command, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(n)
    ]
    for proc in procs:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise SystemExit("a scorer process failed to start")
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    reports = []
    for proc in procs:
        out, _ = proc.communicate()
        reports.append(json.loads(out.strip().splitlines()[-1]))
    wall = max(r["end"] for r in reports) - min(r["start"] for r in reports)
    busy = sum(r["cpu"] / (r["end"] - r["start"]) for r in reports) / n
    return sum(r["scored"] for r in reports), wall, busy


def postgres(batch: list[Mention], batch_size: int) -> None:
    from pgserver import get_server  # type: ignore[attr-defined]

    with tempfile.TemporaryDirectory(prefix="grumble-bench-pg-") as data:
        server = get_server(Path(data), cleanup_mode="stop")
        try:
            uri = server.get_uri().replace("postgresql://", "postgresql+psycopg://")
            admin = connect_admin(uri)
            with admin.connect() as connection:
                connection.execute(text('CREATE DATABASE "bench"'))
            admin.dispose()
            url = uri.replace("/postgres?", "/bench?")
            engine = connect(url)
            fill(engine, batch)
            rates: dict[int, float] = {}
            shares: dict[int, float] = {}
            for n in (1, 2):
                clear_scores(engine)
                done, wall, busy = scorers_at_once(url, n, batch_size)
                rates[n] = done / wall
                shares[n] = busy
                print(
                    f"PostgreSQL, {n} scorer(s): {done} mentions in {wall:.1f} s: {rates[n]:.0f}/s; "
                    f"each scorer had a core {busy:.0%} of the time"
                )
                if done != len(batch):
                    raise SystemExit(f"expected {len(batch)} scored, got {done}")
            print(f"speed-up, 2 scorers against 1: {rates[2] / rates[1]:.2f}x (target 1.7x)")
            # On a machine others share, a scorer waits for a core. This counts all time off a core
            # as that wait, so it holds where scorers never wait on each other (SKIP LOCKED skips a
            # held row instead of waiting): it is then the speed-up had each scorer a core of its own.
            fair = (rates[2] / shares[2]) / (rates[1] / shares[1])
            print(f"speed-up per core each scorer actually had: {fair:.2f}x")
            queued = {n: queue_workers(url, engine, n, batch_size, Path(data)) for n in (1, 2)}
            for n, (done, wall) in queued.items():
                print(
                    f"PostgreSQL, {n} `grumble worker`(s), a core each: "
                    f"{done} in {wall:.1f} s: {done / wall:.0f}/s"
                )
            print(
                f"speed-up, 2 workers against 1 (the queue, the claims and the store included): "
                f"{(queued[2][0] / queued[2][1]) / (queued[1][0] / queued[1][1]):.2f}x (target 1.7x)"
            )
            engine.dispose()
        finally:
            server.cleanup()


def queue_workers(url: str, engine: Engine, n: int, batch_size: int, folder: Path) -> tuple[int, float]:
    """(mentions scored, wall seconds) for `n` real `grumble worker` processes, each pinned to one
    core (`taskset`; the model sizes itself to the cores it may use), sharing one rescore through the
    queue: one scoring job per worker, each claiming batches until none is left. A worker loads its
    model before it registers, so the clock starts on loaded workers."""
    from monitor.config import QueueSettings
    from monitor.queue.app import queue_app
    from monitor.queue.enqueue import Enqueuer
    from monitor.store import queue as queue_store
    from monitor.store.mentions import count_unscored

    config = folder / "grumble.toml"
    config.write_text(
        f'database_url = "{url}"\n[model]\nbatch_size = {batch_size}\n[queue]\nconcurrency = 1\n',
        encoding="utf-8",
    )
    clear_scores(engine)
    total = count_unscored(engine)
    cores = cpu_count()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    workers = [
        subprocess.Popen(
            [
                "taskset",
                "-c",
                str(i % cores),
                sys.executable,
                "-m",
                "monitor.cli",
                "-c",
                str(config),
                "worker",
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(n)
    ]
    try:
        while len(queue_store.workers(engine)) < n:  # loaded and taking jobs: start the clock after
            time.sleep(0.1)
        with queue_app(url).open() as app:
            enqueuer = Enqueuer(app, QueueSettings())
            start = time.time()
            started = 0
            while started < n:  # one waiting scoring job at a time (its queueing lock): queue the next
                started += enqueuer.score()  # once the last one was taken
                time.sleep(0.05)
            while count_unscored(engine):
                time.sleep(0.1)
            wall = time.time() - start
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
    return total, wall


def connect_admin(uri: str) -> Engine:
    from sqlalchemy import create_engine

    return create_engine(uri, isolation_level="AUTOCOMMIT")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--postgres", action="store_true", help="also 1 against 2 scorers on PostgreSQL")
    parser.add_argument("--rounds", type=int, default=4, help="turns the two sides take on SQLite")
    parser.add_argument("--profile", action="store_true", help="cProfile the end-to-end run")
    parser.add_argument("--worker", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.batch_size)
        return
    batch = build_mentions(args.count)
    print(f"machine: {cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (others' work included)")
    model = one_thread_model()
    with tempfile.TemporaryDirectory(prefix="grumble-bench-") as folder:
        engine = connect(f"sqlite:///{Path(folder) / 'grumble.db'}")
        fill(engine, batch)
        compare_on_sqlite(engine, model, args.batch_size, args.rounds, args.profile)
        engine.dispose()
    if args.postgres:
        postgres(batch, args.batch_size)


if __name__ == "__main__":
    main()
