"""Signing in with a password: failures throttled per user and per address, old hashes upgraded.

Failed attempts are counted in a moving window: after MAX_FAILURES within FAILURE_WINDOW for one user
name, or from one client address, further attempts are refused until the oldest of them has left the
window, without checking the password, so guessing costs the attacker time and not us CPU. The count is
kept in the database (store/login_failures.py): dashboard servers on one database share it, and a
restart forgets nothing. (Two servers checking at the very same moment may each let one more try by.)

A user whose configured hash is of an older scheme gets an argon2id hash made from the password they
just proved, stored in `password_upgrades` next to the sha256 of the configured hash it replaces; it is
used for as long as the config still holds that hash (an admin who sets a new one simply wins).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select

from monitor.auth.users import User, authenticate, hash_password, needs_rehash
from monitor.errors import GrumbleError
from monitor.mention import utcnow
from monitor.store.login_failures import failure_key, failures_since, record_failure
from monitor.store.schema import password_upgrades

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)


class LoginThrottled(GrumbleError):
    """Too many failed sign-ins for a user name or from an address."""


@dataclass
class Login:
    engine: Engine
    users: tuple[User, ...]
    clock: Callable[[], datetime] = utcnow

    def sign_in(self, name: str, password: str, address: str | None) -> User | None:
        """The user, or None for a wrong name or password; LoginThrottled while attempts are refused."""
        now = self.clock()
        # No address (a test harness, a proxy that hides it): then only the user name is counted.
        counted = [("user", name.strip().lower())] + ([("address", address)] if address else [])
        keys = [failure_key(kind, value) for kind, value in counted]
        for (kind, _), key in zip(counted, keys, strict=True):
            failures = failures_since(self.engine, key, now - FAILURE_WINDOW)
            if failures.count >= MAX_FAILURES and failures.oldest is not None:
                wait = failures.oldest + FAILURE_WINDOW - now
                minutes = max(1, math.ceil(wait.total_seconds() / 60))
                raise LoginThrottled(
                    f"too many failed sign-ins {'for this user' if kind == 'user' else 'from this address'}; "
                    f"try again in {minutes} minute{'s' if minutes != 1 else ''}"
                )
        configured = next((u for u in self.users if u.name == name.strip()), None)
        # Only the named user's upgrade is looked up; authenticate still spends a hash's time on an
        # unknown name, so timing does not tell which names exist.
        candidates = (self._effective(configured),) if configured is not None else ()
        user = authenticate(candidates, name.strip(), password)
        if user is None or configured is None:
            record_failure(self.engine, keys, now, FAILURE_WINDOW)
            return None
        if user.password_hash and needs_rehash(user.password_hash):
            self._upgrade(configured, password)
        return configured

    def _effective(self, user: User) -> User:
        """The user with the hash to check: an upgrade of the configured hash, if there is one."""
        if not user.password_hash:
            return user
        with self.engine.connect() as connection:
            row = connection.execute(
                select(password_upgrades).where(password_upgrades.c.user_name == user.name)
            ).first()
        if row is None or row.replaces != _digest(user.password_hash):
            return user
        return replace(user, password_hash=row.password_hash)

    def _upgrade(self, user: User, password: str) -> None:
        assert user.password_hash is not None
        stronger = hash_password(password)
        with self.engine.begin() as connection:
            connection.execute(delete(password_upgrades).where(password_upgrades.c.user_name == user.name))
            connection.execute(
                password_upgrades.insert().values(
                    user_name=user.name,
                    replaces=_digest(user.password_hash),
                    password_hash=stronger,
                    upgraded_at=utcnow(),
                )
            )


def _digest(configured_hash: str) -> str:
    return hashlib.sha256(configured_hash.encode()).hexdigest()
