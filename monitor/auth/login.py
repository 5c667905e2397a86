"""Signing in with a password: failures throttled per user and per address, old hashes upgraded.

Failed attempts are counted in a moving window (the `limits` library): after MAX_FAILURES within
FAILURE_WINDOW for one user name, or from one client address, further attempts are refused until the
window has moved on, without checking the password, so guessing costs the attacker time and not us
CPU. The counts live in this process (one dashboard server); a restart forgets them.

A user whose configured hash is of an older scheme gets an argon2id hash made from the password they
just proved, stored in `password_upgrades` next to the sha256 of the configured hash it replaces; it is
used for as long as the config still holds that hash (an admin who sets a new one simply wins).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import Engine, delete, select

from monitor.auth.users import User, authenticate, hash_password, needs_rehash
from monitor.errors import GrumbleError
from monitor.mention import utcnow
from monitor.store.schema import password_upgrades

MAX_FAILURES = 5
FAILURE_WINDOW_MINUTES = 15
_FAILURES = RateLimitItemPerMinute(MAX_FAILURES, FAILURE_WINDOW_MINUTES)
# One count per dashboard process, shared by every session's Login.
PROCESS_LIMITER = MovingWindowRateLimiter(MemoryStorage())


class LoginThrottled(GrumbleError):
    """Too many failed sign-ins for a user name or from an address."""


@dataclass
class Login:
    engine: Engine
    users: tuple[User, ...]
    limiter: MovingWindowRateLimiter = PROCESS_LIMITER

    def sign_in(self, name: str, password: str, address: str | None) -> User | None:
        """The user, or None for a wrong name or password; LoginThrottled while attempts are refused."""
        # No address (a test harness, a proxy that hides it): then only the user name is counted.
        keys = [("user", name.strip().lower())] + ([("address", address)] if address else [])
        for kind, value in keys:
            if not self.limiter.test(_FAILURES, kind, value):
                reset = self.limiter.get_window_stats(_FAILURES, kind, value).reset_time
                minutes = max(1, round((reset - utcnow().timestamp()) / 60))
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
            for kind, value in keys:
                self.limiter.hit(_FAILURES, kind, value)
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
