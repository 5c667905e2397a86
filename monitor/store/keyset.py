"""The inbox's list a page at a time, each page starting after the last row of the one before (keyset
pagination), for the REST API.

An offset counts rows, so a mention arriving between two pages shifts every later one: the reader sees
a row twice or never. A position does not move: the next page is the rows after (rank key, created,
id) of the last one read, along the very index the inbox walks (schema.py INBOX_ORDERS), so a page deep
in a million mentions costs what the first one does. The priority order puts unscored mentions (no rank
key) last; they are read as a second stretch, newest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Select, select, tuple_

from monitor.store.authors import vip_flag
from monitor.store.filters import MentionFilter, filtered, rows_with_watches
from monitor.store.inbox import SORTS
from monitor.store.schema import mentions

# The orders that can be paged by position: every column they order by is known for every row.
KEYSET_SORTS = ("priority", "newest")


@dataclass(frozen=True)
class Position:
    """Where a page ended: the order, and its last row's keys."""

    sort: str
    rank_key: float | None
    created_at: datetime
    id: int

    @classmethod
    def of(cls, sort: str, row: dict[str, Any]) -> Position:
        return cls(sort, row["rank_key"] if sort == "priority" else None, row["created_at"], row["id"])


# A page lists what people read; the source's raw payload (often kilobytes of JSON) stays behind.
_LISTED = [column for column in mentions.c if column.name not in ("raw", "metrics")]


def _query(where: MentionFilter) -> Select[Any]:
    return filtered(select(*_LISTED, vip_flag()), where)


def _after_by_time(query: Select[Any], after: Position | None) -> Select[Any]:
    c = mentions.c
    if after is not None:
        query = query.where(tuple_(c.created_at, c.id) < tuple_(after.created_at, after.id))
    return query.order_by(*SORTS["newest"])


def page_after(
    engine: Engine, where: MentionFilter, sort: str, after: Position | None, limit: int
) -> list[dict[str, Any]]:
    """Up to `limit` mentions matching `where`, in `sort`'s order, after `after` (None: from the top),
    each with its author's `vip` flag and its watches."""
    if sort not in KEYSET_SORTS:
        raise ValueError(f"cannot page {sort!r} by position; choose one of {', '.join(KEYSET_SORTS)}")
    c = mentions.c
    if sort == "newest":
        return rows_with_watches(engine, _after_by_time(_query(where), after).limit(limit))
    rows: list[dict[str, Any]] = []
    if after is None or after.rank_key is not None:
        scored = _query(where).where(c.rank_key.is_not(None))
        if after is not None:
            scored = scored.where(
                tuple_(c.rank_key, c.created_at, c.id) < tuple_(after.rank_key, after.created_at, after.id)
            )
        rows = rows_with_watches(engine, scored.order_by(*SORTS["priority"]).limit(limit))
        after = None  # the unscored stretch, if reached, is read from its top
    if len(rows) < limit:
        unscored = _after_by_time(_query(where).where(c.rank_key.is_(None)), after)
        rows += rows_with_watches(engine, unscored.limit(limit - len(rows)))
    return rows
