"""Canned replies kept in the database: the team's (owner TEAM) and each person's. Plain storage: which
codes are valid, who may change the team's, and how a reply fills in live in monitor/respond/canned.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from monitor.errors import GrumbleError
from monitor.store.schema import canned_replies

TEAM = ""  # the owner of the team's replies (canned_reply_tables.py says why not NULL)


class CannedReplyError(GrumbleError):
    """A canned reply that cannot be saved, used or deleted; the message says what to change."""


@dataclass(frozen=True)
class CannedReply:
    code: str  # typed as /code in the reply box
    title: str
    text: str
    owner: str = TEAM
    id: int | None = None  # None: a [[reply_templates]] entry of grumble.toml, not stored here
    updated_by: str | None = None
    updated_at: datetime | None = None

    @property
    def team(self) -> bool:
        return self.owner == TEAM

    @property
    def from_config(self) -> bool:
        return self.id is None


def _reply(row: Row[Any]) -> CannedReply:
    return CannedReply(row.code, row.title, row.text, row.owner, row.id, row.updated_by, row.updated_at)


def stored_replies(engine: Engine, user: str) -> list[CannedReply]:
    """The team's replies and `user`'s own, by code (the team's first where both use one)."""
    query = (
        select(canned_replies)
        .where(or_(canned_replies.c.owner == TEAM, canned_replies.c.owner == user))
        .order_by(canned_replies.c.code, canned_replies.c.owner)
    )
    with engine.connect() as connection:
        return [_reply(row) for row in connection.execute(query)]


def get_reply(engine: Engine, reply_id: int) -> CannedReply | None:
    with engine.connect() as connection:
        row = connection.execute(select(canned_replies).where(canned_replies.c.id == reply_id)).first()
    return None if row is None else _reply(row)


def save_reply(engine: Engine, reply: CannedReply, actor: str, now: datetime) -> CannedReply:
    """Inserts `reply` (id None) or updates the stored one with its id and owner; a code its owner
    already uses on another reply is refused."""
    values = {
        "code": reply.code,
        "title": reply.title,
        "text": reply.text,
        "updated_by": actor,
        "updated_at": now,
    }
    try:
        with engine.begin() as connection:
            if reply.id is None:
                key = connection.execute(
                    canned_replies.insert().values(owner=reply.owner, **values)
                ).inserted_primary_key
                assert key is not None
                new_id = key[0]
            else:
                new_id = reply.id
                changed = connection.execute(
                    update(canned_replies)
                    .where(canned_replies.c.id == reply.id, canned_replies.c.owner == reply.owner)
                    .values(**values)
                ).rowcount
                if not changed:
                    raise CannedReplyError(
                        f"the canned reply /{reply.code} is gone (deleted meanwhile?): save it as a new one"
                    )
    except IntegrityError:
        whose = "the team" if reply.team else "you"
        raise CannedReplyError(
            f"{whose} already have a canned reply /{reply.code}: pick another code, or edit that one"
        ) from None
    return CannedReply(reply.code, reply.title, reply.text, reply.owner, int(new_id), actor, now)


def delete_reply(engine: Engine, reply_id: int, owner: str) -> bool:
    """Deletes the reply with this id and owner; False when there was none."""
    with engine.begin() as connection:
        gone = connection.execute(
            delete(canned_replies).where(canned_replies.c.id == reply_id, canned_replies.c.owner == owner)
        ).rowcount
    return bool(gone)
