"""The Compare and Trends pages in a real headless chromium: Compare's side-by-side table and
share-of-voice chart, and Trends' week-on-week shares and charts, drawn (screenshots for a person to see)."""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.mention import utcnow
from monitor.store.engine import connect
from monitor.store.filters import MentionFilter
from monitor.store.mentions import import_mentions, iter_all
from tests.browser.conftest import dashboard_config, running_dashboard
from tests.dashboard.conftest import score
from tests.factories import mention


@pytest.mark.slow
def test_compare_shows_the_brand_and_its_competitor_side_by_side_and_trends_draws_its_charts(
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
        shots = Path(os.environ.get("GRUMBLE_SCREENSHOTS", str(tmp_path)))
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / "compare.png"), full_page=True)

        # Trends, same store: each watch's negative share this week, the volume and per-watch charts.
        page.goto(f"{url}/trends")
        page.get_by_role("heading", name="Volume").wait_for(timeout=30_000)
        metrics = page.locator("[data-testid='stMetric']")
        metrics.nth(1).wait_for(timeout=15_000)
        assert sorted(metrics.nth(i).inner_text().split("\n")[0] for i in range(2)) == ["acme", "globex"]
        page.get_by_role("heading", name="Complaint terms").wait_for(timeout=15_000)
        charts = page.locator("[data-testid='stVegaLiteChart']")
        assert charts.count() == 2  # volume, and negative share per watch
        for index in range(2):
            charts.nth(index).locator("canvas, svg").first.wait_for(timeout=15_000)
        page.set_viewport_size({"width": 1400, "height": 1700})  # the page scrolls inside itself: all of it
        page.screenshot(path=str(shots / "trends.png"))
    engine.dispose()


def cell(table: Any, column: int, row: int) -> str:
    text: str = table.locator(f"[data-testid='glide-cell-{column}-{row}']").text_content()
    return text
