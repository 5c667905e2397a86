"""Inbox speed on a large store: `python -m bench.inbox [--count 1000000] [--database URL]`.

Seeds the store up to --count mentions (once; later runs reuse it), then prints the median time of each
query the inbox runs, against the same ranked query with its index disabled (the baseline), the time of
the inbox page's first render through Streamlit's AppTest in both layouts, each in a fresh process
(bench/render.py, beside AppTest's own floor), and (unless --no-browser) how long a real chromium takes
to show the first mention, cards and compact side by side (bench/browser.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, text

from bench.browser import measure, report
from bench.seed import seed
from monitor.mention import utcnow
from monitor.store.engine import connect
from monitor.store.filters import MentionFilter
from monitor.store.inbox import SORTS, count, open_negatives, ranked
from monitor.store.mentions import count_mentions
from monitor.surface.inbox_view import LAYOUTS

DEFAULT = MentionFilter(labels=["negative"], triage=["open"])


def median_ms(action: Callable[[], Any], repeat: int = 7) -> float:
    action()  # warm the page cache: we measure the steady state a user sees
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def unindexed_top(engine: Engine, limit: int = 25) -> list[Any]:
    """The inbox's first query with its index disabled (SQLite's NOT INDEXED; PostgreSQL's planner told
    to use no index scan in this transaction): what the index saves."""
    query = "SELECT id FROM mentions{hint} WHERE label = 'negative' AND triage = 'open' "
    query += "ORDER BY rank_key DESC NULLS LAST, created_at DESC, id DESC LIMIT :limit"
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            for setting in ("enable_indexscan", "enable_indexonlyscan", "enable_bitmapscan"):
                connection.execute(text(f"SET LOCAL {setting} = off"))
            return list(connection.execute(text(query.format(hint="")), {"limit": limit}))
        return list(connection.execute(text(query.format(hint=" NOT INDEXED")), {"limit": limit}))


def first_renders(database_url: str, layout: str) -> dict[str, float]:
    """bench/render.py in a fresh process: AppTest's floor, the first and the next session, in ms."""
    command = [sys.executable, "-m", "bench.render", "--database", database_url, "--layout", layout]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench.render failed: {done.stderr.strip()[-2000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--database", default="sqlite:///bench-inbox.db")
    parser.add_argument("--repeat", type=int, default=5, help="browser opens per layout (default 5)")
    parser.add_argument("--no-browser", action="store_true", help="leave out the chromium measurement")
    args = parser.parse_args()
    engine = connect(args.database)
    stored = count_mentions(engine)
    if stored < args.count:
        started = time.perf_counter()
        seed(engine, args.count - stored)
        print(f"seeded {args.count - stored:,} mentions in {time.perf_counter() - started:.0f} s")
        with engine.begin() as connection:
            if engine.dialect.name == "sqlite":
                connection.execute(text("ANALYZE"))
    total = count_mentions(engine)
    now = utcnow()
    source = MentionFilter(labels=["negative"], triage=["open"], sources=["reddit"])
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("baseline: top 25 by priority, index disabled", lambda: unindexed_top(engine)),
        ("inbox: top 25 open negatives by priority", lambda: ranked(engine, DEFAULT, 25)),
        ("inbox: unhandled-negatives count", lambda: open_negatives(engine)),
        ("inbox: matching count, capped at 10,000", lambda: count(engine, DEFAULT, cap=10_000)),
        (
            "inbox: matching count, watch 'acme', capped",
            lambda: count(
                engine, MentionFilter(labels=["negative"], triage=["open"], watches=["acme"]), cap=10_000
            ),
        ),
        ("inbox: top 25, one source", lambda: ranked(engine, source, 25)),
        (
            "inbox: top 25, last 24 hours",
            lambda: ranked(
                engine,
                MentionFilter(labels=["negative"], triage=["open"], since=now - timedelta(hours=24)),
                25,
            ),
        ),
        (
            "inbox: top 25, minimum priority 1.0",
            lambda: ranked(engine, MentionFilter(labels=["negative"], triage=["open"], min_priority=1.0), 25),
        ),
        (
            "inbox: top 25, text search 'refund'",
            lambda: ranked(engine, MentionFilter(labels=["negative"], triage=["open"], search="refund"), 25),
        ),
        (
            "inbox: top 25, watch 'acme'",
            lambda: ranked(engine, MentionFilter(labels=["negative"], triage=["open"], watches=["acme"]), 25),
        ),
        *[
            (f"inbox: top 25 sorted by {sort}", lambda sort=sort: ranked(engine, DEFAULT, 25, sort=sort))
            for sort in SORTS
            if sort != "priority"
        ],
    ]
    print(f"\n{total:,} mentions in {engine.url.render_as_string(hide_password=True)}\n")
    baseline = None
    print(f"{'query':<50} {'median ms':>10} {'vs baseline':>12}")
    for name, action in cases:
        ms = median_ms(action, repeat=3 if name.startswith("baseline") else 7)
        baseline = baseline or ms
        print(f"{name:<50} {ms:>10.1f} {baseline / ms:>11.1f}x")
    renders = {layout: first_renders(args.database, layout) for layout in LAYOUTS}
    title = "inbox page render through AppTest, ms (bench/render.py)"
    print(f"\n{title:<58}" + "".join(f"{layout:>10}" for layout in LAYOUTS))
    for label in renders[LAYOUTS[0]]:
        print(f"{label:<58}" + "".join(f"{renders[layout][label]:>10.0f}" for layout in LAYOUTS))
    if not args.no_browser:
        report(measure(args.database, args.repeat))


if __name__ == "__main__":
    main()
