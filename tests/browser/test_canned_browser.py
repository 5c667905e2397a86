"""Canned replies in a real headless chromium against a real `grumble dashboard`: a short code typed in
the reply box becomes its reply, filled in for the mention, when the box is left; a grumble.toml
template is one of the team's canned replies, picked from the list above the box."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.auth.users import LOCAL_USER
from monitor.config import load_config
from monitor.mention import utcnow
from monitor.respond import canned
from monitor.respond.cases import open_case
from monitor.store.engine import connect
from monitor.store.filters import MentionFilter
from monitor.store.mentions import import_mentions, iter_all
from tests.browser.conftest import dashboard_config, running_dashboard
from tests.dashboard.conftest import score
from tests.factories import mention

FIRST_RENDER = 45_000  # ms: Streamlit's first page on a busy two-core machine
RERUN = 30_000  # ms: a rerun after a click or a key
EXTRA = """
[responder]
product = "Acme Sync"

[[reply_templates]]
name = "apology"
text = "Hi {author}, we are sorry about {product}."
"""


@pytest.fixture
def canned_dashboard(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    config = dashboard_config(tmp_path)
    config.write_text(config.read_text(encoding="utf-8") + EXTRA, encoding="utf-8")
    with running_dashboard(config) as url:
        yield url, config


def _box_value_starts(page: Any, start: str) -> None:
    page.wait_for_function(
        "start => [...document.querySelectorAll('textarea')].some(t => t.value.startsWith(start))",
        arg=start,
        timeout=RERUN,
    )


@pytest.mark.slow
def test_a_short_code_typed_in_the_reply_box_and_a_picked_template(
    canned_dashboard: tuple[str, Path], browser_page: Any
) -> None:
    url, config_path = canned_dashboard
    config = load_config(config_path)
    engine = connect(config.database_url)
    import_mentions(engine, "acme", [mention(1, text="acme lost my notes", author="ann")])
    mention_id = next(row["id"] for row in iter_all(engine, MentionFilter()))
    score(engine, {"m1": mention_id}, {"m1": ("negative", 0.9)})
    open_case(engine, mention_id, LOCAL_USER.name, config.responder)
    canned.save(
        engine,
        LOCAL_USER,
        code="refund",
        title="Refund steps",
        text="Hi {author}, refunds for {product} are here: {case_link}",
        team=True,
        now=utcnow(),
    )
    engine.dispose()
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = browser_page

    page.goto(f"{url}/mention?id={mention_id}")
    box = page.get_by_role("textbox", name="Reply text")
    box.wait_for(timeout=FIRST_RENDER)
    box.fill("/refund Thanks!")
    box.press("Tab")  # Streamlit sends a text area's value when it loses focus
    _box_value_starts(page, "Hi ann, refunds for Acme Sync are here: ")
    value = box.input_value()
    assert value.endswith(f"/mention?id={mention_id} Thanks!"), value

    # grumble.toml's template is a team reply, first in the picker; "Use it" fills it in for this mention.
    page.get_by_role("button", name="Use it").wait_for(timeout=RERUN)
    for attempt in range(3):  # a click landing while a rerun replaces the page is lost: click again
        page.get_by_role("button", name="Use it").click()
        try:
            _box_value_starts(page, "Hi ann, we are sorry about Acme Sync.")
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
