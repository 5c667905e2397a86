"""Signing in: failures throttled per user and per address; an old scrypt hash upgraded to argon2id."""

from __future__ import annotations

import pytest
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import Engine, select

from monitor.auth.login import MAX_FAILURES, Login, LoginThrottled
from monitor.auth.users import User, hash_password
from monitor.store.schema import password_upgrades
from tests.unit.test_auth import legacy_scrypt_hash


def login(engine: Engine, users: tuple[User, ...]) -> Login:
    return Login(engine, users, MovingWindowRateLimiter(MemoryStorage()))


def test_failures_are_throttled_per_user_and_per_address(sqlite_engine: Engine) -> None:
    dana = User("dana", "responder", hash_password("pw-dana-1"))
    sam = User("sam", "viewer", hash_password("pw-sam-22"))
    gate = login(sqlite_engine, (dana, sam))
    for _ in range(MAX_FAILURES):
        assert gate.sign_in("dana", "guess", "10.0.0.1") is None
    # Now even the right password is refused for dana, from any address, without being checked.
    with pytest.raises(
        LoginThrottled, match="too many failed sign-ins for this user; try again in 15 minutes"
    ):
        gate.sign_in("dana", "pw-dana-1", "10.0.0.2")
    # And the address that guessed cannot try other names either.
    with pytest.raises(LoginThrottled, match="from this address"):
        gate.sign_in("sam", "pw-sam-22", "10.0.0.1")
    assert gate.sign_in("sam", "pw-sam-22", "10.0.0.3") == sam


def test_an_old_scrypt_hash_is_upgraded_at_sign_in_while_the_config_keeps_it(sqlite_engine: Engine) -> None:
    configured = User("dana", "responder", legacy_scrypt_hash("pw-dana-1"))
    gate = login(sqlite_engine, (configured,))
    assert gate.sign_in("dana", "pw-dana-1", "10.0.0.1") == configured
    with sqlite_engine.connect() as connection:
        row = connection.execute(select(password_upgrades)).one()
    assert row.user_name == "dana" and row.password_hash.startswith("$argon2id$")
    # Next time the argon2id hash is what is checked; a wrong password still fails.
    assert gate.sign_in("dana", "pw-dana-1", "10.0.0.1") == configured
    assert gate.sign_in("dana", "wrong", "10.0.0.1") is None
    # An admin who configures a new hash wins over the stored upgrade.
    renewed = User("dana", "responder", hash_password("new-pass-9"))
    assert login(sqlite_engine, (renewed,)).sign_in("dana", "new-pass-9", "10.0.0.1") == renewed
    assert login(sqlite_engine, (renewed,)).sign_in("dana", "pw-dana-1", "10.0.0.1") is None
