"""`grumble collect --once` end to end with Google Play and Business Profile: credentials from GRUMBLE_*
variables, the sources built by the registry (Play with the database's quota ledger), the reviews stored,
and an edit on Play arriving as an update of the stored review, not a second one.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.cli import main
from monitor.store.engine import connect
from monitor.store.mentions import counts_by_source
from monitor.store.schema import mentions, rate_limits
from tests.sources.fakes import load_fixture
from tests.sources.google_fakes import (
    ACCOUNT,
    LOCATION,
    OAUTH,
    PACKAGE,
    SERVICE_ACCOUNT_JSON,
    FakeGoogleBusiness,
    FakeGooglePlay,
)
from tests.support.http_replay import ReplayServer


def test_collect_once_stores_play_and_business_reviews_and_counts_the_play_quota(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    play_server, business_server = ReplayServer(), ReplayServer()
    try:
        play = FakeGooglePlay(play_server)
        play.reviews = copy.deepcopy(load_fixture("google_play")["items"])
        business = FakeGoogleBusiness(business_server)
        business.reviews = copy.deepcopy(load_fixture("google_business")["items"])
        database = tmp_path / "grumble.db"
        config = tmp_path / "grumble.toml"
        config.write_text(
            f"""
database_url = "sqlite:///{database}"

[sources.google_play]
base_url = "{play_server.url}"
token_url = "{play_server.url}/token"
collect_every_minutes = 360

[sources.google_business]
base_url = "{business_server.url}"
token_url = "{business_server.url}/token"

[[watches]]
name = "acme"

[watches.sources.google_play]
package_names = ["{PACKAGE}"]

[watches.sources.google_business]
locations = ["accounts/{ACCOUNT}/locations/{LOCATION}"]
""",
            encoding="utf-8",
        )
        monkeypatch.setenv("GRUMBLE_GOOGLE_PLAY_SERVICE_ACCOUNT_JSON", SERVICE_ACCOUNT_JSON)
        for key, value in OAUTH.items():
            monkeypatch.setenv(f"GRUMBLE_GOOGLE_BUSINESS_{key.upper()}", value)

        assert main(["--config", str(config), "collect", "--once", "--no-score"]) == 0

        engine = connect(f"sqlite:///{database}")
        counts = counts_by_source(engine)
        assert counts["google_play"].stored == 5 and counts["google_business"].stored == 5
        with engine.connect() as connection:
            quota = connection.execute(
                select(rate_limits.c.tokens).where(rate_limits.c.key == f"quota:google_play:{PACKAGE}:reads")
            ).scalar_one()
        assert quota == len(play_server.requests_to(f"/androidpublisher/v3/applications/{PACKAGE}/reviews"))

        # The 3-star review becomes a 1-star one: the next run updates it in place.
        edited = play.reviews[3]
        comment = edited["comments"][0]["userComment"]
        comment.update(
            text="Widget crashes now. 1 star.", starRating=1, lastModified={"seconds": "1793538000"}
        )
        assert main(["--config", str(config), "collect", "--once", "--no-score"]) == 0
        with engine.connect() as connection:
            rows = connection.execute(
                select(mentions.c.text, mentions.c.rating).where(mentions.c.external_id == edited["reviewId"])
            ).all()
        assert [(r.text, r.rating) for r in rows] == [("Widget crashes now. 1 star.", 1.0)]
        assert counts_by_source(engine)["google_play"].stored == 5
    finally:
        play_server.close()
        business_server.close()
