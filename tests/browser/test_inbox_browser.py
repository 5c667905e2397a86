"""The inbox in a real headless chromium: it shows the stored mentions and runs none of their markup."""

from pathlib import Path
from typing import Any

import pytest

from monitor.config import load_config
from monitor.store.engine import connect
from monitor.store.mentions import import_mentions
from tests.browser.conftest import ARTIFACTS
from tests.factories import mention

HOSTILE = (
    "<script>window.__pwned = 1</script><img src=x onerror='window.__pwned=2'> "
    "[click](javascript:window.__pwned=3) ![b](http://127.0.0.1:9/beacon.png) acme is broken"
)


@pytest.mark.slow
def test_inbox_shows_mentions_and_runs_none_of_their_markup(
    dashboard_server: tuple[str, Path], browser_page: Any
) -> None:
    url, config_path = dashboard_server
    engine = connect(load_config(config_path).database_url)
    import_mentions(
        engine, "acme", [mention(1, source="reddit", text=HOSTILE), mention(2, text="plain words")]
    )
    engine.dispose()
    requests: list[str] = []
    browser_page.on("request", lambda request: requests.append(request.url))
    dialogs: list[str] = []
    browser_page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    browser_page.goto(url)
    browser_page.get_by_role("heading", name="Inbox").wait_for(timeout=30_000)
    browser_page.get_by_text("2 mentions shown").wait_for(timeout=30_000)
    expander = browser_page.get_by_text("unscored · reddit · author1").first
    expander.click()
    browser_page.get_by_text("acme is broken", exact=False).first.wait_for(timeout=10_000)
    browser_page.screenshot(path=str(ARTIFACTS / "inbox.png"), full_page=True)

    assert browser_page.evaluate("window.__pwned") is None
    assert dialogs == []
    assert not [r for r in requests if "beacon.png" in r or r.startswith("javascript:")]
