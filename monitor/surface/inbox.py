"""What the dashboard shows, as plain values: store rows turned into display rows. No Streamlit here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from monitor.mention import utcnow
from monitor.ranking import (
    FRESHNESS_HALF_LIFE_HOURS,
    PriorityFactors,
    priority_factors,
    priority_from_key,
    ranked_time,
)
from monitor.store.filters import MentionFilter
from monitor.store.inbox import ranked
from monitor.surface import render
from monitor.verdict import explain

SOURCE_ICONS = {
    "reddit": "👽",
    "hackernews": "🟧",
    "mastodon": "🐘",
    "bluesky": "🦋",
    "appstore": "",
    "app_store_connect": "",
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
    topics: list[str] = field(default_factory=list)  # its complaint topics' names (monitor/topics/)
    vip: bool = False  # the author is marked VIP on this source
    collected_at: datetime | None = None  # when we saw it: its age if the post claims a later time

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
        return render.age(ranked_time(self.created_at, self.collected_at), now or utcnow())

    def text_tone(self) -> str:
        """How the model read the text, in words: "strongly negative", "mildly positive", "neutral"
        (a card shows these; the probabilities are in `score_numbers`, for a tooltip)."""
        label = self.text_label or self.label
        if label is None:
            return "not scored yet"
        if label not in ("negative", "positive"):
            return label
        certainty = (self.negative if label == "negative" else self.positive) or 0.0
        return next(f"{words}{label}" for floor, words in TONE_WORDS if certainty >= floor)

    def score_numbers(self) -> str:
        """The model's three probabilities: "negative 0.95 · neutral 0.04 · positive 0.01"."""
        if self.label is None:
            return "not scored yet"
        parts = (("negative", self.negative), ("neutral", self.neutral), ("positive", self.positive))
        return " · ".join(f"{name} {value or 0:.2f}" for name, value in parts)

    def factors(self, now: datetime | None = None) -> PriorityFactors | None:
        return priority_factors(
            self.negative,
            self.created_at,
            self.author_reach,
            self.engagement,
            self.rating,
            now,
            self.vip,
            seen_at=self.collected_at,
        )

    def priority_reasons(self, now: datetime | None = None) -> str:
        """The priority's factors in words: "strongly negative · 12k followers · 2 h ago"."""
        factors = self.factors(now)
        if factors is None:
            return "not scored yet"
        parts = ["VIP author"] if self.vip else []
        parts.append(_how_negative(factors.urgency))
        if self.rating is not None:
            parts.append(f"{self.rating:g}-star review")
        if self.author_reach:
            parts.append(f"{render.count(self.author_reach)} followers")
        if self.engagement:
            parts.append(render.plural(self.engagement, "reaction"))
        if not self.author_reach and not self.engagement:
            parts.append("no known audience")
        parts.append(self.age(now))
        return " · ".join(parts)

    def priority_breakdown(self, now: datetime | None = None) -> str:
        """The arithmetic behind the number, for a tooltip."""
        factors = self.factors(now)
        if factors is None:
            return "Not scored yet: a priority comes with the score."
        vip = f" × VIP {factors.vip:g}" if self.vip else ""
        return (
            f"Priority {self.priority:.2g} = how negative {factors.urgency:.2f}"
            f" × reach {factors.reach:.2f} × freshness {factors.freshness:.2f}{vip}"
            f" (freshness halves every {FRESHNESS_HALF_LIFE_HOURS:g} hours). {self.priority_reasons(now)}."
        )


# Where P(negative) (moved by the stars) crosses into a stronger word; the inbox shows negatives from 0.5.
URGENCY_WORDS = ((0.85, "strongly negative"), (0.6, "negative"), (0.3, "mildly negative"))
# The same steps for how sure the model is of the text's label (MentionRow.text_tone).
TONE_WORDS = ((0.85, "strongly "), (0.6, ""), (0.0, "mildly "))


def _how_negative(urgency: float) -> str:
    for floor, words in URGENCY_WORDS:
        if urgency >= floor:
            return words
    return "hardly negative"


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
        topics=data.get("topics", []),
        vip=bool(data.get("vip")),
        collected_at=data.get("collected_at"),
    )


def inbox_rows(
    engine: Engine, where: MentionFilter, limit: int = 50, offset: int = 0, sort: str = "priority"
) -> list[MentionRow]:
    now = utcnow()
    return [mention_row(data, now) for data in ranked(engine, where, limit, offset, sort)]
