"""The Trends page's and spike alert's counts per time bucket and per group, on both databases, with
the database session in a zone far from UTC (buckets are UTC hours and days whatever it says)."""

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from monitor.store.engine import connect
from monitor.store.filters import MentionFilter
from monitor.store.mentions import import_mentions
from monitor.store.trends import negative_counts, volume
from tests.dashboard.conftest import score
from tests.factories import mention

T = datetime(2026, 11, 2, 23, 40, tzinfo=UTC)


@pytest.fixture
def far_zone_engine(database_url: str) -> Iterator[Engine]:
    engine = connect(database_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            # Half an hour off, and a day ahead of UTC late in the evening: any bucket taken in the
            # session's zone instead of UTC moves.
            connection.execute(
                text(f"ALTER DATABASE \"{engine.url.database}\" SET timezone TO 'Asia/Kolkata'")
            )
        engine.dispose()
        with engine.connect() as connection:
            assert connection.execute(text("SHOW timezone")).scalar() == "Asia/Kolkata"
    yield engine
    engine.dispose()


@pytest.mark.both_databases
def test_counts_per_utc_hour_and_day_and_per_group(far_zone_engine: Engine) -> None:
    engine = far_zone_engine
    import_mentions(
        engine,
        "acme",
        [
            mention(1, source="reddit", created_at=T),
            mention(2, source="reddit", created_at=T + timedelta(minutes=15)),  # 23:55
            mention(3, source="appstore", created_at=T + timedelta(minutes=30)),  # 00:10 the next day
        ],
    )
    from monitor.store.mentions import iter_all

    ids = {row["external_id"]: row["id"] for row in iter_all(engine, MentionFilter())}
    score(engine, ids, {"m1": ("negative", 0.9), "m3": ("negative", 0.8)})

    hours = {(c.bucket, c.group, c.label): c.count for c in volume(engine, MentionFilter(), "hour", "source")}
    assert hours == {
        (datetime(2026, 11, 2, 23, tzinfo=UTC), "reddit", "negative"): 1,
        (datetime(2026, 11, 2, 23, tzinfo=UTC), "reddit", "unscored"): 1,
        (datetime(2026, 11, 3, 0, tzinfo=UTC), "appstore", "negative"): 1,
    }
    days: Counter[tuple[datetime, str]] = Counter()
    for c in volume(engine, MentionFilter(), "day", "watch"):
        days[c.bucket, c.group] += c.count
    assert days == {
        (datetime(2026, 11, 2, tzinfo=UTC), "acme"): 2,
        (datetime(2026, 11, 3, tzinfo=UTC), "acme"): 1,
    }
    assert all(c.bucket.tzinfo is not None for c in volume(engine, MentionFilter(), "day", "source"))

    assert negative_counts(engine, MentionFilter(), "source") == {"reddit": (2, 1), "appstore": (1, 1)}
    assert negative_counts(engine, MentionFilter(watches=["acme"]), "watch") == {"acme": (3, 2)}
    assert negative_counts(engine, MentionFilter(until=T + timedelta(minutes=20)), "watch") == {
        "acme": (2, 1)
    }
