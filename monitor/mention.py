"""The value types that flow through every stage: a Mention, a Watch, a Page of results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

JSON = dict[str, Any]


def utcnow() -> datetime:
    return datetime.now(UTC)


# Dates a post cannot have: later than now plus clock skew and time-zone slips, or before the
# social web. Whoever posts sets `createdAt` on Bluesky; a file may hold anything.
FUTURE_SKEW = timedelta(days=1)
EARLIEST_POST = datetime(1995, 1, 1, tzinfo=UTC)
ORIGINAL_TIME_KEY = "grumble_created_at_as_given"


def plausible_time(
    moment: datetime, raw: Mapping[str, Any] | None
) -> tuple[datetime, Mapping[str, Any] | None]:
    """`moment` if a post could have it; else now, with the given value kept in the raw payload."""
    now = utcnow()
    if EARLIEST_POST <= moment <= now + FUTURE_SKEW:
        return moment, raw
    return now, {**(raw or {}), ORIGINAL_TIME_KEY: moment.isoformat()}


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken to be UTC: sources and files rarely say otherwise."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# The most of a mention's text that is stored with it, shown and scored: Reddit's limit for a post, so
# no real post or review is cut. A longer one (a pasted log, a hostile feed item of megabytes) is cut here,
# at the edge every source and the importer share, and its whole text kept apart (`full_text`) for
# download: one such mention made the inbox unusable for everyone.
MAX_TEXT_CHARS = 40_000


@dataclass(frozen=True)
class Mention:
    """One public post, comment or review, as a source saw it.

    A `created_at` no post can have (in the future, before 1995) becomes the time it was seen, and
    the given value is kept in `raw` (plausible_time): every stage after this one may trust it. A text
    longer than MAX_TEXT_CHARS is cut to it; `full_text` then holds the whole of it.

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
    full_text: str | None = None  # set only when `text` was cut

    def __post_init__(self) -> None:
        moment, raw = plausible_time(as_utc(self.created_at), self.raw)
        object.__setattr__(self, "created_at", moment)
        object.__setattr__(self, "raw", raw)
        if len(self.text) > MAX_TEXT_CHARS:
            object.__setattr__(self, "full_text", self.full_text or self.text)
            object.__setattr__(self, "text", self.text[:MAX_TEXT_CHARS])
        if self.raw is not None:
            object.__setattr__(self, "raw", bounded_raw(self.raw))


# The raw payload is kept for display and replies (ids, links, a developer's answer), and is read with
# the mention: its long strings (the same text again, an HTML body) are cut.
MAX_RAW_STRING = 10_000
_RAW_DEPTH = 32


def _bounded(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        if len(value) <= MAX_RAW_STRING:
            return value
        return value[:MAX_RAW_STRING] + f" [cut: {len(value) - MAX_RAW_STRING:,} more characters]"
    if depth >= _RAW_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {key: _bounded(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_bounded(item, depth + 1) for item in value]
    return value


def bounded_raw(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """`raw` with every string longer than MAX_RAW_STRING cut (the same object when none is)."""
    if not _has_long_string(raw, 0):
        return raw
    bounded: Mapping[str, Any] = _bounded(raw, 0)
    return bounded


def _has_long_string(value: Any, depth: int) -> bool:
    if isinstance(value, str):
        return len(value) > MAX_RAW_STRING
    if depth >= _RAW_DEPTH:
        return False
    if isinstance(value, Mapping):
        return any(_has_long_string(item, depth + 1) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_has_long_string(item, depth + 1) for item in value)
    return False


@dataclass(frozen=True)
class Page:
    """What one fetch returns: the mentions found and where the next fetch starts.

    `has_more` says the source has another page ready now (a backfill in progress); the collector then
    stores this page, with its cursor, and asks again, up to a bound. `unsearched` says the page is a
    plain listing (a subreddit's newest comments, a feed) that the server did not search for the watch's
    keywords: the collector then keeps only mentions containing one of them. `warnings` name the parts
    that failed while the rest worked (one feed of several): the source then shows as degraded.
    `deleted` holds the external ids the source says their authors deleted (a stream's delete event, a
    review gone from the store): the collector marks those stored mentions deleted, in the transaction
    that stores the page and its cursor, and they leave the inbox; ids never stored are ignored.
    """

    mentions: list[Mention]
    next_cursor: str | None
    has_more: bool = False
    unsearched: bool = False
    warnings: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()


@dataclass(frozen=True)
class Watch:
    """A brand or product to listen for, and where.

    `keywords` go to each source's server-side search (any of them); `required` words must all appear and
    `excluded` words must not, matched case-insensitively on word boundaries after the server answered.
    `sources` maps a source name to that source's options for this watch (subreddits, hashtags, app ids...).
    `competitors` names the other watches this brand is compared with (share of voice, the Compare page).
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
    competitors: tuple[str, ...] = ()
    # Seed complaint topics the team already tracks ("refund", "login"): anchors for monitor/topics/.
    topics: tuple[str, ...] = ()

    def options_for(self, source: str) -> Mapping[str, Any]:
        return self.sources.get(source, {})
