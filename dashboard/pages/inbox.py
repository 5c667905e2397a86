"""Inbox: negative mentions first, newest and most negative on top. Text is shown as text, never HTML."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import context
from dashboard.safe import safe_link
from monitor.store.mentions import MentionFilter, counts_by_source
from monitor.views import inbox_rows

LABELS = ["negative", "neutral", "positive"]

st.title("Inbox")
engine = context.engine()
watch_names = [watch.name for watch in context.config().watches]
source_names = sorted(counts_by_source(engine))

with st.sidebar:
    st.header("Filters")
    watches = st.multiselect("Watch", watch_names, key="filter_watch")
    sources = st.multiselect("Source", source_names, key="filter_source")
    labels = st.multiselect("Label", LABELS, key="filter_label")

rows = inbox_rows(engine, MentionFilter(watches=watches, sources=sources, labels=labels))
negatives = sum(1 for row in rows if row.label == "negative")
st.caption(f"{len(rows)} mentions shown, {negatives} negative")

if not rows:
    st.info("No mentions yet. Run `grumble collect --once`, or check the watches in grumble.toml.")
else:
    table = pd.DataFrame(
        {
            "label": [row.label or "unscored" for row in rows],
            "negative": [row.negative for row in rows],
            "source": [row.source for row in rows],
            "author": [row.author or "" for row in rows],
            "reach": [row.author_reach for row in rows],
            "age": [row.age() for row in rows],
            "rating": [row.rating for row in rows],
            "text": [(f"{row.title} — " if row.title else "") + row.text for row in rows],
            "link": [safe_link(row.url) for row in rows],
            "neutral": [row.neutral for row in rows],
            "positive": [row.positive for row in rows],
            "language": [row.language or "" for row in rows],
            "priority": [round(row.priority, 3) for row in rows],
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "negative": st.column_config.ProgressColumn(
                "negative", min_value=0.0, max_value=1.0, format="%.2f"
            ),
            "neutral": st.column_config.NumberColumn(format="%.2f"),
            "positive": st.column_config.NumberColumn(format="%.2f"),
            "link": st.column_config.LinkColumn("link", display_text="open"),
            "text": st.column_config.TextColumn("text", width="large"),
        },
    )
    st.subheader("Details")
    for row in rows[:25]:
        heading = f"{row.label or 'unscored'} · {row.source} · {row.author or 'unknown'} · {row.age()} ago"
        with st.expander(heading):
            if row.title:
                st.text(row.title)
            st.text(row.text)
            scores = " · ".join(
                f"{name} {value or 0:.2f}"
                for name, value in (
                    ("negative", row.negative),
                    ("neutral", row.neutral),
                    ("positive", row.positive),
                )
            )
            st.text(scores + (f" · language {row.language}" if row.language else ""))
            link = safe_link(row.url)
            if link:
                st.link_button("Open the original", link)
