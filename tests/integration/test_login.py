"""Signing in: failures throttled per user and per address, one count for every dashboard server on
the database; an old scrypt hash upgraded to argon2id."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from monitor.auth.login import FAILURE_WINDOW, MAX_FAILURES, Login, LoginThrottled
from monitor.auth.users import User, hash_password
from monitor.mention import utcnow
from monitor.store.schema import login_failures, password_upgrades
from tests.unit.test_auth import legacy_scrypt_hash


def login(engine: Engine, users: tuple[User, ...]) -> Login:
    return Login(engine, users)


@pytest.mark.both_databases
def test_failures_are_throttled_per_user_and_per_address(engine: Engine) -> None:
    dana = User("dana", "responder", hash_password("pw-dana-1"))
    sam = User("sam", "viewer", hash_password("pw-sam-22"))
    gate = login(engine, (dana, sam))
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


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.both_databases
def test_every_dashboard_server_counts_the_same_failures_and_a_restart_forgets_none(engine: Engine) -> None:
    dana = User("dana", "responder", hash_password("pw-dana-1"))
    clock = Clock(utcnow())
    first, second = Login(engine, (dana,), clock), Login(engine, (dana,), clock)  # two servers
    for attempt in range(MAX_FAILURES):
        clock.now += timedelta(minutes=1)
        server = first if attempt % 2 else second
        assert server.sign_in("dana", f"guess {attempt}", f"10.0.0.{attempt}") is None
    # Five failures split over two servers: both refuse now, and so does a restarted one.
    restarted = Login(engine, (dana,), clock)
    for server in (first, second, restarted):
        with pytest.raises(LoginThrottled, match="for this user; try again in 11 minutes"):
            server.sign_in("dana", "pw-dana-1", "10.0.0.9")
    # The window moves on: once the oldest failure has left it, one try is allowed again.
    clock.now += FAILURE_WINDOW - timedelta(minutes=4)
    assert restarted.sign_in("dana", "pw-dana-1", "10.0.0.9") == dana
    # Neither the names nor the addresses counted are stored, only hashes; old rows are deleted.
    with engine.connect() as connection:
        rows = connection.execute(select(login_failures.c.key, login_failures.c.at)).all()
    assert rows and all(len(key) == 64 and "dana" not in key and "10.0.0" not in key for key, _ in rows)
    clock.now += FAILURE_WINDOW * 2
    assert first.sign_in("dana", "wrong", None) is None
    with engine.connect() as connection:
        assert connection.execute(select(login_failures.c.at)).scalars().all() == [clock.now]


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


@pytest.mark.both_databases
def test_parallel_wrong_passwords_are_counted_before_any_is_checked(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from monitor.auth import users as users_module

    dana = User("dana", "responder", hash_password("pw-dana-1"))
    checked: list[str] = []
    real_verify = users_module.verify_password

    def counting_verify(password: str, stored: str) -> bool:
        checked.append(password)
        return real_verify(password, stored)

    monkeypatch.setattr(users_module, "verify_password", counting_verify)
    gate = Login(engine, (dana,))
    start = threading.Barrier(20)
    outcomes: list[str] = []

    def guess(number: int) -> None:
        start.wait()
        try:
            outcomes.append(
                "checked" if gate.sign_in("dana", f"guess {number}", "10.0.0.1") is None else "in"
            )
        except LoginThrottled:
            outcomes.append("refused")

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Before: the count was read first and written after the check, so all twenty were checked.
    assert len(checked) <= MAX_FAILURES
    assert outcomes.count("refused") >= 20 - MAX_FAILURES and "in" not in outcomes
    # What stays counted is what was checked: a refused attempt (counted before its check) is taken back.
    with engine.connect() as connection:
        counted = connection.execute(select(login_failures.c.key)).scalars().all()
    assert len(counted) == 2 * len(checked)  # one row for the user name, one for the address


def test_a_known_name_with_a_wrong_password_costs_one_check_like_an_unknown_name(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.auth import users as users_module

    dana = User("dana", "responder", hash_password("pw-dana-1"))
    checked: list[str] = []
    real_verify = users_module.verify_password

    def counting_verify(password: str, stored: str) -> bool:
        checked.append(stored)
        return real_verify(password, stored)

    monkeypatch.setattr(users_module, "verify_password", counting_verify)
    gate = Login(sqlite_engine, (dana,))
    assert gate.sign_in("dana", "wrong", None) is None
    assert gate.sign_in("nobody", "wrong", None) is None
    assert gate.sign_in("dana", "pw-dana-1", None) == dana
    # One argon2 check each (before: two for a real name with a wrong password, 0.57 s vs 0.27 s).
    assert len(checked) == 3
    assert checked[0] == dana.password_hash and checked[2] == dana.password_hash


def test_only_configured_proxies_may_say_who_the_client_is() -> None:
    from monitor.cli.service import dashboard_env
    from monitor.config import parse_config
    from monitor.errors import ConfigError

    assert dashboard_env(parse_config({}, None, {}))["FORWARDED_ALLOW_IPS"] == ""
    config = parse_config({"dashboard": {"trusted_proxies": ["10.0.0.5", "172.16.0.0/12"]}}, None, {})
    assert dashboard_env(config)["FORWARDED_ALLOW_IPS"] == "10.0.0.5,172.16.0.0/12"
    with pytest.raises(ConfigError, match=r"trusted_proxies.*IP addresses or networks.*proxy\.local"):
        parse_config({"dashboard": {"trusted_proxies": ["proxy.local"]}}, None, {})


def test_sign_ins_beyond_the_parallel_checks_wait_then_are_told_the_server_is_busy(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.auth import login as login_module

    monkeypatch.setattr(login_module, "CHECK_WAIT_S", 0.2)
    dana = User("dana", "responder", hash_password("pw-dana-1"))
    gate = Login(sqlite_engine, (dana,))
    held = [login_module._checks.acquire(timeout=1) for _ in range(login_module.MAX_PARALLEL_CHECKS)]
    try:
        assert all(held)
        with pytest.raises(LoginThrottled, match="busy checking other sign-ins"):
            gate.sign_in("dana", "pw-dana-1", None)
    finally:
        for _ in held:
            login_module._checks.release()
    assert gate.sign_in("dana", "pw-dana-1", None) == dana
    with sqlite_engine.connect() as connection:
        assert connection.execute(select(login_failures.c.id)).all() == []  # busy is not a failure
