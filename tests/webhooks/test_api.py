"""/api/v1/webhooks (read only, admins): the endpoints with their health, and the delivery log."""

from __future__ import annotations

import httpx
from sqlalchemy import Engine
from starlette.testclient import TestClient

from monitor.api.app import PREFIX, api_server
from monitor.mention import utcnow
from monitor.respond.workflow import Repliers
from monitor.store.api_tokens import create_token
from monitor.webhooks.delivery import WebhookDelivery
from tests.api.conftest import unconfigured
from tests.support.http_replay import ReplayServer
from tests.webhooks.receiver import Receiver, new_secret
from tests.webhooks.support import endpoint, negative_mention, webhook_config

SECRET = new_secret(9)


def test_admins_read_the_endpoints_and_their_delivery_log(
    sqlite_engine: Engine, replay_server: ReplayServer
) -> None:
    receiver = Receiver(replay_server, SECRET, failures=[500])
    config = webhook_config(
        str(sqlite_engine.url),
        [endpoint(receiver.url + "?token=t0p", ["mention.negative"])],
        {"HOOK_SECRET": SECRET},
    )
    with httpx.Client() as http:
        delivery = WebhookDelivery(config, sqlite_engine, http=http)
        delivery.run()
        negative_mention(sqlite_engine, 1, utcnow())
        assert delivery.run().failed == 1

    app = api_server(sqlite_engine, config, repliers=Repliers(unconfigured))
    admin, viewer = (create_token(sqlite_engine, f"{role}-bot", role) for role in ("admin", "viewer"))
    with TestClient(app) as client:

        def get(path: str, token: str, **params: object) -> httpx.Response:
            return client.get(PREFIX + path, params=params, headers={"Authorization": f"Bearer {token}"})

        [hook] = get("/webhooks/endpoints", admin).json()
        assert hook["name"] == "helpdesk" and hook["health"] == "FAILING" and hook["pending"] == 1
        assert hook["events"] == ["mention.negative"] and "t0p" not in str(hook)
        [attempt] = get("/webhooks/attempts", admin, endpoint="helpdesk").json()
        assert attempt["status_code"] == 500 and attempt["webhook_id"] == receiver.ids()[0]
        unknown = get("/webhooks/attempts", admin, endpoint="nope")
        assert unknown.status_code == 422 and "one of: helpdesk" in unknown.json()["detail"]
        assert get("/webhooks/endpoints", viewer).status_code == 403
