"""Inbox: unhandled negative mentions, highest priority first, refreshed while it is open.

The filters, order and layout live in the link (inbox_state.py); the list, its keys (inbox_list.py)
and the bar that acts on a selection or undoes a mark (inbox_actions.py) refresh on their own.

The browser shows a page's parts in the order they arrive, and each part it is sent costs it time to
draw before the next shows: so the mentions are drawn first, into their place below the title, the
counts and the toolbar, and those (and the sidebar) are filled in after them."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from dashboard import context
from dashboard.export import export_button
from dashboard.inbox_actions import bulk_bar, undo_bar
from dashboard.inbox_list import card_list, compact_list, cursor, keyboard
from dashboard.inbox_state import (
    current_view,
    inbox_filter,
    order_and_layout,
    queue_counts,
    saved_views,
    sidebar_filters,
    start_widgets,
)
from dashboard.panel_message import show
from dashboard.safe import plain
from monitor.config.watches import competitor_watches
from monitor.mention import utcnow
from monitor.store.cases import case_badges
from monitor.store.inbox import count, open_negatives
from monitor.store.mentions import distinct_sources
from monitor.surface.inbox import inbox_rows
from monitor.surface.inbox_view import InboxView

PAGE_SIZE = 25
REFRESH_SECONDS = 20
COUNT_CAP = 10_000


@st.cache_data(ttl=60, show_spinner=False)
def _source_names() -> list[str]:
    return distinct_sources(context.engine())


def _show_more() -> None:
    st.session_state["inbox_limit"] += PAGE_SIZE


@st.fragment(run_every=timedelta(seconds=REFRESH_SECONDS))
def live_inbox(view: InboxView) -> None:
    engine = context.engine()
    user = context.run_user()  # looked up again when the fragment reruns alone
    if user is None:
        st.info("Your session has ended: reload the page to sign in again.")
        return
    now = utcnow()
    where = inbox_filter(view, user, now)
    summary, notices = st.container(), st.container()
    rows = inbox_rows(engine, where, limit=st.session_state["inbox_limit"], sort=view.sort)
    if rows:
        badges = case_badges(engine, [row.id for row in rows], now)  # one query: case and overdue flags
        draw = compact_list if view.layout == "compact" else card_list
        draw(engine, rows, badges, user, cursor([row.id for row in rows]))
    total = count(engine, where, cap=COUNT_CAP)
    if total > len(rows):
        st.button("Show more", key="inbox_more", on_click=_show_more)
    with summary:
        metric_col, tools_col = st.columns([1, 5], vertical_alignment="bottom")
        unhandled = open_negatives(engine, competitor_watches(context.config().watches))
        metric_col.metric("Unhandled negatives", f"{unhandled:,}")
        matched = f"{COUNT_CAP:,}+" if total > COUNT_CAP else f"{total:,}"
        tools_col.caption(f"{matched} mentions match · showing {len(rows):,}, sorted by {view.sort}")
        toolbar = tools_col.container(horizontal=True, gap="small")
        if rows:
            bulk_bar(engine, [row.id for row in rows], user, toolbar)
            keyboard(engine, rows, user, toolbar)
    with notices:
        show()
        undo_bar(engine)
        if not rows:
            st.info("Nothing here. Widen the filters, or run `grumble collect --once` to fetch new mentions.")


user = context.run_user()
assert user is not None  # app.py stops the script for nobody
watches, sources = list(context.config().watch_names), _source_names()
problems = start_widgets(watches, sources, user)
view = current_view()  # from the widgets' values, which the session holds before they are drawn
title_row, warnings = st.container(), st.container()
st.session_state.setdefault("inbox_limit", PAGE_SIZE)
live_inbox(view)
with title_row:
    order_and_layout(title="Inbox")
for problem in problems:
    warnings.warning(plain(problem))
queue_counts(context.engine(), user, view)
sidebar_filters(watches, sources, user)
saved_views(context.engine(), user, watches, sources)
export_button(context.engine(), inbox_filter(view, user, utcnow()))
