"""The inbox on a 390 x 844 phone in a real chromium: the first mention shows above the fold, and a
compact line stays one line (cut short, never wrapped under the next one). Screenshots are kept in the
test's folder (or GRUMBLE_SCREENSHOTS)."""

from __future__ import annotations

import itertools
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.config import load_config
from monitor.mention import utcnow
from monitor.store.engine import connect
from monitor.store.filters import MentionFilter
from monitor.store.mentions import import_mentions, iter_all
from tests.dashboard.conftest import score
from tests.factories import mention

PHONE = {"width": 390, "height": 844}
FIRST_RENDER = 45_000  # ms: Streamlit's first page on a busy two-core machine
RERUN = 30_000  # ms: a rerun after a click
LONG_TEXT = (
    "acme complaint number {n}: the sync lost my notes again, twice this week, and support never answered"
)


def _seed(config_path: Path, count: int) -> None:
    engine = connect(load_config(config_path).database_url)
    now = utcnow()
    import_mentions(
        engine,
        "acme",
        [
            mention(n, source="reddit", text=LONG_TEXT.format(n=n), created_at=now - timedelta(minutes=n))
            for n in range(1, count + 1)
        ],
    )
    ids = {row["external_id"]: row["id"] for row in iter_all(engine, MentionFilter())}
    score(engine, ids, {key: ("negative", 0.9) for key in ids})
    engine.dispose()


def _drawn(page: Any) -> None:
    """Wait until the page is drawn: no placeholder left and no script run going on."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stSkeleton\"]')"
        " && ![...document.querySelectorAll('[data-testid=\"stStatusWidget\"]')]"
        ".some(e => e.innerText.includes('Running'))",
        timeout=RERUN,
    )


@pytest.mark.slow
def test_the_inbox_on_a_phone(dashboard_server: tuple[str, Path], browser_page: Any, tmp_path: Path) -> None:
    url, config_path = dashboard_server
    _seed(config_path, 6)
    shots = Path(os.environ.get("GRUMBLE_SCREENSHOTS", str(tmp_path)))
    shots.mkdir(parents=True, exist_ok=True)
    page = browser_page
    page.set_viewport_size(PHONE)

    page.goto(url)
    page.get_by_text("6 mentions match", exact=False).wait_for(timeout=FIRST_RENDER)
    first_card = page.locator(".st-key-inbox-pointer")  # the list's first mention has the pointer
    first_text = first_card.get_by_text("acme complaint number 1:", exact=False)
    first_text.wait_for(timeout=RERUN)
    first_card.get_by_role("button", name="Handled").wait_for(timeout=RERUN)
    _drawn(page)  # every widget above the list in place: nothing left to push the card down
    page.screenshot(path=str(shots / "inbox-phone.png"))
    card, text = first_card.bounding_box(), first_text.bounding_box()
    assert card is not None and text is not None
    assert 0 <= card["y"] < PHONE["height"], f"the first mention's card starts at {card['y']:.0f} px"
    assert text["y"] + text["height"] <= PHONE["height"], "the first mention's text is below the fold"
    assert (shots / "inbox-phone.png").stat().st_size > 0

    page.get_by_text("☰ Compact").click()
    lines = page.locator(
        ".st-key-compact-list [data-testid='stMarkdownContainer'] p", has_text="acme complaint"
    )
    lines.nth(5).wait_for(timeout=RERUN)
    _drawn(page)
    page.screenshot(path=str(shots / "inbox-phone-compact.png"))
    boxes = [lines.nth(i).bounding_box() for i in range(lines.count())]
    line_height = float(lines.first.evaluate("p => parseFloat(getComputedStyle(p).lineHeight)"))
    assert all(box is not None for box in boxes)
    for box in boxes:
        assert box is not None and box["height"] <= line_height * 1.2, f"a compact line wrapped: {box}"
    for above, below in itertools.pairwise(boxes):
        assert above is not None and below is not None and above["y"] + above["height"] <= below["y"]
    # Longer than a phone is wide, so cut with an ellipsis (the whole line is still in the page).
    assert lines.first.evaluate(
        "p => p.scrollWidth > p.clientWidth && getComputedStyle(p).textOverflow === 'ellipsis'"
    )
    assert "acme complaint number 1: the sync lost my notes" in lines.first.inner_text()
