"""The dashboard server's own routes and sign-in gate: /hooks/<helpdesk> is reachable without a session
(the helpdesk has none; its signature is the check), while pages still need one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.testclient import TestClient

from tests.helpdesk.fakes import SECRET, TOKEN, chatwoot_delivery


@pytest.fixture
def server_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    from dashboard import server

    config = tmp_path / "grumble.toml"
    config.write_text(
        '[[users]]\nname = "rick"\nrole = "responder"\nemail = "rick@acme.example"\n'
        '[helpdesk.chatwoot]\nbase_url = "http://127.0.0.1:9"\naccount_id = 1\ninbox_id = 7\n'
        'token_env = "CW_TOKEN"\nwebhook_secret_env = "CW_SECRET"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("GRUMBLE_CONFIG", str(config))
    monkeypatch.setenv("GRUMBLE_DATABASE_URL", f"sqlite:///{tmp_path / 'g.db'}")
    monkeypatch.setenv("CW_TOKEN", TOKEN)
    monkeypatch.setenv("CW_SECRET", SECRET)
    server._config.cache_clear()
    server._engine.cache_clear()
    app = Starlette(routes=server.ROUTES, middleware=[Middleware(server.SignInGate)])
    with TestClient(app, follow_redirects=False) as client:
        yield client
    server._engine().dispose()
    server._config.cache_clear()
    server._engine.cache_clear()


def test_the_hooks_are_outside_the_sign_in_gate_and_checked_by_signature(server_client: TestClient) -> None:
    headers, body = chatwoot_delivery("500", "resolved")
    answer = server_client.post("/hooks/chatwoot", headers=headers, content=body)
    assert answer.status_code == 200
    assert answer.json()["detail"] == "ignored: not a conversation Grumble handed over"
    unsigned = {k: v for k, v in headers.items() if k != "X-Chatwoot-Signature"}
    assert server_client.post("/hooks/chatwoot", headers=unsigned, content=body).status_code == 401
    # Everything else still needs a session.
    assert server_client.get("/some/page").status_code == 303
