"""Dashboard sign-ins that survive a reload: a row per session, a signed cookie naming it.

The cookie alone proves nothing once its row is revoked (signing out) or expired, and it names a user by
name only: a user removed from the config, or whose role changed, is looked up afresh on every request.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import Engine, select, update

from monitor.auth.signing import read_session, sign_session
from monitor.auth.users import User
from monitor.mention import utcnow
from monitor.store.schema import dashboard_sessions

COOKIE = "grumble_session"
# A working day and then some: a care team signs in once a shift, not once a tab.
LIFETIME = timedelta(hours=12)


def start_session(engine: Engine, user: User, now: datetime | None = None) -> str:
    """A new session for `user`; returns the cookie value."""
    now = now or utcnow()
    session_id = secrets.token_urlsafe(32)
    with engine.begin() as connection:
        connection.execute(
            dashboard_sessions.insert().values(
                id=session_id, user_name=user.name, created_at=now, expires_at=now + LIFETIME
            )
        )
    return sign_session(engine, session_id)


def session_user(
    engine: Engine, cookie: str | None, users: tuple[User, ...], now: datetime | None = None
) -> User | None:
    """The configured user a cookie stands for, or None (unsigned, expired, revoked, user removed)."""
    if not cookie:
        return None
    session_id = read_session(engine, cookie, LIFETIME)
    if session_id is None:
        return None
    with engine.connect() as connection:
        row = connection.execute(
            select(dashboard_sessions).where(dashboard_sessions.c.id == session_id)
        ).first()
    if row is None or row.revoked_at is not None or row.expires_at <= (now or utcnow()):
        return None
    return next((user for user in users if user.name == row.user_name), None)


def end_session(engine: Engine, cookie: str | None, now: datetime | None = None) -> None:
    """Revoke the session a cookie names (nothing happens for a cookie we did not sign)."""
    session_id = read_session(engine, cookie, LIFETIME) if cookie else None
    if session_id is None:
        return
    with engine.begin() as connection:
        connection.execute(
            update(dashboard_sessions)
            .where(dashboard_sessions.c.id == session_id, dashboard_sessions.c.revoked_at.is_(None))
            .values(revoked_at=now or utcnow())
        )
