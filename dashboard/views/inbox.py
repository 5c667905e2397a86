"""Inbox: unhandled negative mentions, highest priority first, refreshed while it is open."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from dashboard import context
from dashboard.components import card
from dashboard.export import export_button
from models.labels import LABELS
from monitor.mention import utcnow
from monitor.store.cases import case_badges
from monitor.store.filters import MentionFilter
from monitor.store.inbox import count, open_negatives
from monitor.store.mentions import distinct_sources
from monitor.surface.inbox import inbox_rows

PAGE_SIZE = 25
REFRESH_SECONDS = 20
COUNT_CAP = 10_000
TIME_RANGES = {"any time": None, "last hour": 1, "last 24 hours": 24, "last 7 days": 168, "last 30 days": 720}
TRIAGE_VIEWS = {"unhandled": ["open"], "handled": ["handled"], "dismissed": ["dismissed"], "all": []}


@st.cache_data(ttl=60, show_spinner=False)
def _source_names() -> list[str]:
    return distinct_sources(context.engine())


def sidebar_filter() -> MentionFilter:
    with st.sidebar:
        st.header("Filters")
        search = st.text_input("Search text or author", key="f_search")
        watches = st.multiselect("Watch", list(context.config().watch_names), key="f_watch")
        sources = st.multiselect("Source", _source_names(), key="f_source")
        labels = st.multiselect("Label", list(LABELS), default=["negative"], key="f_label")
        triage = st.selectbox("Show", list(TRIAGE_VIEWS), key="f_triage")
        period = st.selectbox("Time range", list(TIME_RANGES), key="f_period")
        min_priority = st.number_input(
            "Minimum priority", min_value=0.0, value=0.0, step=0.1, key="f_priority"
        )
    hours = TIME_RANGES[period]
    return MentionFilter(
        watches=watches,
        sources=sources,
        labels=labels,
        triage=TRIAGE_VIEWS[triage],
        since=utcnow() - timedelta(hours=hours) if hours else None,
        search=search or None,
        min_priority=min_priority or None,
    )


where = sidebar_filter()
st.session_state.setdefault("inbox_limit", PAGE_SIZE)


def _show_more() -> None:
    st.session_state["inbox_limit"] += PAGE_SIZE


@st.fragment(run_every=timedelta(seconds=REFRESH_SECONDS))
def live_inbox() -> None:
    engine = context.engine()
    header, metric = st.columns([3, 1])
    header.title("Inbox")
    metric.metric("Unhandled negatives", f"{open_negatives(engine):,}")
    limit = st.session_state["inbox_limit"]
    rows = inbox_rows(engine, where, limit=limit)
    total = count(engine, where, cap=COUNT_CAP)
    matched = f"{COUNT_CAP:,}+" if total > COUNT_CAP else f"{total:,}"
    st.caption(f"{matched} mentions match · showing the {len(rows):,} with the highest priority")
    if not rows:
        st.info("Nothing here. Widen the filters, or run `grumble collect --once` to fetch new mentions.")
        return
    badges = case_badges(engine, [row.id for row in rows], utcnow())  # one query: case and overdue flags
    for row in rows:
        card(engine, row, key="inbox", case=badges.get(row.id))
    if total > len(rows):
        st.button("Show more", key="inbox_more", on_click=_show_more)


live_inbox()
export_button(context.engine(), where)
