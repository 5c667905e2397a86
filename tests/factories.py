"""Small builders for test data."""

from __future__ import annotations

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
