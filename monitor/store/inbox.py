"""The inbox's queries: open negatives by priority (or another order), each along its own index."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, Select, func, select
from sqlalchemy.sql.elements import ColumnElement

from monitor.store.authors import vip_flag
from monitor.store.filters import MentionFilter, filtered, rows_with_watches
from monitor.store.schema import INBOX_ORDERS, mentions

# The orders with an index of their own (schema.py), and newest, which walks ix_mentions_created.
SORTS: dict[str, tuple[ColumnElement[Any], ...]] = {
    "priority": INBOX_ORDERS["priority"],
    "newest": (mentions.c.created_at.desc(), mentions.c.id.desc()),
    "reach": INBOX_ORDERS["reach"],
    "most negative": INBOX_ORDERS["most negative"],
}


def ranked(
    engine: Engine, where: MentionFilter, limit: int = 50, offset: int = 0, sort: str = "priority"
) -> list[dict[str, Any]]:
    """Mentions matching `where` in the order `sort` names (SORTS), highest priority first by default,
    each with its author's `vip` flag."""
    return rows_with_watches(engine, ranked_query(where, limit, offset, sort))


def ranked_query(
    where: MentionFilter, limit: int = 50, offset: int = 0, sort: str = "priority"
) -> Select[Any]:
    """The query `ranked` runs. Each order has an index in that order (schema.py), so the first page is
    a walk along it, never a sort of every match."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; choose one of {', '.join(SORTS)}")
    return filtered(select(mentions, vip_flag()), where).order_by(*SORTS[sort]).limit(limit).offset(offset)


def count(engine: Engine, where: MentionFilter, cap: int | None = None) -> int:
    """How many mentions match; with `cap`, stops counting past it (the caller shows "cap+"), so a
    filter that cannot use an index still answers fast on a million mentions."""
    if cap is None:
        query = filtered(select(func.count()).select_from(mentions), where)
    else:
        matching = filtered(select(mentions.c.id), where).limit(cap + 1).subquery()
        query = select(func.count()).select_from(matching)
    with engine.connect() as connection:
        total = int(connection.scalar(query) or 0)
    return total if cap is None else min(total, cap + 1)


def open_negatives(engine: Engine, competitor_watches: Sequence[str] = ()) -> int:
    """The number the inbox shows in its header: unhandled negative mentions, leaving out those only
    `competitor_watches` matched (a competitor's unhappy customers are not the care team's)."""
    return count(
        engine, MentionFilter(labels=["negative"], triage=["open"], exclude_watches=competitor_watches)
    )
