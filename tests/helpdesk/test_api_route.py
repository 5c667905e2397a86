"""POST/GET /api/v1/mentions/{id}/helpdesk: a responder's token hands a mention over once (sending
again answers the same link), a viewer's may only read, and bad input is a problem that says what to fix."""

from __future__ import annotations

from starlette.testclient import TestClient

from monitor.api.app import PREFIX, api_server
from monitor.config import Config
from monitor.config.helpdesk import HelpdeskSettings
from monitor.respond.workflow import Repliers
from monitor.store.api_tokens import create_token
from tests.api.conftest import WATCHES, unconfigured
from tests.helpdesk.conftest import Store, account
from tests.helpdesk.fakes import FakeChatwoot
from tests.support.http_replay import ReplayServer


def test_a_responder_hands_a_mention_over_once_and_a_viewer_reads_where_it_went(
    store: Store, replay_server: ReplayServer
) -> None:
    fake = FakeChatwoot(replay_server)
    settings = HelpdeskSettings({"chatwoot": account("chatwoot", replay_server.url)})
    config = Config(path=None, watches=WATCHES, helpdesk=settings)
    app = api_server(store.engine, config, per_minute=10_000, repliers=Repliers(unconfigured))
    client = TestClient(app, raise_server_exceptions=False)
    responder = {"Authorization": f"Bearer {create_token(store.engine, 'care-bot', 'responder')}"}
    viewer = {"Authorization": f"Bearer {create_token(store.engine, 'read-bot', 'viewer')}"}
    path = f"{PREFIX}/mentions/{store.ids['appstore']}/helpdesk"

    assert client.post(path, json={"helpdesk": "chatwoot"}, headers=viewer).status_code == 403
    sent = client.post(path, json={}, headers=responder)  # the only helpdesk configured
    assert sent.status_code == 200, sent.text
    body = sent.json()
    assert body["state"] == "sent" and body["remote_url"].endswith("/app/accounts/1/conversations/500")
    again = client.post(path, json={"helpdesk": "chatwoot"}, headers=responder)
    assert again.json() == body and len(fake.created) == 1

    listed = client.get(path, headers=viewer)
    assert listed.status_code == 200 and [link["remote_id"] for link in listed.json()] == ["500"]

    wrong = client.post(path, json={"helpdesk": "zammad"}, headers=responder)
    assert wrong.status_code == 400 and "Name a configured helpdesk" in wrong.json()["detail"]
    missing = client.post(f"{PREFIX}/mentions/999/helpdesk", json={}, headers=responder)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(
        "application/problem+json"
    )
