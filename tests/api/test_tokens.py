"""API tokens: made by `grumble token create` and shown once, kept as a SHA-256 digest, listed, revoked
(the next request is refused), and limited per token."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import Engine, select

from monitor.cli.parser import main
from monitor.store.api_tokens import TokenError, create_token, list_tokens, revoke_token
from monitor.store.schema import api_tokens
from tests.api.conftest import Api, make_api


@pytest.mark.both_databases
def test_a_token_is_kept_hashed_works_until_revoked_and_is_refused_after(engine: Engine) -> None:
    api = make_api(engine)
    with api.client:
        token = create_token(engine, "zendesk-sync", "viewer")
        with engine.connect() as connection:
            stored = connection.execute(select(api_tokens).where(api_tokens.c.name == "zendesk-sync")).one()
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in stored
        assert stored.last_used_at is None
        headers = {"Authorization": f"Bearer {token}"}
        assert api.call("GET", "/watches", None, headers=headers).status_code == 200
        listed = {t.name: t for t in list_tokens(engine)}["zendesk-sync"]
        assert listed.role == "viewer" and listed.active and listed.last_used_at is not None
        with pytest.raises(TokenError, match="a token named 'zendesk-sync' exists already"):
            create_token(engine, "zendesk-sync", "admin")
        revoked = revoke_token(engine, "zendesk-sync")
        assert not revoked.active
        refused = api.call("GET", "/watches", None, headers=headers)
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == 'Bearer realm="grumble"'
        assert refused.json()["detail"] == (
            "This token is not valid: it was revoked or never made here. Ask an admin for a new one."
        )
        # Revoking again changes nothing; the other tokens still work.
        assert revoke_token(engine, "zendesk-sync").revoked_at == revoked.revoked_at
        assert api.get("/watches", role="viewer").status_code == 200


def test_unknown_malformed_and_missing_tokens_are_refused_alike(api: Api) -> None:
    for headers in (
        {"Authorization": "Bearer grumble_made-up"},
        {"Authorization": "Bearer not-even-ours"},
        {"Authorization": "Basic dXNlcjpwdw=="},
        {},
    ):
        answer = api.call("GET", "/mentions", None, headers=headers)
        assert answer.status_code == 401, headers
        assert answer.headers["content-type"] == "application/problem+json"


def test_the_rate_limit_is_per_token_and_says_when_to_come_back(sqlite_engine: Engine) -> None:
    api = make_api(sqlite_engine, per_minute=2)
    with api.client:
        assert [api.get("/watches").status_code for _ in range(2)] == [200, 200]
        refused = api.get("/watches")
        assert refused.status_code == 429 and refused.headers["retry-after"] == "30"
        assert refused.json()["detail"] == (
            "This token may send 2 requests a minute; send the next one in 30 s."
        )
        # Another token has a bucket of its own.
        assert api.get("/watches", role="admin").status_code == 200


def test_the_token_commands_print_the_token_once_and_list_and_revoke_by_name(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--database", database_url, "token"]
    assert main([*base, "create", "--name", "dana", "--role", "responder"]) == 0
    token = capsys.readouterr().out.splitlines()[0]
    assert token.startswith("grumble_") and len(token) > 40
    assert main([*base, "list"]) == 0
    listing = capsys.readouterr().out
    assert "dana" in listing and "responder" in listing and "active" in listing and token not in listing
    assert main([*base, "create", "--name", "dana", "--role", "viewer"]) == 1
    assert "a token named 'dana' exists already" in capsys.readouterr().err
    assert main([*base, "create", "--name", "no spaces", "--role", "viewer"]) == 1
    assert "token name 'no spaces' is not usable" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*base, "create", "--name", "x", "--role", "root"])
    assert "invalid choice: 'root'" in capsys.readouterr().err
    assert main([*base, "revoke", "dana"]) == 0
    assert main([*base, "list"]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main([*base, "revoke", "nobody"]) == 1
    assert "no token named 'nobody'" in capsys.readouterr().err
