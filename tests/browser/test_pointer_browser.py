"""The inbox's keyboard pointer in a real chromium: it is a highlighted row, it keeps its mention when the
20-second refresh brings new mentions in above it, and E marks that mention, not the one now at its
old place. The refresh is the page's own timer, moved on by Playwright's clock rather than waited for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from monitor.config import load_config
from monitor.mention import utcnow
from monitor.store.engine import connect
from monitor.store.mentions import import_mentions
from monitor.store.schema import mentions
from tests.dashboard.conftest import score
from tests.factories import mention

POINTER = ".st-key-inbox-pointer"


def _add(engine: Engine, numbers: range, negative: float) -> None:
    """Open negatives "complaint N", all as fresh; a higher `negative` ranks them higher."""
    now = utcnow()
    import_mentions(
        engine,
        "acme",
        [
            mention(n, source="reddit", text=f"acme complaint {n} - the app lost my data", created_at=now)
            for n in numbers
        ],
    )
    with engine.connect() as connection:
        ids = {
            key: int(value)
            for key, value in connection.execute(select(mentions.c.external_id, mentions.c.id))
        }
    score(
        engine,
        {f"m{n}": ids[f"m{n}"] for n in numbers},
        {f"m{n}": ("negative", negative - n / 1000) for n in numbers},
    )


def _handled(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(connection.scalars(select(mentions.c.text).where(mentions.c.triage == "handled")))


@pytest.mark.slow
def test_the_pointer_keeps_its_mention_through_a_refresh_that_adds_mentions_above_it(
    dashboard_server: tuple[str, Path], browser_page: Any
) -> None:
    from playwright.sync_api import expect

    url, config_path = dashboard_server
    engine = connect(load_config(config_path).database_url)
    _add(engine, range(1, 6), 0.7)  # complaints 1..5, in that order
    page = browser_page
    page.clock.install()  # the page's timers run as usual, until the test moves the clock on
    page.goto(url)
    page.get_by_text("5 mentions match", exact=False).wait_for(timeout=30_000)
    page.get_by_role("button", name="↓ Next").wait_for(timeout=15_000)
    page.get_by_role("heading", name="Inbox").click()  # the page has the keys, not a field

    for shown in ("complaint 2 ", "complaint 3 "):  # one key at a time: each is a round trip
        page.keyboard.press("j")
        expect(page.locator(POINTER)).to_contain_text(shown, timeout=15_000)
    # A visible row: a coloured background and an outline, drawn by the page's style, no emoji font.
    style = page.locator(POINTER).evaluate(
        "e => { const s = getComputedStyle(e); return [s.backgroundColor, s.outlineStyle, s.outlineWidth]; }"
    )
    assert style[0] not in ("rgba(0, 0, 0, 0)", "transparent") and style[1] == "solid", style
    assert page.locator(POINTER).count() == 1

    # Three louder complaints arrive; the refresh draws them above the pointer.
    _add(engine, range(6, 9), 0.99)
    page.clock.fast_forward(21_000)
    page.get_by_text("8 mentions match", exact=False).wait_for(timeout=30_000)
    first = page.locator("[data-testid='stMarkdown']").filter(has_text="acme complaint").first
    assert "complaint 6 " in first.inner_text()  # the new ones are above
    expect(page.locator(POINTER)).to_contain_text("complaint 3 ")

    page.keyboard.press("e")
    page.get_by_text("7 mentions match", exact=False).wait_for(timeout=15_000)
    assert _handled(engine) == ["acme complaint 3 - the app lost my data"]
    page.screenshot(path=str(Path(config_path).parent / "pointer.png"))
    engine.dispose()
