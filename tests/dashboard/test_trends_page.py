"""The Trends page: the week's negative share with its change, buckets by range, gaps, the reader's
dates on the axis, and one small chart per watch or source."""

import io
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
from streamlit.testing.v1 import AppTest

from monitor.mention import utcnow
from monitor.store.mentions import import_mentions
from tests.dashboard.conftest import Seeded, run_app, score
from tests.factories import mention


def charts(app: AppTest) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each chart's Vega-Lite spec and its data rows."""
    found = []
    for element in app.main:
        if type(element).__name__ == "UnknownElement" and "vega" in element.type:
            proto = element.proto
            rows = pa.ipc.open_stream(io.BytesIO(proto.datasets[0].data.data)).read_all().to_pylist()
            found.append((json.loads(proto.spec), rows))
    return found


def seed_last_week(seeded: Seeded) -> None:
    """Two reddit mentions eight days ago, one negative: reddit was 50% negative the week before."""
    earlier = utcnow() - timedelta(days=8)
    import_mentions(
        seeded.engine,
        "acme",
        [mention(n, source="reddit", text=f"old {n}", created_at=earlier) for n in (11, 12)],
    )
    from monitor.store.filters import MentionFilter
    from monitor.store.mentions import iter_all

    seeded.ids.update({row["external_id"]: row["id"] for row in iter_all(seeded.engine, MentionFilter())})
    score(seeded.engine, seeded.ids, {"m11": ("negative", 0.8), "m12": ("neutral", 0.1)})


def test_negative_share_this_week_against_last_per_watch_and_per_source(
    make_store: Callable[[str], Seeded],
) -> None:
    seed_last_week(make_store(""))
    app = run_app("views/trends.py")
    assert [(m.label, m.value, m.delta) for m in app.metric] == [("acme", "60%", "+10 points")]
    app.radio(key="t_by").set_value("source").run()
    # reddit: 2 of 3 negative this week, 1 of 2 the week before; appstore: 1 of 2, nothing before.
    metrics = {m.label: (m.value, m.delta) for m in app.metric}
    assert metrics == {"appstore": ("50%", ""), "reddit": ("67%", "+17 points")}


def test_days_for_long_ranges_hours_for_short_with_dates_on_the_axis(
    make_store: Callable[[str], Seeded],
) -> None:
    make_store("")
    app = run_app("views/trends.py")  # last 7 days
    [(volume, _), (share, _)] = charts(app)
    assert share["spec"]["layer"][0]["encoding"]["x"]["axis"]["format"] == "%a %b %d"
    assert share["spec"]["layer"][0]["encoding"]["x"]["title"] == "day (UTC)"
    # Vega-Lite has no "utc" format type: given one, it drew its default labels ("06 AM" between days).
    assert "formatType" not in share["spec"]["layer"][0]["encoding"]["x"]["axis"]
    assert volume["encoding"]["x"]["timeUnit"] == "utcyearmonthdate"  # a bar as wide as its day
    app.selectbox(key="t_period").set_value("last 48 hours").run()
    [(volume, _), (share, _)] = charts(app)
    assert volume["encoding"]["x"]["axis"]["format"] == "%b %d %H:%M"
    assert volume["encoding"]["x"]["timeUnit"] == "utcyearmonthdatehours"


def test_one_small_chart_per_source_and_no_line_across_empty_hours(
    make_store: Callable[[str], Seeded],
) -> None:
    seeded = make_store("")
    # A reddit mention ten hours ago: reddit was then silent until three hours ago.
    import_mentions(
        seeded.engine, "acme", [mention(20, source="reddit", created_at=utcnow() - timedelta(hours=10))]
    )
    app = run_app("views/trends.py")
    app.selectbox(key="t_period").set_value("last 24 hours").run()
    app.radio(key="t_by").set_value("source").run()
    [_, (share, rows)] = charts(app)
    assert share["facet"]["row"]["field"] == "source"  # small multiples, not lines tangled in one chart
    assert share["spec"]["layer"][0]["encoding"]["detail"]["field"] == "run"
    reddit = sorted((row["time"], row["run"]) for row in rows if row["source"] == "reddit")
    assert all(row["negative share"] is not None for row in rows)
    # Three runs: ten hours ago alone, three and two hours ago together, and now: never joined.
    runs = [run for _, run in reddit]
    assert len(reddit) == 4 and len(set(runs)) == 3 and runs[1] == runs[2]


def test_the_axis_shows_the_readers_wall_clock(make_store: Callable[[str], Seeded]) -> None:
    make_store('[dashboard]\ntimezone = "Asia/Kolkata"\n')
    app = run_app("views/trends.py")
    app.selectbox(key="t_period").set_value("last 24 hours").run()
    [(volume, rows), _] = charts(app)
    assert volume["encoding"]["x"]["title"] == "hour (Asia/Kolkata)"
    assert volume["encoding"]["x"]["scale"]["type"] == "utc"
    for row in rows:
        # Plotted on a UTC scale as the wall-clock time in Kolkata, whatever the browser's zone.
        moment: datetime = row["time"]
        assert row["when"].endswith("IST")
        local = moment.replace(tzinfo=ZoneInfo("Asia/Kolkata"))
        assert row["when"].startswith(f"{local:%Y-%m-%d %H:%M}")
