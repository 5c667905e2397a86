"""Fill a store with N realistic mentions, for trying the dashboard at scale and for its benchmark:
`python -m bench.seed --count 1000000` (the store of GRUMBLE_CONFIG, or of --database).

Texts come from the bundled demo sample with small variations; times spread over the last `days`;
reach follows a long tail. Scores are synthetic (model version "seed-synthetic"), so seeding a million
mentions takes a minute instead of the hours the model would.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from monitor.mention import utcnow
from monitor.ranking import rank_key
from monitor.sources.demo import sample
from monitor.store.schema import mention_watches, mentions

SEED_MODEL_VERSION = "seed-synthetic"
SOURCES = ("reddit", "hackernews", "mastodon", "bluesky", "appstore", "rss")
SUFFIXES = ("", "", "", " Again.", " Seriously.", " #fail", " 🙄", " Thanks.", " Any ideas?", " Day 3.")


def _scores(rng: random.Random) -> tuple[str, float, float, float]:
    kind = rng.random()
    if kind < 0.35:
        negative = rng.uniform(0.55, 0.99)
        positive = rng.uniform(0, 1 - negative) * 0.3
    elif kind < 0.7:
        negative = rng.uniform(0.0, 0.35)
        positive = rng.uniform(0, 0.4)
    else:
        negative = rng.uniform(0.0, 0.15)
        positive = rng.uniform(0.55, 1 - negative)
    neutral = max(1.0 - negative - positive, 0.0)
    label = max((("negative", negative), ("neutral", neutral), ("positive", positive)), key=lambda p: p[1])[0]
    return label, negative, neutral, positive


def generate(
    count: int, days: float, start_id: int, now: datetime, seed: int = 7
) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed + start_id)
    items = sample()
    span = days * 86400
    for offset in range(count):
        item = items[rng.randrange(len(items))]
        source = rng.choice(SOURCES)
        created = now - timedelta(seconds=span * rng.random() ** 1.5)  # more of them recently
        reach = int(rng.lognormvariate(4, 2.2)) if source not in ("appstore", "rss") else None
        engagement = int(rng.lognormvariate(1, 1.6))
        rating = float(rng.randint(1, 5)) if source == "appstore" else None
        label, negative, neutral, positive = _scores(rng)
        number = start_id + offset
        yield {
            "id": number,
            "source": source,
            "external_id": f"seed-{number}",
            "text": item["text"] + rng.choice(SUFFIXES),
            "title": item.get("title"),
            "author": f"{item.get('author') or 'user'}{rng.randrange(50_000)}",
            "url": f"https://example.com/{source}/{number}",
            "created_at": created,
            "collected_at": now,
            "author_reach": reach,
            "engagement": engagement,
            "rating": rating,
            "label": label,
            "negative": negative,
            "neutral": neutral,
            "positive": positive,
            "model_version": SEED_MODEL_VERSION,
            "scored_at": now,
            "rank_key": rank_key(negative, created, reach, engagement, rating),
            "triage": "open",
        }


def seed(engine: Engine, count: int, watch: str = "acme", days: float = 30, chunk: int = 20_000) -> int:
    """Insert `count` mentions linked to `watch`; returns how many were written."""
    now = utcnow()
    with engine.connect() as connection:
        next_id = int(connection.scalar(select(func.coalesce(func.max(mentions.c.id), 0))) or 0) + 1
    written = 0
    while written < count:
        size = min(chunk, count - written)
        rows = list(generate(size, days, next_id + written, now))
        with engine.begin() as connection:
            connection.execute(mentions.insert(), rows)
            connection.execute(
                mention_watches.insert(), [{"mention_id": r["id"], "watch": watch} for r in rows]
            )
        written += size
    return written


def main() -> None:
    from monitor.config import load_config
    from monitor.store.engine import connect

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", help="database URL (default: the config's)")
    parser.add_argument("--count", type=int, default=10_000, help="how many mentions (default 10000)")
    parser.add_argument("--watch", default="acme", help="the watch to link them to (default acme)")
    parser.add_argument("--days", type=float, default=30, help="spread them over this many days (default 30)")
    args = parser.parse_args()
    if args.count < 1:
        parser.error("--count must be at least 1")
    engine = connect(args.database or load_config().database_url)
    started = time.perf_counter()
    written = seed(engine, args.count, watch=args.watch, days=args.days)
    print(f"seeded {written:,} mentions into watch {args.watch!r} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
