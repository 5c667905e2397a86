"""Each streamed event to every watch it belongs to, and the batch that one transaction stores.

A stream is a plain listing (every post, or every post with a hashtag), never a search for one
watch's keywords, so each mention must contain one of a watch's keywords (collect/matching.py, the
same rule as the collector's for unsearched pages), besides its required, excluded and language rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from monitor.collect.matching import matches
from monitor.mention import Mention, Watch


@dataclass(frozen=True)
class Event:
    """One streamed event: a post created or edited, a post deleted, or neither (it still moves the
    cursor). `position` is the stream's own resume point after it; `at` the event's own time."""

    key: str  # the event's identity: a repeat (at-least-once delivery, a rewind) has the same one
    at: datetime | None
    position: str | None = None
    mention: Mention | None = None
    deleted: str | None = None


@dataclass
class Routed:
    per_watch: dict[str, list[Mention]] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    matched: int = 0


def route(watches: Sequence[Watch], events: Sequence[Event]) -> Routed:
    """The mentions each watch keeps and the ids deleted, in stream order (an edit after its post)."""
    routed = Routed(per_watch={watch.name: [] for watch in watches})
    for event in events:
        if event.deleted is not None:
            routed.deleted.append(event.deleted)
        mention = event.mention
        if mention is None:
            continue
        hit = False
        for watch in watches:
            if matches(watch, mention, need_keyword=True):
                routed.per_watch[watch.name].append(mention)
                hit = True
        routed.matched += hit
    return routed
