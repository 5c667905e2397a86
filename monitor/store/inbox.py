"""The inbox's queries: open negatives by priority, through the (triage, label, rank_key) index."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from monitor.store.filters import MentionFilter, filtered, rows_with_watches
from monitor.store.schema import mentions


def ranked(engine: Engine, where: MentionFilter, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """Mentions matching `where`, highest priority first; unscored ones (no key yet) last, newest first."""
    query = (
        filtered(select(mentions), where)
        .order_by(mentions.c.rank_key.desc().nulls_last(), mentions.c.created_at.desc(), mentions.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return rows_with_watches(engine, query)


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


def open_negatives(engine: Engine) -> int:
    """The number the inbox shows in its header: unhandled negative mentions."""
    return count(engine, MentionFilter(labels=["negative"], triage=["open"]))
