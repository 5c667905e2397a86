"""The Trends page's charts, drawn from monitor/surface/trends.py's figures (nothing computed here).

Times are plotted as the reader's wall-clock time on a UTC scale, so the axis says what the reader's
clock said whatever zone their browser is in; the tooltips carry the time written by dashboard/times.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal
from zoneinfo import ZoneInfo

import altair as alt
import pandas as pd

from dashboard.times import shown_time
from models.labels import LABELS
from monitor.store.trends import BucketCount, GroupBy, Unit
from monitor.surface.trends import ChartPoint

AXIS_FORMAT = {"hour": "%b %d %H:%M", "day": "%a %b %d"}
UNIT_MS = {"hour": 3_600_000, "day": 86_400_000}  # no tick between two buckets
# A bar spans its bucket: without the time unit Vega-Lite draws each one a pixel or two wide.
BarTimeUnit = Literal["utcyearmonthdatehours", "utcyearmonthdate"]
BAR_TIME_UNIT: dict[Unit, BarTimeUnit] = {"hour": "utcyearmonthdatehours", "day": "utcyearmonthdate"}
LABEL_COLORS = ["#d62728", "#9e9e9e", "#2ca02c", "#dddddd"]


def _time_axis(unit: Unit, timezone: str, time_unit: BarTimeUnit | None = None) -> alt.X:
    # A utc scale formats its labels in UTC (Vega-Lite takes no "utc" format type: it ignored the format).
    return alt.X(
        "time:T",
        timeUnit=time_unit or alt.Undefined,
        title=f"{'hour' if unit == 'hour' else 'day'} ({timezone})",
        scale=alt.Scale(type="utc"),
        axis=alt.Axis(format=AXIS_FORMAT[unit], labelAngle=-30, tickMinStep=UNIT_MS[unit]),
    )


def _wall_clock(frame: pd.DataFrame, timezone: str) -> pd.DataFrame:
    zone = ZoneInfo(timezone)
    frame["time"] = [moment.astimezone(zone).replace(tzinfo=None) for moment in frame["time"]]
    return frame


def volume_chart(volume: Sequence[BucketCount], unit: Unit, timezone: str) -> alt.Chart:
    """Mentions per bucket, stacked by label."""
    frame = pd.DataFrame(
        [{"time": c.bucket, "when": shown_time(c.bucket), "label": c.label, "count": c.count} for c in volume]
    )
    chart: alt.Chart = (
        alt.Chart(_wall_clock(frame, timezone))
        .mark_bar()
        .encode(
            x=_time_axis(unit, timezone, BAR_TIME_UNIT[unit]),
            y=alt.Y("sum(count):Q", title="mentions", axis=alt.Axis(tickMinStep=1)),  # no 0.2 mentions
            color=alt.Color("label:N", scale=alt.Scale(domain=[*LABELS, "unscored"], range=LABEL_COLORS)),
            tooltip=["when:N", "label:N", "sum(count):Q"],
        )
    )
    return chart


def share_chart(points: Sequence[ChartPoint], by: GroupBy, unit: Unit, timezone: str) -> alt.FacetChart:
    """Negative share, one small chart per watch or source (one shared time axis), spikes marked.

    Empty buckets are left out and each run of buckets with mentions is its own line (`run`), so no
    line is drawn across hours nobody posted in; a lone bucket shows as its point."""
    frame = pd.DataFrame(
        [
            {
                "time": c.point.time,
                "when": shown_time(c.point.time),
                by: c.point.group,
                "run": c.run,
                "mentions": c.point.total,
                "negative": c.point.negative,
                "negative share": c.point.share,
                "spike": c.point.spike,
            }
            for c in points
            if c.point.share is not None
        ]
    )
    tooltip: list[str | alt.Tooltip] = [
        "when:N",
        f"{by}:N",
        "mentions:Q",
        "negative:Q",
        alt.Tooltip("negative share:Q", format=".0%"),
    ]
    base = alt.Chart().encode(
        x=_time_axis(unit, timezone),
        y=alt.Y("negative share:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=tooltip,
    )
    line = base.mark_line(point=True).encode(detail="run:N")
    spikes = base.mark_point(shape="triangle-up", size=200, color="#d62728", filled=True).transform_filter(
        alt.datum.spike
    )
    return (
        alt.layer(line, spikes, data=_wall_clock(frame, timezone))
        .properties(height=110)
        .facet(row=alt.Row(f"{by}:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left")))
    )
