"""The Webhooks page (admins only), through AppTest: endpoints, subscriptions, the delivery log from a
real delivery to a loopback receiver, and a disabled endpoint enabled again."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from monitor.config import load_config
from monitor.mention import utcnow
from monitor.store import webhook_deliveries as store
from monitor.webhooks.delivery import WebhookDelivery
from tests.dashboard.conftest import Seeded, markdown_text, run_app
from tests.support.http_replay import ReplayServer
from tests.webhooks.receiver import Receiver, new_secret
from tests.webhooks.support import negative_mention

SECRET = new_secret(3)
USERS = """
[[users]]
name = "ada"
role = "admin"
password_hash = "scrypt$16384$8$1$c2FsdA==$aGFzaA=="
[[users]]
name = "vera"
role = "viewer"
password_hash = "scrypt$16384$8$1$c2FsdA==$aGFzaA=="
"""


def endpoints(url: str) -> str:
    return f"""
[[webhooks.endpoints]]
name = "helpdesk"
url = "{url}"
events = ["mention.negative", "case.opened"]
secret_env = "HOOK_SECRET"
{USERS}"""


def _as(name: str) -> dict[str, object]:
    return {"grumble_user": next(u for u in load_config().users if u.name == name)}


def test_an_admin_sees_the_endpoint_its_subscriptions_and_delivery_log(
    make_store: Callable[[str], Seeded], replay_server: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    receiver = Receiver(replay_server, SECRET)
    seeded = make_store(endpoints(receiver.url))
    with httpx.Client() as http:
        delivery = WebhookDelivery(load_config(), seeded.engine, http=http)
        delivery.run()
        negative_mention(seeded.engine, 101, utcnow())
        assert delivery.run().delivered == 1

    app = run_app("views/webhooks.py", session=_as("ada"))
    assert [s.value for s in app.subheader] == [f"helpdesk → {receiver.url.split('//')[1].split('/')[0]}"]
    assert "ok, last delivery" in app.success[0].value
    assert "**Pending:** 0" in markdown_text(app)
    subscriptions, log = (frame.value for frame in app.dataframe)
    assert set(subscriptions[subscriptions["subscribed"]]["event"]) == {"mention.negative", "case.opened"}
    assert list(log["event"]) == ["mention.negative"] and list(log["answer"]) == [204]
    assert list(log["webhook-id"]) == receiver.ids()


def test_a_disabled_endpoint_says_why_and_an_admin_enables_it_again(
    make_store: Callable[[str], Seeded], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    seeded = make_store(endpoints("https://hooks.example/in"))
    store.disable(
        seeded.engine, "helpdesk", utcnow(), "failing since 2026-11-01 08:00 UTC; last error: HTTP 502"
    )
    app = run_app("views/webhooks.py", session=_as("ada"))
    assert "disabled since" in app.error[0].value and "HTTP 502" in app.error[0].value
    app.button(key="wh_enable_helpdesk").click().run()
    assert not app.error and store.endpoint_states(seeded.engine)["helpdesk"].disabled_at is None


def test_only_admins_see_the_page(
    make_store: Callable[[str], Seeded], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    make_store(endpoints("https://hooks.example/in"))
    # Not in a viewer's navigation at all (the page also refuses anyone but an admin by itself).
    with pytest.raises(ValueError, match=r"Could not find a navigation page for .*webhooks\.py"):
        run_app("views/webhooks.py", session=_as("vera"))
