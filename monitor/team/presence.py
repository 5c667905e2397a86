"""Presence: who else has a mention open now, and who is writing a reply to it.

Each person's page beats every HEARTBEAT while it is open (dashboard/presence.py); a beat counts for
EXPIRES_AFTER, a few beats' worth, so a slow rerun does not make someone flicker away, and a closed tab
is gone within it. The beats are rows in the database, so two dashboard processes see each other's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from monitor.store import presence as presence_store

HEARTBEAT = timedelta(seconds=5)
EXPIRES_AFTER = timedelta(seconds=20)
# Beats older than this are deleted by the notify job: long expired, nobody reads them.
FORGET_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Here:
    user_name: str
    drafting: bool


def mark_here(engine: Engine, mention_id: int, user_name: str, drafting: bool, now: datetime) -> None:
    presence_store.beat(engine, mention_id, user_name, drafting, now)


def others_here(engine: Engine, mention_ids: Sequence[int], me: str, now: datetime) -> dict[int, list[Here]]:
    """Everyone but `me` on each of these mentions now (mentions nobody else is on are left out)."""
    since = now - EXPIRES_AFTER
    found: dict[int, list[Here]] = {}
    for beat in presence_store.seen_since(engine, mention_ids, since):
        if beat.user_name == me:
            continue
        drafting = beat.drafting_at is not None and beat.drafting_at >= since
        found.setdefault(beat.mention_id, []).append(Here(beat.user_name, drafting))
    return found


def presence_words(here: Sequence[Here]) -> str:
    """ "dana is writing a reply · sam is viewing": the writers first, they are the collision risk."""
    ordered = sorted(here, key=lambda h: (not h.drafting, h.user_name))
    return " · ".join(f"{h.user_name} is {'writing a reply' if h.drafting else 'viewing'}" for h in ordered)
