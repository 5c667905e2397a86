"""What the dashboard shows, as plain values: store rows turned into display rows. No Streamlit here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from monitor.mention import utcnow
from monitor.ranking import priority_from_key
from monitor.score.verdict import explain
from monitor.store.filters import MentionFilter
from monitor.store.inbox import ranked
from monitor.surface import render

SOURCE_ICONS = {
    "reddit": "👽",
    "hackernews": "🟧",
    "mastodon": "🐘",
    "bluesky": "🦋",
    "appstore": "",
    "rss": "📰",
    "file": "📄",
    "demo": "🎭",
}


@dataclass(frozen=True)
class MentionRow:
    id: int
    source: str
    external_id: str
    author: str | None
    author_reach: int | None
    engagement: int | None
    created_at: datetime
    text: str
    title: str | None
    url: str | None
    rating: float | None
    parent_id: str | None
    label: str | None
    negative: float | None
    neutral: float | None
    positive: float | None
    language: str | None
    text_label: str | None
    label_basis: str | None
    model_version: str | None
    triage: str
    triaged_by: str | None
    priority: float
    watches: list[str] = field(default_factory=list)

    @property
    def source_badge(self) -> str:
        icon = SOURCE_ICONS.get(self.source, "•")
        return f"{icon} {self.source}".strip()

    @property
    def stars(self) -> str:
        if self.rating is None:
            return ""
        whole = max(0, min(5, round(self.rating)))
        return "★" * whole + "☆" * (5 - whole)

    @property
    def uncertain(self) -> bool:
        """Labelled without the model being able to read the text's language (verdict.py)."""
        return self.label_basis == "language"

    def why(self) -> str:
        """Why the label is what it is, in words; empty when the text alone decided."""
        if self.label is None or self.label_basis is None:
            return ""
        return explain(
            self.label, self.text_label or self.label, self.label_basis, self.language, self.rating
        )

    def age(self, now: datetime | None = None) -> str:
        return render.age(self.created_at, now or utcnow())


def mention_row(data: dict[str, Any], now: datetime | None = None) -> MentionRow:
    return MentionRow(
        id=data["id"],
        source=data["source"],
        external_id=data["external_id"],
        author=data["author"],
        author_reach=data["author_reach"],
        engagement=data["engagement"],
        created_at=data["created_at"],
        text=data["text"],
        title=data["title"],
        url=data["url"],
        rating=data["rating"],
        parent_id=data["parent_id"],
        label=data["label"],
        negative=data["negative"],
        neutral=data["neutral"],
        positive=data["positive"],
        language=data["detected_language"] or data["language"],
        text_label=data.get("text_label"),
        label_basis=data.get("label_basis"),
        model_version=data["model_version"],
        triage=data["triage"],
        triaged_by=data["triaged_by"],
        priority=priority_from_key(data["rank_key"], now),
        watches=data.get("watches", []),
    )


def inbox_rows(engine: Engine, where: MentionFilter, limit: int = 50, offset: int = 0) -> list[MentionRow]:
    now = utcnow()
    return [mention_row(data, now) for data in ranked(engine, where, limit, offset)]
