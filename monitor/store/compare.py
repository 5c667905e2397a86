"""The comparison's query: each watch's mentions and negative mentions posted in a period, in one pass.

A mention that matched several watches of the group counts once for each: it is a mention of each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, case, func, select

from monitor.store.schema import mention_watches, mentions


@dataclass(frozen=True)
class WatchVolume:
    watch: str
    total: int
    negative: int


def period_volumes(
    engine: Engine, watches: Sequence[str], start: datetime, end: datetime
) -> list[WatchVolume]:
    """Per watch asked for, its mentions posted in [start, end) and how many are negative; a watch with
    none is left out (the caller knows which it asked for)."""
    if not watches:
        return []
    c = mentions.c
    negative = func.sum(case((c.label == "negative", 1), else_=0))
    query = (
        select(mention_watches.c.watch, func.count().label("total"), negative.label("negative"))
        .select_from(mentions.join(mention_watches, mention_watches.c.mention_id == c.id))
        .where(mention_watches.c.watch.in_(watches), c.created_at >= start, c.created_at < end)
        .group_by(mention_watches.c.watch)
        .order_by(mention_watches.c.watch)
    )
    with engine.connect() as connection:
        return [
            WatchVolume(row.watch, int(row.total), int(row.negative or 0))
            for row in connection.execute(query)
        ]
