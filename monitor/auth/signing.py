"""What Grumble hands out and must get back unchanged: session cookies and unsubscribe links.

Both are signed with `itsdangerous` under a key per purpose, made at random on first use and kept in
the database (`signing_keys`), so every process on that database (the dashboard that checks a link, the
scheduler that mailed it) uses the same key, and a restart does not sign everyone out. Each purpose has
its own key and salt: a session cookie is never a valid unsubscribe token, nor the other way round.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import Engine, select

from monitor.mention import utcnow
from monitor.store.engine import dialect_insert
from monitor.store.schema import signing_keys

SESSION = "session"
UNSUBSCRIBE = "unsubscribe"


def signing_key(engine: Engine, purpose: str) -> str:
    """The key for `purpose`; the first caller makes it (two at once: one wins, both read it)."""
    with engine.begin() as connection:
        found = connection.scalar(select(signing_keys.c.secret).where(signing_keys.c.purpose == purpose))
        if found is not None:
            return str(found)
        connection.execute(
            dialect_insert(connection)(signing_keys)
            .values(purpose=purpose, secret=secrets.token_urlsafe(48), created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["purpose"])
        )
        return str(connection.scalar(select(signing_keys.c.secret).where(signing_keys.c.purpose == purpose)))


@dataclass(frozen=True)
class Unsubscribe:
    """An unsubscribe link's claim: this address may leave (or rejoin) this digest list."""

    list_name: str
    address: str


def unsubscribe_token(engine: Engine, list_name: str, address: str) -> str:
    """A token for one recipient of one list. It does not expire: a link in an old digest still works."""
    serializer = URLSafeSerializer(signing_key(engine, UNSUBSCRIBE), salt="grumble-unsubscribe")
    return serializer.dumps([list_name, address.strip().lower()])


def read_unsubscribe_token(engine: Engine, token: str) -> Unsubscribe | None:
    """The claim in `token`, or None when it was not made by us (edited, truncated, forged)."""
    serializer = URLSafeSerializer(signing_key(engine, UNSUBSCRIBE), salt="grumble-unsubscribe")
    try:
        value: Any = serializer.loads(token)
    except BadSignature:
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(part, str) for part in value)):
        return None
    return Unsubscribe(value[0], value[1])


def sign_session(engine: Engine, session_id: str) -> str:
    return URLSafeTimedSerializer(signing_key(engine, SESSION), salt="grumble-session").dumps(session_id)


def read_session(engine: Engine, cookie: str, max_age: timedelta) -> str | None:
    """The session id in a cookie we signed less than `max_age` ago, else None."""
    serializer = URLSafeTimedSerializer(signing_key(engine, SESSION), salt="grumble-session")
    try:
        value: Any = serializer.loads(cookie, max_age=int(max_age.total_seconds()))
    except BadSignature:  # SignatureExpired is a BadSignature
        return None
    return value if isinstance(value, str) else None
