"""Signing in with a password: failures throttled per user and per address, old hashes upgraded.

Failed attempts are counted in a moving window: after MAX_FAILURES within FAILURE_WINDOW for one user
name, or from one client address, further attempts are refused until the oldest of them has left the
window, without checking the password, so guessing costs the attacker time and not us CPU. An attempt is
counted before its password is checked (and forgiven when it was right), so parallel guesses cannot all
slip past the count, and at most MAX_PARALLEL_CHECKS checks run at once in a process. The count is kept
in the database (store/login_failures.py): dashboard servers on one database share it, and a restart
forgets nothing. The client address is the socket's, or X-Forwarded-For from `[dashboard]
trusted_proxies` only.

A user whose configured hash is of an older scheme gets an argon2id hash made from the password they
just proved, stored in `password_upgrades` next to the sha256 of the configured hash it replaces; it is
used for as long as the config still holds that hash (an admin who sets a new one simply wins).
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select

from monitor.auth.users import User, authenticate, hash_password, needs_rehash
from monitor.errors import GrumbleError
from monitor.mention import utcnow
from monitor.store.login_failures import claim_attempt, failure_key, forgive
from monitor.store.schema import password_upgrades

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
# Each check holds 64 MiB for tens of milliseconds (argon2id): a burst of sign-ins under many names waits
# its turn here instead of taking the server's memory and every signed-in page's time with it.
MAX_PARALLEL_CHECKS = 2
CHECK_WAIT_S = 10.0
_checks = threading.BoundedSemaphore(MAX_PARALLEL_CHECKS)


@contextmanager
def _checking() -> Iterator[None]:
    if not _checks.acquire(timeout=CHECK_WAIT_S):
        raise LoginThrottled("the server is busy checking other sign-ins; try again in a minute")
    try:
        yield
    finally:
        _checks.release()


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
        # Counted as a failure before the check and forgiven after a right password: twenty parallel
        # guesses cannot all pass a count that each would read before any of them was written.
        attempt, failures = claim_attempt(self.engine, keys, now, FAILURE_WINDOW)
        for (kind, _), counted_failures in zip(counted, failures, strict=True):
            if counted_failures.count > MAX_FAILURES and counted_failures.oldest is not None:
                forgive(self.engine, attempt)
                wait = counted_failures.oldest + FAILURE_WINDOW - now
                minutes = max(1, math.ceil(wait.total_seconds() / 60))
                raise LoginThrottled(
                    f"too many failed sign-ins {'for this user' if kind == 'user' else 'from this address'}; "
                    f"try again in {minutes} minute{'s' if minutes != 1 else ''}"
                )
        configured = next((u for u in self.users if u.name == name.strip()), None)
        # Only the named user's upgrade is looked up; authenticate spends one hash's time whether the
        # name exists or not, so timing does not tell which names exist.
        candidates = (self._effective(configured),) if configured is not None else ()
        try:
            with _checking():
                user = authenticate(candidates, name.strip(), password)
        except LoginThrottled:
            forgive(self.engine, attempt)  # not checked: not a failure either
            raise
        if user is None or configured is None:
            return None  # the attempt stays counted
        forgive(self.engine, attempt)
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
