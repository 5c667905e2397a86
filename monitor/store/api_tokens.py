"""The REST API's bearer tokens: made, listed, revoked, and found again from what a caller sends.

A token is 32 random bytes (256 bits) from `secrets`, shown once. Only its SHA-256 is stored: a
password hash (argon2, salted and slow on purpose) guards against guessing low-entropy secrets, which a
256-bit random value is not, and a plain digest lets a request find its row with one indexed lookup
instead of checking a slow hash against every row. A copy of the database does not give the tokens.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from monitor.auth.users import ROLES
from monitor.errors import GrumbleError
from monitor.mention import utcnow
from monitor.store.schema import api_tokens

# Recognisable in a leaked config or a secret scanner's rules, and never mistaken for a session cookie.
TOKEN_PREFIX = "grumble_"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
# Writing "last used" on every request would turn every read into a write: once a minute is enough to
# say whether a token is still in use.
LAST_USED_PRECISION = timedelta(minutes=1)


class TokenError(GrumbleError):
    """A token cannot be made or revoked as asked (a name taken, unknown, or malformed; a bad role)."""


@dataclass(frozen=True)
class ApiToken:
    name: str
    role: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check(name: str, role: str) -> None:
    if not NAME_PATTERN.match(name):
        raise TokenError(
            f"token name {name!r} is not usable: use 1-128 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit (e.g. the person's or the integration's name)"
        )
    if role not in ROLES:
        raise TokenError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")


def create_token(engine: Engine, name: str, role: str, now: datetime | None = None) -> str:
    """A new token for `name` with `role`; returns the token itself, which is not stored anywhere."""
    _check(name, role)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with engine.begin() as connection:
            connection.execute(
                api_tokens.insert().values(
                    name=name, role=role, token_hash=token_digest(token), created_at=now or utcnow()
                )
            )
    except IntegrityError:
        raise TokenError(
            f"a token named {name!r} exists already (revoked ones keep their name in the audit trail); "
            "choose another name"
        ) from None
    return token


def list_tokens(engine: Engine) -> list[ApiToken]:
    query = select(
        api_tokens.c.name,
        api_tokens.c.role,
        api_tokens.c.created_at,
        api_tokens.c.last_used_at,
        api_tokens.c.revoked_at,
    ).order_by(api_tokens.c.name)
    with engine.connect() as connection:
        return [ApiToken(*row) for row in connection.execute(query)]


def revoke_token(engine: Engine, name: str, now: datetime | None = None) -> ApiToken:
    """Revoke the token called `name` (its next request is refused); revoking twice changes nothing."""
    with engine.begin() as connection:
        connection.execute(
            update(api_tokens)
            .where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now or utcnow())
        )
    found = next((token for token in list_tokens(engine) if token.name == name), None)
    if found is None:
        raise TokenError(f"no token named {name!r}; `grumble token list` shows them")
    return found


def token_holder(engine: Engine, token: str, now: datetime | None = None) -> ApiToken | None:
    """The token a caller sent, revoked or not; None for one Grumble did not make. Notes its use."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    digest = token_digest(token)
    query = select(
        api_tokens.c.name,
        api_tokens.c.role,
        api_tokens.c.created_at,
        api_tokens.c.last_used_at,
        api_tokens.c.revoked_at,
    ).where(api_tokens.c.token_hash == digest)
    with engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None:
        return None
    found = ApiToken(*row)
    now = now or utcnow()
    if found.active and (found.last_used_at is None or now - found.last_used_at >= LAST_USED_PRECISION):
        with engine.begin() as connection:
            connection.execute(
                update(api_tokens).where(api_tokens.c.token_hash == digest).values(last_used_at=now)
            )
    return found
