"""The Compare page in a real headless chromium: the side-by-side table and the share-of-voice chart."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.mention import utcnow
from monitor.store.engine import connect
from monitor.store.filters import MentionFilter
from monitor.store.mentions import import_mentions, iter_all
from tests.browser.conftest import ARTIFACTS, dashboard_config, running_dashboard
from tests.dashboard.conftest import score
from tests.factories import mention


@pytest.mark.slow
def test_compare_page_shows_the_brand_and_its_competitor_side_by_side(
    tmp_path: Path, browser_page: Any
) -> None:
    config = dashboard_config(tmp_path)
    with config.open("a", encoding="utf-8") as file:
        file.write('[[watches]]\nname = "globex"\nkeywords = ["globex"]\ncompetitors = ["acme"]\n')
    engine = connect(f"sqlite:///{tmp_path / 'g.db'}")
    now = utcnow()
    import_mentions(
        engine,
        "acme",
        [mention(n, text=f"acme refund {n}", created_at=now - timedelta(days=n)) for n in range(1, 4)],
    )
    import_mentions(
        engine, "globex", [mention(9, text="globex billing broke", created_at=now - timedelta(hours=2))]
    )
    ids = {row["external_id"]: row["id"] for row in iter_all(engine, MentionFilter())}
    score(
        engine,
        ids,
        {"m1": ("negative", 0.9), "m2": ("neutral", 0.2), "m3": ("negative", 0.8), "m9": ("negative", 0.95)},
    )

    page = browser_page
    with running_dashboard(config) as url:
        page.goto(f"{url}/compare")
        page.get_by_role("heading", name="Compare").wait_for(timeout=30_000)
        table = page.locator("[data-testid='stDataFrame']").first
        table.wait_for(timeout=30_000)
        # The grid draws on a canvas; the table inside it (its fallback content) carries the same cells.
        table.locator("[data-testid='glide-cell-0-0']").wait_for(state="attached", timeout=15_000)
        rows = {
            cell(table, 0, row): [cell(table, column, row) for column in (1, 3)]  # mentions, share of voice
            for row in (0, 1)
        }
        # globex: 1 of the group's 4 mentions in the last 30 days, acme 3.
        assert rows == {"globex (brand)": ["1 (+1)", "25%"], "acme": ["3 (+3)", "75%"]}
        chart = page.locator("[data-testid='stVegaLiteChart']").first
        chart.wait_for(timeout=15_000)
        chart.locator("canvas, svg").first.wait_for(timeout=15_000)
        page.get_by_role("heading", name="Complaint terms").wait_for()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "compare.png"), full_page=True)
    engine.dispose()


def cell(table: Any, column: int, row: int) -> str:
    text: str = table.locator(f"[data-testid='glide-cell-{column}-{row}']").text_content()
    return text
