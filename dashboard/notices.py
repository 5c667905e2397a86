"""The For you entry in the navigation, with the reader's unread count in its title (read once a full
run; the page itself is views/for_you.py)."""

from __future__ import annotations

from sqlalchemy import Engine

from monitor.auth.users import User
from monitor.store.notifications import unread_count


def for_you_title(engine: Engine, user: User) -> str:
    """ "For you (3)" with three unread, else "For you"."""
    unread = unread_count(engine, user.name)
    return f"For you ({unread:,})" if unread else "For you"
