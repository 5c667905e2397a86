"""Two people on one mention in two browser contexts of a real headless chromium, against a real
`grumble dashboard`: each sees the other arrive, and start writing a reply, without reloading; what
waits for a person shows as an unread count in their navigation; and a notification email's "stop
emails like this" link works without signing in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from monitor.auth.users import hash_password
from monitor.config import load_config
from monitor.mention import utcnow
from monitor.respond.cases import assign, open_case
from monitor.store.engine import connect
from monitor.store.filters import MentionFilter
from monitor.store.mentions import import_mentions, iter_all
from monitor.store.notifications import email_choices
from monitor.team.fanout import SETTLE, fan_out
from monitor.team.unsubscribe import notice_token
from tests.browser.conftest import (
    ARTIFACTS,
    dashboard_config,
    running_dashboard,
    sign_in,
)
from tests.dashboard.conftest import score
from tests.factories import mention

PASSWORDS = {"dana": "dana-pass-1", "sam": "sam-pass-1"}
USERS = "".join(
    f'[[users]]\nname = "{name}"\nrole = "{role}"\nemail = "{name}@example.com"\n'
    f'password_hash = "{hash_password(PASSWORDS[name])}"\n'
    for name, role in (("dana", "responder"), ("sam", "admin"))
)
SEEN = 20_000  # ms: a heartbeat (5 s) and a rerun, with room for a busy machine


@pytest.fixture(scope="module")
def team_dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """One server for the module (starting one takes seconds)."""
    config = dashboard_config(tmp_path_factory.mktemp("team"))
    config.write_text(config.read_text(encoding="utf-8") + USERS, encoding="utf-8")
    with running_dashboard(config) as url:
        yield url, config


def signed_in(browser: Any, url: str, name: str, target: str) -> Any:
    page = sign_in(browser, url, name, PASSWORDS[name], target, "Mention", 30_000)
    return page


@pytest.mark.slow
def test_two_people_see_each_other_on_a_mention_without_reloading(
    team_dashboard: tuple[str, Path], browser: Any
) -> None:
    url, config_path = team_dashboard
    config = load_config(config_path)
    engine = connect(config.database_url)
    import_mentions(engine, "acme", [mention(1, text="acme charged me twice", author="ann")])
    mention_id = next(row["id"] for row in iter_all(engine, MentionFilter()))
    score(engine, {"m1": mention_id}, {"m1": ("negative", 0.9)})
    case = open_case(engine, mention_id, "sam", config.responder)
    target = f"/mention?id={mention_id}"

    sam = signed_in(browser, url, "sam", target)
    sam.get_by_text("Nobody else has this mention open").wait_for(timeout=SEEN)
    dana = signed_in(browser, url, "dana", target)
    sam.get_by_text("dana is viewing").wait_for(timeout=SEEN)  # sam's page was not reloaded
    dana.get_by_text("sam is viewing").wait_for(timeout=SEEN)

    box = dana.get_by_role("textbox", name="Reply text")
    box.fill("Sorry Ann, a refund is on its way.")
    box.press("Tab")  # Streamlit sends a text area's value when it loses focus
    sam.get_by_text("dana is writing a reply").wait_for(timeout=SEEN)
    sam.screenshot(path=str(ARTIFACTS / "presence-writing.png"))

    # sam assigns the case to dana; the notify job tells her: her navigation counts it once reloaded.
    assign(engine, case.id, "dana", "sam", utcnow() - SETTLE)
    fan_out(engine, config, utcnow())
    dana.reload()
    dana.get_by_role("link", name="For you (1)").wait_for(timeout=30_000)
    dana.get_by_role("link", name="For you (1)").click()
    dana.get_by_text("sam assigned a mention to you").wait_for(timeout=SEEN)


@pytest.mark.slow
def test_a_notification_emails_stop_link_works_without_signing_in(team_dashboard: tuple[str, Path]) -> None:
    url, config_path = team_dashboard
    engine = connect(load_config(config_path).database_url)
    token = notice_token(engine, "dana", "assigned")
    with httpx.Client(base_url=url) as client:  # no session cookie
        page = client.get("/grumble/notifications/unsubscribe", params={"token": token})
        assert page.status_code == 200 and "A mention is assigned to me" in page.text
        # A mail client's one-click unsubscribe (RFC 8058): one POST, no page shown first.
        assert client.post("/grumble/notifications/unsubscribe", params={"token": token}).status_code == 200
        assert client.get("/grumble/notifications/unsubscribe", params={"token": "forged"}).status_code == 400
    with engine.connect() as connection:
        assert email_choices(connection, "dana") == {"assigned": False}
