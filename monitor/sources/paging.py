"""Incremental collection from newest-first APIs, with a cursor that survives crashes.

Every API here lists newest first and pages backwards (after=, max_id=, cursor=, page=). A *pass* walks
from the newest item back until it meets what an earlier pass stored (the *mark*), runs out of pages,
or has taken `max_backfill` mentions; the first pass is the backfill. While a pass is under way the
cursor remembers where it continues and the page says `has_more`; when it ends, the newest item it saw
becomes the new mark. The collector stores each page and its cursor in one transaction, so a crash only
repeats the last page, and the store's uniqueness on (source, external_id) absorbs the repeat.

A watch can need several listings from one source (one search per keyword, a subreddit's submissions
and its comments, one feed per app and country): each is a *stream* with its own state in the cursor.
Streams are keyed by what they ask for, so editing a watch's options starts the new streams afresh.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from monitor.errors import SourceError
from monitor.mention import Mention, Page

log = logging.getLogger(__name__)

CURSOR_VERSION = 1
# Ties on the mark's timestamp are told apart by id; a burst larger than this is not worth a big cursor.
MAX_MARK_IDS = 100
DEFAULT_MAX_PAGES = 20

Spec = TypeVar("Spec")


@dataclass(frozen=True)
class StreamState:
    """One stream's position. `mark`/`mark_ids`: newest stored. `pending`: a pass is under way."""

    mark: float | None = None
    mark_ids: tuple[str, ...] = ()
    pending: bool = False
    token: Any = None
    top: float | None = None
    top_ids: tuple[str, ...] = ()
    taken: int = 0
    pages: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)

    def is_known(self, key: float, external_id: str) -> bool:
        """Stored by an earlier pass: older than the mark, or at the mark with an id already seen."""
        if self.mark is None:
            return False
        return key < self.mark or (key == self.mark and external_id in self.mark_ids)

    def room(self, max_backfill: int) -> int:
        """How many more mentions this pass may take; sources ask for no more than that per page."""
        return max(max_backfill - self.taken, 1)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"mark": self.mark, "mark_ids": list(self.mark_ids)}
        if self.pending:
            data.update(
                pending=True,
                token=self.token,
                top=self.top,
                top_ids=list(self.top_ids),
                taken=self.taken,
                pages=self.pages,
            )
        if self.extra:
            data["extra"] = dict(self.extra)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StreamState:
        return cls(
            mark=_number(data.get("mark")),
            mark_ids=tuple(str(i) for i in data.get("mark_ids") or ()),
            pending=bool(data.get("pending")),
            token=data.get("token"),
            top=_number(data.get("top")),
            top_ids=tuple(str(i) for i in data.get("top_ids") or ()),
            taken=int(data.get("taken") or 0),
            pages=int(data.get("pages") or 0),
            extra=dict(data.get("extra") or {}),
        )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def decode_cursor(source: str, cursor: str | None) -> dict[str, StreamState]:
    """The streams' states. A cursor this code cannot read starts afresh (the store absorbs repeats)."""
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
        if not isinstance(data, dict) or data.get("v") != CURSOR_VERSION:
            raise ValueError(f"not a version {CURSOR_VERSION} cursor")
        streams = data.get("streams") or {}
        return {str(key): StreamState.from_json(value) for key, value in streams.items()}
    except (ValueError, TypeError, AttributeError) as exc:
        log.warning("%s: ignoring an unreadable cursor (%s); starting a new backfill", source, exc)
        return {}


def encode_cursor(states: Mapping[str, StreamState]) -> str:
    return json.dumps(
        {"v": CURSOR_VERSION, "streams": {key: state.to_json() for key, state in states.items()}},
        separators=(",", ":"),
        sort_keys=True,
    )


@dataclass(frozen=True)
class Batch:
    """One page of one stream as the source parsed it: (sort key, mention) pairs, and where to go next.

    The sort key is what the API orders by (epoch seconds, or an id that grows with time); `next_token`
    is None on the last page.
    """

    items: list[tuple[float, Mention]]
    next_token: Any = None  # None ends the pass: only for an empty or last page, not one of unusable items


def _newest(
    current: float | None, ids: tuple[str, ...], items: Sequence[tuple[float, Mention]]
) -> tuple[float | None, tuple[str, ...]]:
    for key, mention in items:
        if current is None or key > current:
            current, ids = key, (mention.external_id,)
        elif key == current and mention.external_id not in ids:
            ids = (*ids, mention.external_id)[-MAX_MARK_IDS:]
    return current, ids


def advance(
    source: str,
    state: StreamState,
    batch: Batch,
    *,
    max_backfill: int,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> tuple[list[Mention], StreamState, bool]:
    """Take the unseen mentions of one page; return them, the stream's next state, and whether it has more."""
    fresh: list[tuple[float, Mention]] = []
    reached_known = False
    for key, mention in batch.items:
        if state.is_known(key, mention.external_id):
            reached_known = True
        else:
            fresh.append((key, mention))
    # Keep the newest when the bound cuts a page: those are the ones a user is waiting for.
    fresh.sort(key=lambda pair: pair[0], reverse=True)
    fresh = fresh[: max(max_backfill - state.taken, 0)]
    top, top_ids = _newest(state.top, state.top_ids, fresh)
    taken = state.taken + len(fresh)
    pages = state.pages + 1
    bounded = taken >= max_backfill or pages >= max_pages
    done = reached_known or batch.next_token is None or bounded
    if not done:
        return (
            [m for _, m in fresh],
            replace(
                state,
                pending=True,
                token=batch.next_token,
                top=top,
                top_ids=top_ids,
                taken=taken,
                pages=pages,
            ),
            True,
        )
    if bounded and not reached_known and batch.next_token is not None and state.mark is not None:
        log.warning(
            "%s: more than %d new mentions since the last run; older ones were left out (raise max_backfill "
            "or collect more often)",
            source,
            taken,
        )
    mark, mark_ids = _merge_mark(state.mark, state.mark_ids, top, top_ids)
    return [m for _, m in fresh], StreamState(mark=mark, mark_ids=mark_ids, extra=state.extra), False


def _merge_mark(
    mark: float | None, mark_ids: tuple[str, ...], top: float | None, top_ids: tuple[str, ...]
) -> tuple[float | None, tuple[str, ...]]:
    if top is None or (mark is not None and top < mark):
        return mark, mark_ids
    if mark is None or top > mark:
        return top, top_ids
    return mark, tuple(dict.fromkeys((*mark_ids, *top_ids)))[-MAX_MARK_IDS:]


def fetch_streams(
    source: str,
    cursor: str | None,
    streams: Mapping[str, Spec],
    fetch_page: Callable[[Spec, StreamState], Batch],
    *,
    max_backfill: int,
    max_pages: int = DEFAULT_MAX_PAGES,
    unsearched: bool = False,
) -> Page:
    """One fetch over all of a watch's streams: a page from each stream still in the current pass.

    A stream that fails keeps its state (it is asked again next time) and the page says so in its
    warnings, while what the other streams fetched is kept: one country's feed down must not cost
    another's reviews. Only when every stream asked fails does the fetch raise (the error carries the
    cursor with the failure counts: a watch of one stream needs them as much). A pass whose deep page
    keeps failing is given up after MAX_PAGE_FAILURES tries (what it saw becomes the mark), so a stuck
    page 7 never stops page 1's new reviews from arriving; while it fails, the other streams start
    new passes as usual.
    """
    saved = decode_cursor(source, cursor)
    states = {key: saved.get(key, StreamState()) for key in streams}
    in_pass = any(state.pending and not state.extra.get(FAILURES) for state in states.values())
    mentions: list[Mention] = []
    seen: set[str] = set()
    warnings: list[str] = []
    failed: list[SourceError] = []
    asked = 0
    more = False
    for key, spec in streams.items():
        state = states[key]
        if in_pass and not state.pending:
            continue
        asked += 1
        try:
            batch = fetch_page(spec, state)
        except SourceError as exc:
            failed.append(exc)
            states[key], warning = _after_failure(source, key, state, exc)
            warnings.append(warning)
            continue
        if state.extra.get(FAILURES):
            state = replace(state, extra={k: v for k, v in state.extra.items() if k != FAILURES})
        got, states[key], stream_more = advance(
            source, state, batch, max_backfill=max_backfill, max_pages=max_pages
        )
        more = more or stream_more
        for mention in got:
            if mention.external_id not in seen:
                seen.add(mention.external_id)
                mentions.append(mention)
    if failed and len(failed) == asked:
        failed[0].cursor = encode_cursor(states)  # the failure counts, so a stuck pass ends
        raise failed[0]
    return Page(
        mentions=mentions,
        next_cursor=encode_cursor(states),
        has_more=more,
        unsearched=unsearched,
        warnings=tuple(warnings),
    )


FAILURES = "failures"  # consecutive failures of a stream's current page, kept in StreamState.extra
MAX_PAGE_FAILURES = 3


def _after_failure(source: str, key: str, state: StreamState, exc: SourceError) -> tuple[StreamState, str]:
    failures = int(state.extra.get(FAILURES) or 0) + 1
    if state.pending and failures >= MAX_PAGE_FAILURES:
        # Give the pass up: what it took is stored; the newest it saw becomes the mark.
        mark, mark_ids = _merge_mark(state.mark, state.mark_ids, state.top, state.top_ids)
        extra = {k: v for k, v in state.extra.items() if k != FAILURES}
        log.warning("%s: %s: gave up a pass after %d failures of one page: %s", source, key, failures, exc)
        return (
            StreamState(mark=mark, mark_ids=mark_ids, extra=extra),
            f"{key}: gave up older items after {failures} failures of one page ({exc.detail})",
        )
    return replace(state, extra={**state.extra, FAILURES: failures}), f"{key}: {exc.detail}"


def search_terms(keywords: Sequence[str], required: Sequence[str]) -> list[str]:
    """What to ask a search API for: each keyword (any of them), else all required words together."""
    terms = [k for k in keywords if k.strip()]
    if terms:
        return list(dict.fromkeys(terms))
    joined = " ".join(w for w in required if w.strip())
    return [joined] if joined else []
