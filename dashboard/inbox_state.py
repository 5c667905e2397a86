"""The inbox's filters, order and layout: the widgets, the link that carries them, and saved views.

The link's query is where the view lives (a reload or a shared link reopens it); the widgets start from
it on a fresh session, and from the view last shown when coming back from another page (Streamlit drops
a page's widget values and its query when the user leaves it). Saved views keep the same query.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import streamlit as st
from sqlalchemy import Engine

from dashboard.context import acting
from dashboard.panel_message import say
from dashboard.safe import plain
from models.labels import LABELS
from monitor.auth.users import User
from monitor.mention import utcnow
from monitor.store.inbox import SORTS
from monitor.store.saved_views import SavedViewError, delete_view, list_views, save_view
from monitor.surface.inbox_view import LAYOUTS, PARAMS, TIME_RANGES, TRIAGE_VIEWS, InboxView, from_params

# InboxView field -> its widget's key.
WIDGETS = {
    "search": "f_search",
    "watches": "f_watch",
    "sources": "f_source",
    "labels": "f_label",
    "show": "f_triage",
    "period": "f_period",
    "min_priority": "f_priority",
    "sort": "f_sort",
    "layout": "f_layout",
}
LAST_VIEW = "inbox_view"  # the view last shown in this session: survives a visit to another page
SORT_HELP = (
    "priority: how negative × how far it will travel × how fresh (halving every 12 hours); "
    "newest: most recent first; reach: the author's followers, then the post's reactions; "
    "most negative: the model's P(negative) for the text."
)


def _widget_value(view: InboxView, name: str) -> Any:
    value = getattr(view, name)
    return list(value) if isinstance(value, tuple) else value


def _set_widgets(view: InboxView) -> None:
    for name, key in WIDGETS.items():
        st.session_state[key] = _widget_value(view, name)


def start_widgets(watches: list[str], sources: list[str]) -> list[str]:
    """Before the widgets are drawn, once a visit: their values from the link, else from the view last
    shown. Returns a sentence for each value in the link that could not be used."""
    if all(key in st.session_state for key in WIDGETS.values()):
        return []
    query = {name: st.query_params.get_all(name) for name in PARAMS.values() if name in st.query_params}
    problems: list[str] = []
    if query:
        view, problems = from_params(query, watches, sources)
    else:
        view = st.session_state.get(LAST_VIEW) or InboxView()
    _set_widgets(view)
    return problems


def _view_from_widgets() -> InboxView:
    values: dict[str, Any] = {}
    for item in fields(InboxView):
        value = st.session_state[WIDGETS[item.name]]
        values[item.name] = tuple(value) if isinstance(value, list) else value
    values["min_priority"] = float(values["min_priority"] or 0.0)
    return InboxView(**values)


def sidebar_filters(watches: list[str], sources: list[str]) -> None:
    with st.sidebar:
        st.header("Filters")
        st.text_input("Search text or author", key="f_search")
        st.multiselect("Watch", watches, key="f_watch")
        st.multiselect("Source", sources, key="f_source")
        st.multiselect("Label", list(LABELS), key="f_label")
        st.selectbox("Show", list(TRIAGE_VIEWS), key="f_triage")
        st.selectbox(
            "Time range", list(TIME_RANGES), format_func=lambda period: TIME_RANGES[period][0], key="f_period"
        )
        st.number_input("Minimum priority", min_value=0.0, step=0.1, key="f_priority")


def order_and_layout(title: str) -> None:
    """The page's title with the order and layout beside it: one row, so more of the list shows."""
    title_col, sort_col, layout_col = st.columns([1.2, 2, 1.6], vertical_alignment="bottom")
    title_col.title(title)
    sort_col.selectbox("Sort by", list(SORTS), key="f_sort", help=SORT_HELP)
    layout_col.segmented_control(
        "Layout",
        list(LAYOUTS),
        key="f_layout",
        format_func=lambda layout: {"cards": "🗂️ Cards", "compact": "☰ Compact"}[layout],
        help="Compact: one line per mention; open one to see it whole.",
    )


def current_view() -> InboxView:
    """The view the widgets show, written into the link (only when it changed: each write is a message
    to the browser) and kept for the next visit."""
    if st.session_state.get("f_layout") is None:  # a segmented control can be clicked off
        st.session_state["f_layout"] = "cards"
    view = _view_from_widgets()
    st.session_state[LAST_VIEW] = view
    params = view.to_params()
    for name in PARAMS.values():  # only the inbox's own: a link may carry others
        wanted = params.get(name)
        if wanted is None:
            if name in st.query_params:
                del st.query_params[name]
        elif st.query_params.get_all(name) != (wanted if isinstance(wanted, list) else [wanted]):
            st.query_params[name] = wanted
    return view


# --- saved views -----------------------------------------------------------------------------------------


def _open_saved(params: dict[str, Any], watches: list[str], sources: list[str]) -> None:
    view, problems = from_params(
        {name: value if isinstance(value, list) else [value] for name, value in params.items()},
        watches,
        sources,
    )
    _set_widgets(view)
    if problems:
        say("warning", " ".join(problems))


def _save(engine: Engine, user: User) -> None:
    name = str(st.session_state.get("view_name") or "")
    try:
        saved = save_view(engine, user.name, name, _view_from_widgets().to_params(), utcnow())
    except SavedViewError as exc:
        say("error", str(exc))
        return
    st.session_state["view_name"] = ""
    say("success", f"Saved the view “{saved.name}”.")


def _delete(engine: Engine, user: User, name: str) -> None:
    delete_view(engine, user.name, name)
    say("info", f"Deleted the view “{name}”.")


def saved_views(engine: Engine, user: User, watches: list[str], sources: list[str]) -> None:
    """The user's saved views in the sidebar: open one (its filters, and its link), save, delete."""
    with st.sidebar:
        st.header("Saved views")
        views = list_views(engine, user.name)
        if not views:
            st.caption("None yet: set the filters, then save them under a name.")
        for number, view in enumerate(views):
            open_col, delete_col = st.columns([5, 1])
            open_col.button(
                f"📌 {plain(view.name, 40)}",
                key=f"view-open-{number}",
                on_click=_open_saved,
                args=(view.params, watches, sources),
                width="stretch",
            )
            delete_col.button(
                "🗑",
                key=f"view-delete-{number}",
                help=f"Delete “{plain(view.name, 40)}”",
                on_click=acting(_delete),
                args=(engine, user, view.name),
            )
        st.text_input("Save these filters as", key="view_name", placeholder="e.g. refunds this week")
        st.button("Save view", key="view-save", on_click=acting(_save), args=(engine, user))
