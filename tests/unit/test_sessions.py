"""Signed session cookies and unsubscribe tokens: what a browser or a mail may send back, and what not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from monitor.auth.sessions import LIFETIME, end_session, session_user, start_session
from monitor.auth.signing import read_unsubscribe_token, unsubscribe_token
from monitor.auth.users import User
from monitor.mention import utcnow

DANA = User("dana", "responder", "x")
SAM = User("sam", "viewer", "x")


def test_a_session_cookie_names_its_user_until_it_is_revoked(sqlite_engine: Engine) -> None:
    cookie = start_session(sqlite_engine, DANA)
    assert session_user(sqlite_engine, cookie, (SAM, DANA)) == DANA
    end_session(sqlite_engine, cookie)
    assert session_user(sqlite_engine, cookie, (SAM, DANA)) is None


def test_a_session_ends_with_its_lifetime_and_with_its_user(sqlite_engine: Engine) -> None:
    cookie = start_session(sqlite_engine, DANA)
    assert (
        session_user(sqlite_engine, cookie, (SAM, DANA), now=utcnow() + LIFETIME + timedelta(seconds=1))
        is None
    )
    # Removed from the config (or renamed): the cookie no longer opens anything.
    assert session_user(sqlite_engine, cookie, (SAM,)) is None
    # A changed role is read afresh from the config.
    promoted = User("dana", "admin", "x")
    assert session_user(sqlite_engine, cookie, (promoted,)) == promoted


@pytest.mark.parametrize(
    "mangle", [lambda c: c[:-3] + "xx" + c[-1], lambda c: "x" + c, lambda c: "", lambda c: "a.b.c"]
)
def test_an_edited_or_made_up_cookie_opens_nothing(sqlite_engine: Engine, mangle: object) -> None:
    cookie = start_session(sqlite_engine, DANA)
    assert callable(mangle)
    assert session_user(sqlite_engine, mangle(cookie), (DANA,)) is None
    end_session(sqlite_engine, mangle(cookie))  # revoking nothing is not an error
    assert session_user(sqlite_engine, cookie, (DANA,)) == DANA


def test_an_unsubscribe_token_is_for_one_recipient_of_one_list(sqlite_engine: Engine) -> None:
    token = unsubscribe_token(sqlite_engine, "support", " Lead@Example.com ")
    claim = read_unsubscribe_token(sqlite_engine, token)
    assert claim is not None and (claim.list_name, claim.address) == ("support", "lead@example.com")
    assert token != unsubscribe_token(sqlite_engine, "support", "other@example.com")
    # A changed character of the signature; not its last, whose low bits base64 does not use.
    claims, signature = token.rsplit(".", 1)
    tampered = f"{claims}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    assert read_unsubscribe_token(sqlite_engine, tampered) is None


def test_the_two_kinds_of_token_are_not_interchangeable(sqlite_engine: Engine) -> None:
    cookie = start_session(sqlite_engine, DANA)
    assert read_unsubscribe_token(sqlite_engine, cookie) is None
    token = unsubscribe_token(sqlite_engine, "support", "lead@example.com")
    assert session_user(sqlite_engine, token, (DANA,)) is None


def test_the_signing_key_is_shared_by_every_process_on_the_database(sqlite_engine: Engine) -> None:
    from monitor.store.engine import connect

    token = unsubscribe_token(sqlite_engine, "support", "lead@example.com")
    other_process = connect(str(sqlite_engine.url))
    assert read_unsubscribe_token(other_process, token) is not None
    other_process.dispose()


@pytest.mark.parametrize(
    ("asked", "goes_to"),
    [
        ("/mention?id=3", "/mention?id=3"),
        ("/digests?list=a%20b", "/digests?list=a%20b"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_after_sign_in_only_a_page_of_this_server_is_opened(asked: str | None, goes_to: str) -> None:
    from dashboard.server import safe_next

    assert safe_next(asked) == goes_to
