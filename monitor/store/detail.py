"""One mention with its surroundings: the thread it belongs to and its author's other mentions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from monitor.store.authors import vip_flag
from monitor.store.filters import rows_with_watches
from monitor.store.schema import mentions


def get_mention(engine: Engine, mention_id: int) -> dict[str, Any] | None:
    """The mention with its watches and its author's `vip` flag, as the inbox lists it."""
    found = rows_with_watches(engine, select(mentions, vip_flag()).where(mentions.c.id == mention_id))
    return found[0] if found else None


def parent_of(engine: Engine, mention: dict[str, Any]) -> dict[str, Any] | None:
    if not mention.get("parent_id"):
        return None
    found = rows_with_watches(
        engine,
        select(mentions).where(
            mentions.c.source == mention["source"], mentions.c.external_id == mention["parent_id"]
        ),
    )
    return found[0] if found else None


def replies_to(engine: Engine, mention: dict[str, Any], limit: int = 20) -> list[dict[str, Any]]:
    return rows_with_watches(
        engine,
        select(mentions)
        .where(mentions.c.source == mention["source"], mentions.c.parent_id == mention["external_id"])
        .order_by(mentions.c.created_at)
        .limit(limit),
    )


def by_same_author(engine: Engine, mention: dict[str, Any], limit: int = 10) -> list[dict[str, Any]]:
    """The author's other recent mentions on the same source (names are only unique per source)."""
    if not mention.get("author"):
        return []
    return rows_with_watches(
        engine,
        select(mentions)
        .where(
            mentions.c.source == mention["source"],
            mentions.c.author == mention["author"],
            mentions.c.id != mention["id"],
        )
        .order_by(mentions.c.created_at.desc())
        .limit(limit),
    )
