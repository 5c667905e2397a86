"""The dashboard in a real headless chromium: triage a complaint end to end, and no mention's markup runs."""

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from monitor.config import load_config
from monitor.store.engine import connect
from monitor.store.filters import MentionFilter
from monitor.store.mentions import import_mentions, iter_all
from monitor.store.schema import mentions
from tests.browser.conftest import ARTIFACTS
from tests.dashboard.conftest import score
from tests.factories import mention

HOSTILE = (
    "<script>window.__pwned = 1</script><img src=x onerror='window.__pwned=2'> "
    "[click me](javascript:window.__pwned=3) ![b](http://127.0.0.1:9/beacon.png) acme is broken"
)


@pytest.mark.slow
def test_filter_open_a_mention_and_mark_it_handled_without_running_hostile_markup(
    dashboard_server: tuple[str, Path], browser_page: Any
) -> None:
    url, config_path = dashboard_server
    engine = connect(load_config(config_path).database_url)
    import_mentions(
        engine,
        "acme",
        [
            mention(1, source="reddit", text=HOSTILE, url="javascript:window.__pwned=4"),
            mention(
                2, source="appstore", text="Acme lost my notes, want a refund", author="refund_ann", rating=1
            ),
            mention(3, source="reddit", text="acme is fine"),
        ],
    )
    ids = {row["external_id"]: row["id"] for row in iter_all(engine, MentionFilter())}
    score(engine, ids, {"m1": ("negative", 0.8), "m2": ("negative", 0.95), "m3": ("neutral", 0.1)})
    requests: list[str] = []
    dialogs: list[str] = []
    page = browser_page
    page.on("request", lambda request: requests.append(request.url))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(url)
    page.get_by_role("heading", name="Inbox").wait_for(timeout=30_000)
    page.get_by_text("2 mentions match").wait_for(timeout=30_000)
    page.get_by_text("acme is broken", exact=False).first.wait_for()

    # Filter: search for the refund complaint.
    search = page.get_by_label("Search text or author")
    search.fill("refund")
    search.press("Enter")
    page.get_by_text("1 mentions match").wait_for(timeout=15_000)

    # Open it, then mark it handled from its page.
    page.get_by_text("Details").first.click()
    page.get_by_role("heading", name="Mention").wait_for(timeout=15_000)
    page.get_by_text("want a refund", exact=False).first.wait_for()
    page.get_by_role("button", name="✅ Handled").click()
    page.get_by_text("marked the mention handled", exact=False).wait_for(timeout=15_000)
    page.screenshot(path=str(ARTIFACTS / "mention-handled.png"), full_page=True)
    with engine.connect() as connection:
        state = connection.scalar(select(mentions.c.triage).where(mentions.c.id == ids["m2"]))
    assert state == "handled"

    # Back in the inbox the hostile mention is shown as text, and nothing in it ran or loaded.
    page.goto(url)
    page.get_by_text("acme is broken", exact=False).first.wait_for(timeout=30_000)
    page.get_by_text("<script>window.__pwned = 1</script>", exact=False).first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "inbox.png"), full_page=True)
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []
    assert not [r for r in requests if "beacon.png" in r or r.startswith("javascript:")]
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.locator("img[src*='beacon']").count() == 0
    engine.dispose()


@pytest.mark.slow
def test_sigterm_to_grumble_dashboard_stops_streamlit(tmp_path: Path) -> None:
    import httpx

    from tests.browser.conftest import dashboard_config, running_dashboard

    with running_dashboard(dashboard_config(tmp_path)) as url:
        assert httpx.get(f"{url}/_stcore/health", timeout=5).status_code == 200
    # running_dashboard sent SIGTERM to `grumble dashboard` and saw it exit: nothing may be left listening.
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/_stcore/health", timeout=2)
