"""The Sources page shows how each quota-keeping source's day stands (YouTube here), from the database's
count that every process spends from."""

from collections.abc import Callable

from monitor.sources.base import SourceSettings
from monitor.sources.registry import build_source
from monitor.sources.youtube import YouTubeSource
from monitor.store.quotas import SharedQuotaLedger
from tests.dashboard.conftest import Seeded, run_app

KEY = "AIza-dashboard-key"
YOUTUBE = f"""
[watches.sources.youtube]
video_ids = ["v1"]

[sources.youtube]
api_key = "{KEY}"
daily_quota = 10000
quota_share = 0.8
"""


def test_sources_page_shows_the_youtube_units_used_and_left(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store(YOUTUBE)
    source = build_source(
        SourceSettings("youtube", options={"api_key": KEY}), quotas=SharedQuotaLedger(seeded.engine)
    )
    assert isinstance(source, YouTubeSource)
    source.quota.spend(305, "search.list")

    app = run_app("views/sources.py")
    assert "Quotas" in [s.value for s in app.subheader]
    captions = " ".join(c.value for c in app.caption)
    assert "used 305 of 8,000 units this day (80% of 10,000), 7,695 left" in captions
    assert KEY not in captions


def test_sources_page_without_quota_sources_has_no_quota_section(make_store: Callable[[str], Seeded]) -> None:
    make_store("")
    app = run_app("views/sources.py")
    assert "Quotas" not in [s.value for s in app.subheader]
