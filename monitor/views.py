"""View models the dashboard shows: store rows turned into display rows, ranked. No Streamlit here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from monitor.mention import utcnow
from monitor.ranking import priority
from monitor.store.mentions import MentionFilter, inbox


@dataclass(frozen=True)
class InboxRow:
    id: int
    source: str
    author: str | None
    author_reach: int | None
    created_at: datetime
    text: str
    title: str | None
    url: str | None
    rating: float | None
    label: str | None
    negative: float | None
    neutral: float | None
    positive: float | None
    language: str | None
    priority: float
    watches: list[str]

    def age(self, now: datetime | None = None) -> str:
        seconds = max(((now or utcnow()) - self.created_at).total_seconds(), 0)
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if seconds >= size:
                return f"{int(seconds // size)}{unit}"
        return "now"


def _row(data: dict[str, Any], now: datetime) -> InboxRow:
    return InboxRow(
        id=data["id"],
        source=data["source"],
        author=data["author"],
        author_reach=data["author_reach"],
        created_at=data["created_at"],
        text=data["text"],
        title=data["title"],
        url=data["url"],
        rating=data["rating"],
        label=data["label"],
        negative=data["negative"],
        neutral=data["neutral"],
        positive=data["positive"],
        language=data["detected_language"] or data["language"],
        priority=priority(
            data["negative"],
            data["created_at"],
            data["author_reach"],
            data["engagement"],
            data["rating"],
            now,
        ),
        watches=data["watches"],
    )


def inbox_rows(engine: Engine, where: MentionFilter, limit: int = 200) -> list[InboxRow]:
    now = utcnow()
    return [_row(data, now) for data in inbox(engine, where, limit)]
