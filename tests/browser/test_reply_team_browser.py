"""Two people on one reply in two browser contexts of a real headless chromium, against a real
`grumble dashboard`: a draft saved over the other's version is refused with both texts shown, saving
one's own over it is a choice, and the admin who rewrote a responder's draft cannot approve it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.auth.users import hash_password
from monitor.config import load_config
from monitor.respond.cases import open_case
from monitor.respond.replies import current_reply
from monitor.store.engine import connect
from monitor.store.filters import MentionFilter
from monitor.store.mentions import import_mentions, iter_all
from monitor.store.reply_moves import load_versions
from tests.browser.conftest import (
    ARTIFACTS,
    dashboard_config,
    running_dashboard,
    sign_in,
)
from tests.browser.test_reply_browser import settled
from tests.dashboard.conftest import score
from tests.factories import mention

PASSWORDS = {"dana": "dana-pass-1", "sam": "sam-pass-1"}
USERS = '[responder]\napproval_roles = ["responder"]\n' + "".join(
    f'[[users]]\nname = "{name}"\nrole = "{role}"\npassword_hash = "{hash_password(PASSWORDS[name])}"\n'
    for name, role in (("dana", "responder"), ("sam", "admin"))
)
WAIT = 30_000  # ms: a rerun on a busy machine
DANAS = "Sorry Ann, a refund is on its way."
SAMS = "Sorry Ann: your refund was sent today."


@pytest.fixture
def team_dashboard(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    config = dashboard_config(tmp_path)
    config.write_text(config.read_text(encoding="utf-8") + USERS, encoding="utf-8")
    with running_dashboard(config) as url:
        yield url, config


def signed_in(browser: Any, url: str, name: str, target: str) -> Any:
    page = sign_in(browser, url, name, PASSWORDS[name], target, "Case", WAIT)
    settled(page)
    return page


def write(page: Any, text: str) -> None:
    box = page.get_by_role("textbox", name="Reply text")
    box.fill(text)
    box.press("Tab")  # Streamlit sends a text area's value when it loses focus
    settled(page)


def click(page: Any, name: str) -> None:
    page.get_by_role("button", name=name).click()
    settled(page)


@pytest.mark.slow
def test_a_conflicting_draft_is_refused_and_a_co_writer_cannot_approve(
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
    dana = signed_in(browser, url, "dana", target)
    sam = signed_in(browser, url, "sam", target)

    write(dana, DANAS)
    click(dana, "Save draft")
    dana.get_by_text("Draft saved.").wait_for(timeout=WAIT)

    # sam's page still shows no draft: his save would replace dana's, so it is refused with both texts.
    write(sam, SAMS)
    click(sam, "Save draft")
    sam.get_by_text("dana saved another version of this reply").wait_for(timeout=WAIT)
    sam.get_by_text("Your text (not saved)").wait_for(timeout=WAIT)
    sam.get_by_text("dana's text (saved, version 1)").wait_for(timeout=WAIT)
    sam.locator("pre", has_text=SAMS).wait_for(timeout=WAIT)  # the code blocks load after the page
    sam.locator("pre", has_text=DANAS).wait_for(timeout=WAIT)
    sam.screenshot(path=str(ARTIFACTS / "reply-conflict.png"), full_page=True)
    reply = current_reply(engine, case.id)
    assert reply is not None and reply.text == DANAS

    # He puts his own back and saves it over hers on purpose; both versions are kept, each with its writer.
    click(sam, "Put mine back in the editor")
    click(sam, "Save draft")
    sam.get_by_text("Draft saved.").wait_for(timeout=WAIT)
    assert [(v.author, v.text) for v in load_versions(engine, reply.id)] == [("dana", DANAS), ("sam", SAMS)]

    # Admins' own replies need no approval, but this one has dana's words in it: it waits, and not for sam.
    click(sam, "Submit for approval")
    sam.get_by_text("waits for an approver", exact=False).wait_for(timeout=WAIT)
    sam.get_by_text("who must not be one of its writers (dana, sam)", exact=False).wait_for(timeout=WAIT)
    assert sam.get_by_role("button", name="Approve and post").count() == 0
    assert sam.get_by_role("button", name="Approve").count() == 0
    waiting = current_reply(engine, case.id)
    assert waiting is not None and waiting.status == "awaiting_approval"
    engine.dispose()
