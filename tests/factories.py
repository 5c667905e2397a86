"""Small builders for test data."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.mention import Mention, Watch

BASE_TIME = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def mention(n: int, source: str = "test", **fields: Any) -> Mention:
    values: dict[str, Any] = {
        "source": source,
        "external_id": f"m{n}",
        "text": f"mention number {n} about acme",
        "created_at": BASE_TIME + timedelta(minutes=n),
        "author": f"author{n}",
        "url": f"https://example.com/{n}",
    }
    values.update(fields)
    return Mention(**values)


def watch(name: str = "acme", **fields: Any) -> Watch:
    return Watch(name=name, **fields)


def poisson(rng: random.Random, rate: float) -> int:
    """Knuth's method: fine for the small rates of complaints per hour."""
    limit, k, product = math.exp(-rate), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def hourly_series(seed: int, days: int = 14) -> list[int]:
    """Negative mentions per hour: a daily rhythm (busy afternoons, quiet nights) with Poisson noise."""
    rng = random.Random(seed)
    return [poisson(rng, 4 + 3 * math.sin(2 * math.pi * (hour % 24) / 24)) for hour in range(days * 24)]
