"""Trends: negative share this week against last, volume and negative share over time per watch or
source (one small chart each, spikes marked), and complaint terms. Times in the reader's zone."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

import pandas as pd
import streamlit as st

from dashboard import context
from dashboard.times import reader_timezone
from dashboard.trend_charts import share_chart, volume_chart
from monitor.mention import utcnow
from monitor.store.trends import GroupBy
from monitor.surface.render import percent
from monitor.surface.trends import bucket_unit, chart_points, load_trend, period_terms, week_shares
from monitor.topics.report import topic_days

PERIODS = {
    "last 24 hours": timedelta(hours=24),
    "last 48 hours": timedelta(hours=48),
    "last 7 days": timedelta(days=7),
    "last 30 days": timedelta(days=30),
    "last 90 days": timedelta(days=90),
}
METRICS_PER_ROW = 4

st.title("Trends")
engine = context.engine()
config = context.config()
left, middle, right = st.columns(3)
period = left.selectbox("Period", list(PERIODS), index=2, key="t_period")
by = cast(GroupBy, middle.radio("Per", ["watch", "source"], horizontal=True, key="t_by"))
watches = right.multiselect("Watch", list(config.watch_names), key="t_watch")
span = PERIODS[period]
unit = bucket_unit(span)
timezone = reader_timezone()
now = utcnow()

st.subheader("Negative share: last 7 days against the 7 before")
shares = week_shares(engine, watches, by, now)
if not shares:
    st.caption("No mentions in the last two weeks.")
for row_start in range(0, len(shares), METRICS_PER_ROW):
    columns = st.columns(METRICS_PER_ROW)
    for column, share in zip(columns, shares[row_start : row_start + METRICS_PER_ROW], strict=False):
        change = share.change_points
        column.metric(
            share.group,
            percent(share.this_week.share),
            delta=None if change is None else f"{change:+.0f} points",
            # More negative is worse: a rise shows red.
            delta_color="inverse",
            help=(
                f"{share.this_week.negative} of {share.this_week.total} mentions negative; "
                f"the 7 days before: {share.last_week.negative} of {share.last_week.total}"
            ),
        )

# Spikes are marked by the alerts' own rule and settings, so the chart shows what alerts (or would).
trend = load_trend(engine, watches, by, unit, now - span, config.alerts, timezone)
if not trend.volume:
    st.info("No mentions in this period.")
    st.stop()

st.subheader("Volume")
st.altair_chart(volume_chart(trend.volume, unit, timezone), width="stretch")
st.subheader(f"Negative share per {by}")
points = chart_points(trend.points, trend.start, now, unit)
st.altair_chart(share_chart(points, by, unit, timezone), width="stretch")
spiked = [c.point for c in points if c.point.spike]
if spiked:
    st.warning(f"{len(spiked)} negative spike(s) in this period (▲ on the chart).")

st.subheader("Complaint terms")
keywords = [k for w in config.watches for k in w.keywords]
top = period_terms(engine, watches, since=now - span, until=now, ignore=keywords)
if top:
    st.dataframe(
        pd.DataFrame(
            [
                {"term": t.term, "mentions": t.count, "period before": t.previous, "change": t.change}
                for t in top
            ]
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.caption("No negative mentions in this period.")

st.subheader("Complaint topics over time")
# Per day, the chosen watches' topics (all watches' when none is chosen): why, not just how many.
charted = watches or list(config.watch_names)
days = topic_days(engine, charted, now - max(span, timedelta(days=7)), now)
if days:
    frame = pd.DataFrame(
        [
            {
                "day": d.day,
                "topic": d.topic if len(charted) == 1 else f"{d.watch}: {d.topic}",
                "mentions": d.count,
            }
            for d in days
        ]
    )
    st.line_chart(frame, x="day", y="mentions", color="topic")
else:
    st.caption("No complaint topics yet (the Topics page fits them).")
