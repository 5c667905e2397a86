"""A person's saved inbox views: a name and the link query that reopens it (surface/inbox_view.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, select

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


def clean_name(name: str) -> str:
    cleaned = " ".join(clean_text(name, len(name)).split())
    if not cleaned:
        raise SavedViewError("a saved view needs a name, such as “overdue on reddit”")
    if len(cleaned) > MAX_NAME_CHARS:
        raise SavedViewError(f"a view's name takes at most {MAX_NAME_CHARS} characters; found {len(cleaned)}")
    return cleaned


def list_views(engine: Engine, user: str) -> list[SavedView]:
    query = select(saved_views).where(saved_views.c.user_name == user).order_by(saved_views.c.name)
    with engine.connect() as connection:
        return [SavedView(row.name, dict(row.params or {})) for row in connection.execute(query)]


def save_view(engine: Engine, user: str, name: str, params: Mapping[str, Any], now: datetime) -> SavedView:
    """Saves `params` under `name` for `user`, replacing a view of that name."""
    name = clean_name(name)
    values = {"user_name": user, "name": name, "params": dict(params), "saved_at": now}
    with engine.begin() as connection:
        existing = {view.name for view in _names(connection, user)}
        if name not in existing and len(existing) >= MAX_VIEWS:
            raise SavedViewError(f"you have {MAX_VIEWS} saved views, the most there can be; delete one first")
        insert = dialect_insert(connection)(saved_views).values(**values)
        connection.execute(
            insert.on_conflict_do_update(
                index_elements=["user_name", "name"], set_={"params": values["params"], "saved_at": now}
            )
        )
    return SavedView(name, dict(params))


def _names(connection: Any, user: str) -> list[Any]:
    return list(connection.execute(select(saved_views.c.name).where(saved_views.c.user_name == user)))


def delete_view(engine: Engine, user: str, name: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            delete(saved_views).where(saved_views.c.user_name == user, saved_views.c.name == name)
        )
