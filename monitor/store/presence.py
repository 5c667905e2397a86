"""Presence rows: a person's heartbeat on a mention, and who beat recently. How long a beat counts, and
what it means to people, is monitor/team/presence.py's to say."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, select

from monitor.store.engine import dialect_insert
from monitor.store.schema import presence


@dataclass(frozen=True)
class Presence:
    mention_id: int
    user_name: str
    seen_at: datetime
    drafting_at: datetime | None


def beat(engine: Engine, mention_id: int, user_name: str, drafting: bool, now: datetime) -> None:
    """`user_name` has the mention open now (and text in its reply box, when `drafting`)."""
    values = {"seen_at": now, "drafting_at": now if drafting else None}
    with engine.begin() as connection:
        insert = dialect_insert(connection)(presence).values(
            mention_id=mention_id, user_name=user_name, **values
        )
        connection.execute(
            insert.on_conflict_do_update(index_elements=["mention_id", "user_name"], set_=values)
        )


def leave(engine: Engine, mention_id: int, user_name: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            delete(presence).where(presence.c.mention_id == mention_id, presence.c.user_name == user_name)
        )


def seen_since(engine: Engine, mention_ids: Sequence[int], since: datetime) -> list[Presence]:
    """Everyone who beat on these mentions at or after `since`, by mention then name."""
    if not mention_ids:
        return []
    query = (
        select(presence)
        .where(presence.c.mention_id.in_(list(mention_ids)), presence.c.seen_at >= since)
        .order_by(presence.c.mention_id, presence.c.user_name)
    )
    with engine.connect() as connection:
        return [Presence(**row._mapping) for row in connection.execute(query)]


def forget_before(engine: Engine, before: datetime) -> int:
    """Drop beats older than `before` (long expired: nobody reads them). Returns how many."""
    with engine.begin() as connection:
        return connection.execute(delete(presence).where(presence.c.seen_at < before)).rowcount
