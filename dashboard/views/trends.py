"""Trends: volume and negative share over time per watch or source, spikes marked, and complaint terms."""

from __future__ import annotations

from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import context
from models.labels import LABELS
from monitor.mention import utcnow
from monitor.surface.trends import load_trend, period_terms

PERIODS = {
    "last 24 hours": (timedelta(hours=24), "hour"),
    "last 7 days": (timedelta(days=7), "hour"),
    "last 30 days": (timedelta(days=30), "day"),
    "last 90 days": (timedelta(days=90), "day"),
}

st.title("Trends")
engine = context.engine()
left, middle, right = st.columns(3)
period = left.selectbox("Period", list(PERIODS), index=1, key="t_period")
by = middle.radio("Per", ["watch", "source"], horizontal=True, key="t_by")
config = context.config()
watches = right.multiselect("Watch", list(config.watch_names), key="t_watch")
span, unit = PERIODS[period]
now = utcnow()
# Spikes are marked by the alerts' own rule and settings, so the chart shows what alerts (or would).
trend = load_trend(engine, watches, by, unit, now - span, config.alerts)  # type: ignore[arg-type]

if not trend.volume:
    st.info("No mentions in this period.")
    st.stop()

frame = pd.DataFrame(
    [{"time": c.bucket, by: c.group, "label": c.label, "count": c.count} for c in trend.volume]
)
merged = pd.DataFrame(
    [
        {
            "time": p.time,
            by: p.group,
            "count": p.total,
            "count_negative": p.negative,
            "negative share": p.share,
            "spike": p.spike,
        }
        for p in trend.points
    ]
)

st.subheader("Volume")
st.altair_chart(
    alt.Chart(frame)
    .mark_bar()
    .encode(
        x=alt.X("time:T", title=None),
        y=alt.Y("sum(count):Q", title="mentions"),
        color=alt.Color(
            "label:N",
            scale=alt.Scale(
                domain=[*LABELS, "unscored"],
                range=["#d62728", "#9e9e9e", "#2ca02c", "#dddddd"],
            ),
        ),
        tooltip=["time:T", "label:N", "sum(count):Q"],
    ),
    width="stretch",
)
st.subheader("Negative share")
line = (
    alt.Chart(merged)
    .mark_line(point=True)
    .encode(
        x=alt.X("time:T", title=None),
        y=alt.Y("negative share:Q", axis=alt.Axis(format="%")),
        color=f"{by}:N",
        tooltip=[
            "time:T",
            f"{by}:N",
            "count:Q",
            "count_negative:Q",
            alt.Tooltip("negative share:Q", format=".0%"),
        ],
    )
)
spikes = (
    alt.Chart(merged[merged["spike"]])
    .mark_point(shape="triangle-up", size=200, color="#d62728", filled=True)
    .encode(x="time:T", y="negative share:Q", tooltip=["time:T", f"{by}:N", "count_negative:Q"])
)
st.altair_chart(line + spikes, use_container_width=True)
spike_rows = merged[merged["spike"]]
if len(spike_rows):
    st.warning(f"{len(spike_rows)} negative spike(s) in this period (▲ on the chart).")

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
