"""Compare: a brand watch against its competitors, side by side: volume, share of voice, negative
share and complaint terms, each against the period before."""

from __future__ import annotations

from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import context
from dashboard.safe import plain
from monitor.mention import utcnow
from monitor.surface.compare import PERIOD_DAYS, brand_watches, load_comparison
from monitor.surface.render import percent
from monitor.surface.shares import points
from monitor.topics.report import period_topics

TOPICS_SHOWN = 5  # per watch


def with_change(value: str, change: str) -> str:
    """A current figure with its change in brackets, or alone when there is nothing to compare with."""
    return value if change == "-" else f"{value} ({change})"


st.title("Compare")
config = context.config()
brands = brand_watches(config.watches)
if not brands:
    st.info(
        "No competitors are configured. To compare a brand with its competitors, give the brand's "
        '`[[watches]]` entry in grumble.toml a list of other watches, e.g. `competitors = ["globex"]` '
        "(each competitor is a watch of its own, with its keywords and sources), then restart the dashboard."
    )
    st.stop()

left, right = st.columns(2)
names = [brand.name for brand in brands]
chosen = left.selectbox("Brand", names, key="c_brand")
days = right.radio(
    "Period", PERIOD_DAYS, index=1, horizontal=True, format_func=lambda d: f"last {d} days", key="c_days"
)
brand = next(b for b in brands if b.name == chosen)
comparison = load_comparison(context.engine(), brand, config.watches, utcnow(), timedelta(days=days))
now_label, before_label = f"last {days} days", f"{days} days before"

if comparison.quiet:
    st.info(f"No mentions of {plain(brand.name)} or its competitors in the last {2 * days} days.")
    st.stop()

st.caption(
    "Share of voice: each watch's share of the mentions the group heard (a mention of two of them counts "
    "for both). Changes, in brackets, are against the period as long before it."
)


st.dataframe(
    pd.DataFrame(
        [
            {
                "watch": f"{row.watch} (brand)" if row.is_brand else row.watch,
                "mentions": with_change(str(row.current.total), f"{row.volume_change:+d}"),
                "mentions before": row.previous.total,
                "share of voice": with_change(
                    percent(row.current.share_of_voice), points(row.share_of_voice_change)
                ),
                "share of voice before": percent(row.previous.share_of_voice),
                "negative": row.current.negative,
                "negative share": with_change(
                    percent(row.current.negative_share), points(row.negative_share_change)
                ),
                "negative share before": percent(row.previous.negative_share),
            }
            for row in comparison.rows
        ]
    ),
    hide_index=True,
    width="stretch",
)

st.subheader("Share of voice")
shares = pd.DataFrame(
    [
        {"period": label, "watch": row.watch, "mentions": figures.total}
        for row in comparison.rows
        for label, figures in ((now_label, row.current), (before_label, row.previous))
    ]
)
st.altair_chart(
    alt.Chart(shares)
    .mark_bar()
    .encode(
        y=alt.Y("period:N", sort=[now_label, before_label], title=None),
        x=alt.X("sum(mentions):Q", stack="normalize", title="share of voice", axis=alt.Axis(format="%")),
        color=alt.Color("watch:N", sort=[row.watch for row in comparison.rows]),
        tooltip=["period:N", "watch:N", "mentions:Q"],
    )
    .properties(height=120),
    width="stretch",
)

st.subheader("Complaint terms")
terms = [
    {
        "watch": row.watch,
        "term": term.term,
        "negative mentions": term.count,
        "period before": term.previous,
        "change": term.change,
    }
    for row in comparison.rows
    for term in row.terms
]
if terms:
    st.dataframe(pd.DataFrame(terms), hide_index=True, width="stretch")
else:
    st.caption("No negative mentions in this period.")

st.subheader("Complaint topics")
now = utcnow()
topics = [
    {
        "watch": row.watch,
        "topic": topic.name,
        "mentions": topic.count,
        "period before": topic.previous,
        "new": "yes" if topic.new else "",
    }
    for row in comparison.rows
    for topic in period_topics(context.engine(), [row.watch], now - timedelta(days=days), now)[:TOPICS_SHOWN]
]
if topics:
    st.dataframe(pd.DataFrame(topics), hide_index=True, width="stretch")
else:
    st.caption("No complaint topics in this period (the Topics page fits each watch's).")
