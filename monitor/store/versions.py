"""What an edited mention said before: its earlier versions (written by store/edits.py on an edit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select

from monitor.store.schema import mention_versions


@dataclass(frozen=True)
class MentionVersion:
    """One earlier version: what the mention said from `seen_at` until the edit at `replaced_at`."""

    version: int
    text: str
    title: str | None
    rating: float | None
    language: str | None
    seen_at: datetime
    replaced_at: datetime


def earlier_versions(engine: Engine, mention_id: int) -> list[MentionVersion]:
    """The mention's earlier versions, the latest edit first (the mention itself holds the current one)."""
    v = mention_versions.c
    query = (
        select(v.version, v.text, v.title, v.rating, v.language, v.seen_at, v.replaced_at)
        .where(v.mention_id == mention_id)
        .order_by(v.version.desc())
    )
    with engine.connect() as connection:
        return [MentionVersion(*row) for row in connection.execute(query)]
