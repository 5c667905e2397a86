"""REST API speed at scale: `python -m bench.api [--count 1000000] [--sqlite URL] [--postgres URL]`.

Seeds each store up to --count mentions once (bench/seed.py; later runs reuse it), then prints the
median time of a page of 100 mentions through the API as a client gets it: the ASGI app in process
(no socket), with the token check, the rate-limit bucket's transaction, the filter, the keyset query and
the JSON. Pages: the first, one 1,000 pages deep (by cursor), a filtered one, newest first; and the
store query alone beside them. The target is under 100 ms a page at a million mentions.

SQLite is a file (default bench-api.db); PostgreSQL is the server at --postgres, else a pgserver whose
data is kept in bench-api-pg/ (so it is seeded once). Then, where bench/webhook_delivery.py exists, its
figures, so one command prints both.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from starlette.testclient import TestClient

from bench.seed import seed
from monitor.api.app import PREFIX, api_server
from monitor.api.cursor import encode
from monitor.config import Config
from monitor.mention import Watch
from monitor.store.api_tokens import create_token
from monitor.store.engine import connect
from monitor.store.filters import MentionFilter
from monitor.store.inbox import count, ranked
from monitor.store.keyset import Position, page_after
from monitor.store.mentions import count_mentions

PAGE = 100
DEEP_PAGES = 1_000
TARGET_MS = 100.0
OPEN_NEGATIVES = MentionFilter(labels=["negative"], triage=["open"])


def median_ms(action: Callable[[], Any], repeat: int) -> float:
    action()  # warm the caches: the steady state a client sees
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def filled(url: str, count: int) -> Engine:
    engine = connect(url)
    stored = count_mentions(engine)
    if stored < count:
        started = time.perf_counter()
        seed(engine, count - stored)
        print(f"  seeded {count - stored:,} mentions in {time.perf_counter() - started:.0f} s", flush=True)
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    return engine


def measure(engine: Engine, repeat: int) -> list[tuple[str, float]]:
    """(what, median ms) for each page, through the API and the store alone."""
    config = Config(path=None, watches=(Watch("acme"),))
    token = create_token(engine, f"bench-{uuid.uuid4().hex[:8]}", "viewer")
    client = TestClient(api_server(engine, config, per_minute=1_000_000))
    headers = {"Authorization": f"Bearer {token}"}
    # 1,000 pages deep, or half way down a smaller store.
    pages = min(DEEP_PAGES, count(engine, OPEN_NEGATIVES, cap=PAGE * DEEP_PAGES * 2) // PAGE // 2)
    deep_row = ranked(engine, OPEN_NEGATIVES, limit=1, offset=PAGE * pages - 1)[0]
    deep = encode(Position.of("priority", deep_row))

    def page(**params: Any) -> Callable[[], Any]:
        def get() -> Any:
            answer = client.get(f"{PREFIX}/mentions", params={"limit": PAGE, **params}, headers=headers)
            assert answer.status_code == 200 and len(answer.json()["items"]) == PAGE, answer.text
            return answer

        return get

    cases: list[tuple[str, Callable[[], Any]]] = [
        ("API: first page of open negatives by priority", page()),
        (f"API: page {pages + 1:,} (by cursor)", page(cursor=deep)),
        ("API: first page, watch acme + source reddit", page(watch="acme", source="reddit")),
        ("API: first page, every label, newest first", page(label="all", sort="newest")),
        (
            "store alone: first page (keyset query)",
            lambda: page_after(engine, OPEN_NEGATIVES, "priority", None, PAGE),
        ),
        (
            f"store alone: page {pages + 1:,}",
            lambda: page_after(engine, OPEN_NEGATIVES, "priority", Position.of("priority", deep_row), PAGE),
        ),
    ]
    with client:
        return [(name, median_ms(action, repeat)) for name, action in cases]


def pgserver_url(folder: Path) -> str:
    from pgserver import get_server  # type: ignore[attr-defined]

    folder.mkdir(exist_ok=True)
    server = get_server(folder, cleanup_mode="stop")  # stopped at exit; its data (seeded once) kept
    uri = str(server.get_uri())
    admin = create_engine(uri.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = 'bench_api'")) is None:
            connection.execute(text('CREATE DATABASE "bench_api"'))
    admin.dispose()
    return uri.replace("/postgres?", "/bench_api?")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=1_000_000, help="mentions in each store (default 1M)")
    parser.add_argument("--sqlite", default="sqlite:///bench-api.db", help="the SQLite store")
    parser.add_argument("--postgres", help="a PostgreSQL URL (default: a pgserver in bench-api-pg/)")
    parser.add_argument("--no-postgres", action="store_true", help="measure SQLite only")
    parser.add_argument("--repeat", type=int, default=9, help="timed requests per case (default 9)")
    args = parser.parse_args()
    stores = [("SQLite", args.sqlite)]
    if not args.no_postgres:
        stores.append(("PostgreSQL", args.postgres or pgserver_url(Path("bench-api-pg").resolve())))
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for name, url in stores:
        print(f"\n{name}: {url.split('@')[-1]}", flush=True)
        engine = filled(url, args.count)
        print(f"  {count_mentions(engine):,} mentions; median of {args.repeat}, a page of {PAGE}:")
        for what, ms in measure(engine, args.repeat):
            verdict = "" if not what.startswith("API") else ("  ok" if ms < TARGET_MS else "  OVER TARGET")
            print(f"  {what:<52} {ms:>8.1f} ms{verdict}")
        engine.dispose()
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if importlib.util.find_spec("bench.webhook_delivery") is not None:
        from bench import webhook_delivery

        print("\nWebhook delivery (bench/webhook_delivery.py):", flush=True)
        webhook_delivery.main([])


if __name__ == "__main__":
    main()
