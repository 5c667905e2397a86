"""The value types that flow through every stage: a Mention, a Watch, a Page of results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken to be UTC: sources and files rarely say otherwise."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Mention:
    """One public post, comment or review, as a source saw it.

    `source` + `external_id` identify it: the store keeps each pair once. `author_reach` is how many people
    follow the author (followers, karma, points); `engagement` is the mention's own interactions (score,
    likes + reposts + replies); `metrics` keeps the detail of both for display.
    """

    source: str
    external_id: str
    text: str
    created_at: datetime
    author: str | None = None
    url: str | None = None
    title: str | None = None
    author_reach: int | None = None
    engagement: int | None = None
    rating: float | None = None
    parent_id: str | None = None
    language: str | None = None
    metrics: Mapping[str, int] = field(default_factory=dict)
    raw: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "created_at", as_utc(self.created_at))


@dataclass(frozen=True)
class Page:
    """What one fetch returns: the mentions found and where the next fetch starts.

    `has_more` says the source has another page ready now (a backfill in progress); the collector then
    stores this page, with its cursor, and asks again, up to a bound. `unsearched` says the page is a
    plain listing (a subreddit's newest comments, a feed) that the server did not search for the watch's
    keywords: the collector then keeps only mentions containing one of them. `warnings` name the parts
    that failed while the rest worked (one feed of several): the source then shows as degraded.
    """

    mentions: list[Mention]
    next_cursor: str | None
    has_more: bool = False
    unsearched: bool = False
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Watch:
    """A brand or product to listen for, and where.

    `keywords` go to each source's server-side search (any of them); `required` words must all appear and
    `excluded` words must not, matched case-insensitively on word boundaries after the server answered.
    `sources` maps a source name to that source's options for this watch (subreddits, hashtags, app ids...).
    """

    name: str
    keywords: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    sources: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # What replies to this watch's mentions call the brand and product ({brand}, {product} in templates).
    brand: str | None = None
    product: str | None = None

    def options_for(self, source: str) -> Mapping[str, Any]:
        return self.sources.get(source, {})
