"""The dashboard in a real headless chromium: triage a complaint end to end, and no mention's markup runs."""

import itertools
import os
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

FIRST_RENDER = 45_000  # ms: Streamlit's first page on a busy two-core machine
RERUN = 30_000  # ms: a rerun after a click or a key
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


def _seed_many(config_path: Path, count: int) -> tuple[Any, dict[str, int]]:
    """`count` open negatives from three sources, the loudest first."""
    from datetime import timedelta

    from monitor.mention import utcnow

    engine = connect(load_config(config_path).database_url)
    now = utcnow()
    sources = ("reddit", "appstore", "mastodon")
    import_mentions(
        engine,
        "acme",
        [
            mention(
                n,
                source=sources[n % 3],
                text=f"acme complaint number {n}: the sync lost my notes again and support never answered",
                author_reach=100 * n,
                created_at=now - timedelta(minutes=n),
            )
            for n in range(1, count + 1)
        ],
    )
    ids = {row["external_id"]: row["id"] for row in iter_all(engine, MentionFilter())}
    score(engine, ids, {key: ("negative", 0.6 + 0.01 * (n % 30)) for n, key in enumerate(ids)})
    return engine, ids


@pytest.mark.slow
def test_compact_view_saved_view_link_and_keys(
    dashboard_server: tuple[str, Path], browser_page: Any, tmp_path: Path
) -> None:
    url, config_path = dashboard_server
    from playwright.sync_api import expect

    engine, ids = _seed_many(config_path, 30)
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    shots = Path(os.environ.get("GRUMBLE_SCREENSHOTS", str(tmp_path)))
    shots.mkdir(parents=True, exist_ok=True)

    page.goto(url)
    page.get_by_text("30 mentions match", exact=False).wait_for(timeout=FIRST_RENDER)
    page.get_by_role("button", name="Save view").wait_for(timeout=FIRST_RENDER)
    page.get_by_role("button", name="Show more").wait_for(timeout=RERUN)
    page.screenshot(path=str(shots / "inbox-cards.png"))

    # Compact: at least 15 whole lines on one 1440x900 screen, without scrolling.
    page.get_by_text("☰ Compact").click()
    lines = page.locator(".st-key-compact-list [data-testid='stMarkdown']")
    lines.nth(24).wait_for(timeout=RERUN)
    assert "view=compact" in page.url
    visible = [
        box
        for box in (lines.nth(i).bounding_box() for i in range(lines.count()))
        if box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 900
    ]
    page.screenshot(path=str(shots / "inbox-compact.png"))
    assert len(visible) >= 15, f"{len(visible)} compact lines on a 1440x900 screen"
    for above, below in itertools.pairwise(visible):  # one line each, never wrapped under
        assert above["y"] + above["height"] <= below["y"] + 1, f"compact lines overlap: {above} {below}"

    # Keys, three mentions: J to the second and E; K to the first and E; J to the second and E. Each mark
    # leaves the list (it shows unhandled ones), the pointer stays put, and Undo is offered.
    page.get_by_role("heading", name="Inbox").click()  # focus on the page, not in a field
    handled_by_keys = []
    for move, position, left in (("j", 1, 29), ("k", 0, 28), ("j", 1, 27)):
        page.keyboard.press(move)
        _wait_for_pointer(page, position)
        handled_by_keys.append(_line_number(lines.nth(position).inner_text()))
        page.keyboard.press("e")
        page.get_by_text(f"{left} mentions match", exact=False).wait_for(timeout=RERUN)
        page.get_by_role("button", name="↩️ Undo").wait_for(timeout=RERUN)
    handled = _in_state(engine, ids, "handled")
    assert sorted(handled) == sorted(handled_by_keys) and len(set(handled)) == 3
    page.get_by_text("1 mention marked handled", exact=False).wait_for(timeout=RERUN)

    # A bulk action from the compact view: tick two lines, mark them not relevant.
    boxes = page.locator(".st-key-compact-list [data-testid='stCheckbox'] label")
    picked = [_line_number(lines.nth(position).inner_text()) for position in (2, 3)]
    boxes.nth(2).click()
    page.get_by_text("1 mention selected", exact=False).wait_for(timeout=RERUN)
    boxes.nth(3).click()
    page.get_by_text("2 mentions selected", exact=False).wait_for(timeout=RERUN)
    page.screenshot(path=str(shots / "inbox-compact-selection.png"))
    page.get_by_role("button", name="🚫 Not relevant").click()
    page.get_by_text("25 mentions match", exact=False).wait_for(timeout=RERUN)
    page.get_by_text("2 mentions marked not relevant", exact=False).wait_for(timeout=RERUN)
    assert sorted(_in_state(engine, ids, "dismissed")) == sorted(picked)
    assert sorted(_in_state(engine, ids, "handled")) == sorted(handled)
    # "number 1" finds 1 and 10 to 19, less those marked above.
    matching_ones = f"{len({1, *range(10, 20)} - {*handled, *picked})} mentions match"

    # A saved view: narrow the inbox, save it, reopen it from the sidebar, then open its link afresh.
    # Typing in a field is not a key press for the inbox: "e" typed there marks nothing.
    source = page.get_by_label("Search text or author")
    source.click()
    page.keyboard.type("e")
    source.fill("number 1")
    source.press("Enter")
    page.get_by_text(matching_ones, exact=False).wait_for(timeout=RERUN)
    assert sorted(_in_state(engine, ids, "handled")) == sorted(handled)
    page.get_by_label("Save these filters as").fill("ones")
    page.get_by_role("button", name="Save view").click()
    page.get_by_role("button", name="📌 ones").wait_for(timeout=RERUN)
    source.fill("")
    source.press("Enter")
    page.get_by_text("25 mentions match", exact=False).wait_for(timeout=RERUN)
    page.get_by_role("button", name="📌 ones").click()
    page.get_by_text(matching_ones, exact=False).wait_for(timeout=RERUN)
    link = page.url
    assert "q=number+1" in link or "q=number%201" in link
    fresh = page.context.browser.new_page(viewport={"width": 1440, "height": 900})  # a new session
    fresh.goto(link)
    fresh.get_by_text(matching_ones, exact=False).wait_for(timeout=FIRST_RENDER)
    expect(fresh.get_by_label("Search text or author")).to_have_value("number 1")
    assert fresh.locator(".st-key-compact-list").count() == 1  # the layout came with the link
    engine.dispose()


def _wait_for_pointer(page: Any, position: int) -> None:
    page.wait_for_function(
        "position => [...document.querySelectorAll('.st-key-compact-list [data-testid=stMarkdown]')]"
        ".findIndex(e => e.closest('.st-key-inbox-pointer') !== null) === position",
        arg=position,
        timeout=RERUN,
    )


def _line_number(line: str) -> int:
    """The seeded mention a compact line shows ("acme complaint number 7: ...")."""
    return int(line.split("complaint number ")[1].split(":")[0])


def _in_state(engine: Any, ids: dict[str, int], state: str) -> list[int]:
    """The seeded mentions (their numbers) whose triage is `state` in the store."""
    with engine.connect() as connection:
        found = set(connection.execute(select(mentions.c.id).where(mentions.c.triage == state)).scalars())
    return [int(key[1:]) for key, mention_id in ids.items() if mention_id in found]
