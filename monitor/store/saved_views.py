"""Saved inbox views: a name and the link query that reopens it (surface/inbox_view.py). A view is its
owner's; shared, every signed-in person sees it among the team's views, and only its owner changes or
deletes it (a name is unique per owner, so two people may each share a "refunds")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, select, update

from monitor.errors import GrumbleError
from monitor.store.engine import dialect_insert
from monitor.store.link_input import clean_text
from monitor.store.schema import saved_views

MAX_NAME_CHARS = 80
MAX_VIEWS = 50


class SavedViewError(GrumbleError):
    pass


@dataclass(frozen=True)
class SavedView:
    name: str
    params: dict[str, Any]
    shared: bool = False
    owner: str | None = None  # who saved it, for the team's views; None in a person's own list


def clean_name(name: str) -> str:
    cleaned = " ".join(clean_text(name, len(name)).split())
    if not cleaned:
        raise SavedViewError("a saved view needs a name, such as “overdue on reddit”")
    if len(cleaned) > MAX_NAME_CHARS:
        raise SavedViewError(f"a view's name takes at most {MAX_NAME_CHARS} characters; found {len(cleaned)}")
    return cleaned


def list_views(engine: Engine, user: str) -> list[SavedView]:
    """`user`'s own views, shared or not."""
    query = select(saved_views).where(saved_views.c.user_name == user).order_by(saved_views.c.name)
    with engine.connect() as connection:
        return [SavedView(row.name, dict(row.params or {}), row.shared) for row in connection.execute(query)]


def team_views(engine: Engine, user: str) -> list[SavedView]:
    """The views others shared with the team, by name then owner (`user`'s own are in `list_views`)."""
    query = (
        select(saved_views)
        .where(saved_views.c.shared.is_(True), saved_views.c.user_name != user)
        .order_by(saved_views.c.name, saved_views.c.user_name)
    )
    with engine.connect() as connection:
        return [
            SavedView(row.name, dict(row.params or {}), True, row.user_name)
            for row in connection.execute(query)
        ]


def save_view(
    engine: Engine,
    user: str,
    name: str,
    params: Mapping[str, Any],
    now: datetime,
    shared: bool | None = None,
) -> SavedView:
    """Saves `params` under `name` for `user`, replacing a view of that name. `shared`: whether the
    team sees it; None keeps what a replaced view had (a new one is personal)."""
    name = clean_name(name)
    values = {"user_name": user, "name": name, "params": dict(params), "saved_at": now}
    changes: dict[str, Any] = {"params": values["params"], "saved_at": now}
    if shared is not None:
        values["shared"] = changes["shared"] = shared
    with engine.begin() as connection:
        existing = {view.name for view in _names(connection, user)}
        if name not in existing and len(existing) >= MAX_VIEWS:
            raise SavedViewError(f"you have {MAX_VIEWS} saved views, the most there can be; delete one first")
        insert = dialect_insert(connection)(saved_views).values(**values)
        connection.execute(insert.on_conflict_do_update(index_elements=["user_name", "name"], set_=changes))
        kept = connection.scalar(
            select(saved_views.c.shared).where(saved_views.c.user_name == user, saved_views.c.name == name)
        )
    return SavedView(name, dict(params), bool(kept))


def share_view(engine: Engine, user: str, name: str, shared: bool) -> None:
    """Show `user`'s view to the team, or take it back; only its owner can (the query is by owner)."""
    with engine.begin() as connection:
        changed = connection.execute(
            update(saved_views)
            .where(saved_views.c.user_name == user, saved_views.c.name == clean_name(name))
            .values(shared=shared)
        ).rowcount
    if not changed:
        raise SavedViewError(f"you have no saved view named “{name}”; only a view's owner can share it")


def _names(connection: Any, user: str) -> list[Any]:
    return list(connection.execute(select(saved_views.c.name).where(saved_views.c.user_name == user)))


def delete_view(engine: Engine, user: str, name: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            delete(saved_views).where(saved_views.c.user_name == user, saved_views.c.name == name)
        )
