"""The demo source: replays a bundled sample of project-written mentions, so a new install shows a
working inbox without internet or credentials.

The first fetch returns most of the sample, dated relative to now; each later fetch releases a few
held-back mentions dated now, so the inbox visibly fills while the scheduler runs.
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import lru_cache
from importlib import resources
from typing import Any, ClassVar

from monitor.mention import Mention, Page, Watch, utcnow
from monitor.sources.base import SourceSettings

HELD_BACK = 40
RELEASED_PER_FETCH = 3


@lru_cache(maxsize=1)
def sample() -> tuple[dict[str, Any], ...]:
    text = resources.files("monitor.sources").joinpath("demo_mentions.jsonl").read_text(encoding="utf-8")
    return tuple(json.loads(line) for line in text.splitlines() if line.strip())


def _mention(item: dict[str, Any], minutes_ago: int) -> Mention:
    return Mention(
        source=item["source"],
        external_id=item["id"],
        text=item["text"],
        title=item.get("title"),
        author=item.get("author"),
        url=item.get("url"),
        created_at=utcnow() - timedelta(minutes=minutes_ago),
        author_reach=item.get("author_reach"),
        engagement=item.get("engagement"),
        rating=item.get("rating"),
        raw=item,
    )


ID_PREFIX = "demo-"


def is_demo(external_id: str) -> bool:
    """A mention the demo made up: there is nothing on its network to answer."""
    return external_id.startswith(ID_PREFIX)


class DemoSource:
    name: ClassVar[str] = "demo"

    def __init__(self, items: tuple[dict[str, Any], ...] | None = None) -> None:
        self.items = items if items is not None else sample()

    def fetch(self, watch: Watch, cursor: str | None) -> Page:
        released = int(cursor) if cursor else 0
        first_batch = max(len(self.items) - HELD_BACK, 0)
        if released == 0:
            batch = [_mention(item, item.get("minutes_ago", 0)) for item in self.items[:first_batch]]
            released = first_batch
        else:
            upto = min(released + RELEASED_PER_FETCH, len(self.items))
            batch = [_mention(item, 0) for item in self.items[released:upto]]
            released = upto
        return Page(mentions=batch, next_cursor=str(released))


def build(settings: SourceSettings) -> DemoSource:
    return DemoSource()
