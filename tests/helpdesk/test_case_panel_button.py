"""The case panel's "Send to ..." button (AppTest on the real mention page): with one helpdesk
configured it sends the case there once and then shows the link instead of the button; with several,
a picker chooses which."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import LinkButton

from monitor.helpdesk.chatwoot import Chatwoot
from monitor.helpdesk.handoff import send_to_helpdesk
from monitor.respond.cases import open_case
from monitor.store.helpdesk_links import links_for_mention
from tests.dashboard.conftest import Seeded, make_store, run_app
from tests.helpdesk.conftest import RESPONDER, account
from tests.helpdesk.fakes import TOKEN, FakeChatwoot, FakeZammad
from tests.support.http_replay import ReplayServer

__all__ = ["make_store"]


def _chatwoot(url: str) -> str:
    return (
        f'[helpdesk.chatwoot]\nbase_url = "{url}"\naccount_id = 1\ninbox_id = 7\n'
        'token_env = "CHATWOOT_API_TOKEN"\ntimeout_s = 5\n'
    )


def _open(seeded: Seeded) -> tuple[int, int]:
    mention_id = seeded.ids["m3"]
    case = open_case(seeded.engine, mention_id, "rick", RESPONDER)
    return mention_id, case.id


def _buttons(app: AppTest) -> list[str]:
    return [button.label for button in app.button]


def test_the_button_sends_the_case_once_and_then_shows_the_link(
    make_store: Callable[[str], Seeded], replay_server: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATWOOT_API_TOKEN", TOKEN)
    fake = FakeChatwoot(replay_server)
    seeded = make_store(_chatwoot(replay_server.url))
    mention_id, case_id = _open(seeded)

    app = run_app("views/mention.py", query={"id": str(mention_id)})
    assert "Send to Chatwoot" in _buttons(app)
    app.button(key=f"case-{case_id}-helpdesk-send").click().run()
    assert not app.exception, [e.value for e in app.exception]

    (link,) = links_for_mention(seeded.engine, mention_id)
    assert link.sent and len(fake.created) == 1
    assert any("Sent to Chatwoot" in message.value for message in app.success)
    assert "Send to Chatwoot" not in _buttons(app)
    shown = " ".join(str(caption.value) for caption in app.caption)
    assert "Sent to Chatwoot" in shown
    # The link goes to the conversation (a link button: no HTML, the URL as Grumble made it).
    assert link.remote_url == f"{replay_server.url}/app/accounts/1/conversations/500"
    (button,) = [b for b in app.get("link_button") if getattr(b, "key", None) == f"helpdesk-open-{link.id}"]
    assert isinstance(button, LinkButton)
    assert (button.value, button.proto.url) == ("Open in Chatwoot", link.remote_url)


def test_with_several_helpdesks_a_picker_chooses(
    make_store: Callable[[str], Seeded], replay_server: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATWOOT_API_TOKEN", TOKEN)
    monkeypatch.setenv("ZAMMAD_TOKEN", TOKEN)
    FakeChatwoot(replay_server)
    zammad = FakeZammad(replay_server)
    zammad_config = (
        f'[helpdesk.zammad]\nbase_url = "{replay_server.url}"\ngroup = "Social"\n'
        'customer = "social@acme.example"\ntoken_env = "ZAMMAD_TOKEN"\n'
    )
    seeded = make_store(_chatwoot(replay_server.url) + zammad_config)
    mention_id, case_id = _open(seeded)

    app = run_app("views/mention.py", query={"id": str(mention_id)})
    app.selectbox(key=f"case-{case_id}-helpdesk-choice").select("zammad").run()
    app.button(key=f"case-{case_id}-helpdesk-send").click().run()
    assert not app.exception, [e.value for e in app.exception]
    (link,) = links_for_mention(seeded.engine, mention_id)
    assert link.helpdesk == "zammad" and link.sent and len(zammad.created) == 1
    assert zammad.created[0]["title"].startswith("Negative appstore mention")
    # Chatwoot is still offered.
    assert "Send to Chatwoot" in _buttons(app)


def test_the_inbox_bulk_bar_sends_a_selection_each_once(
    make_store: Callable[[str], Seeded], replay_server: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATWOOT_API_TOKEN", TOKEN)
    fake = FakeChatwoot(replay_server)
    seeded = make_store(_chatwoot(replay_server.url))
    already, _ = _open(seeded)
    send_to_helpdesk(
        seeded.engine, already, Chatwoot(account("chatwoot", replay_server.url)), "rick", RESPONDER
    )
    app = run_app()
    for key in ("m2", "m3"):
        app.checkbox(key=f"pick-{seeded.ids[key]}").check()
    app.run()
    app.button(key="bulk-helpdesk-send").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert "2 mentions sent to Chatwoot." in app.success[0].value.replace("\\", "")
    # m3 had gone already: the same conversation, not a second one.
    assert len(fake.created) == 2
    assert all(
        link.sent for key in ("m2", "m3") for link in links_for_mention(seeded.engine, seeded.ids[key])
    )
