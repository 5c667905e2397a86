"""The inbox's filters, order and layout: the widgets, the link that carries them, and saved views.

The link's query is where the view lives (a reload or a shared link reopens it); the widgets start from
it on a fresh session, and from the view last shown when coming back from another page (Streamlit drops
a page's widget values and its query when the user leaves it). Saved views keep the same query.
"""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import datetime
from typing import Any

import streamlit as st
from sqlalchemy import Engine

from dashboard import context
from dashboard.context import acting
from dashboard.panel_message import say, say_failed
from dashboard.safe import plain
from models.labels import LABELS
from monitor.auth.users import ROLES, User
from monitor.config.watches import competitor_watches
from monitor.mention import utcnow
from monitor.respond.history import status_words
from monitor.respond.reply_approval import ROLE_PREFIX
from monitor.store.cases import CASE_STATUSES
from monitor.store.filters import MentionFilter
from monitor.store.inbox import SORTS, count
from monitor.store.queues import tags_in_use
from monitor.store.saved_views import SavedViewError, delete_view, list_views, save_view, team_views
from monitor.surface.inbox_view import (
    ASSIGNEES,
    FIELDS,
    LAYOUTS,
    PARAMS,
    QUEUES,
    TIME_RANGES,
    TRIAGE_VIEWS,
    InboxView,
    Queue,
    from_params,
)

# InboxView field -> its widget's key (the one table: inbox_view.FIELDS).
WIDGETS = {name: setting.widget for name, setting in FIELDS.items()}
QUEUE_COUNT_CAP = 999  # a queue's count past this shows as "999+"
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


def start_widgets(watches: list[str], sources: list[str], user: User) -> list[str]:
    """Before the widgets are drawn, once a visit: their values from the link, else from the view last
    shown. Returns a sentence for each value in the link that could not be used."""
    if all(key in st.session_state for key in WIDGETS.values()):
        return []
    query = {name: st.query_params.get_all(name) for name in PARAMS.values() if name in st.query_params}
    problems: list[str] = []
    if query:
        view, problems = from_params(query, watches, sources, people())
    else:
        view = st.session_state.get(LAST_VIEW) or InboxView()
    _set_widgets(_for(view, user, problems))
    return problems


def _view_from_widgets() -> InboxView:
    values: dict[str, Any] = {}
    for item in fields(InboxView):
        value = st.session_state[WIDGETS[item.name]]
        values[item.name] = tuple(value) if isinstance(value, list) else value
    values["min_priority"] = float(values["min_priority"] or 0.0)
    values["assignee"] = str(values["assignee"] or "")
    for name in ("overdue", "awaiting_my_approval", "competitors"):
        values[name] = bool(values[name])
    return InboxView(**values)


def people() -> list[str] | None:
    """Whom a case can be assigned to: the configured users; None for local use (anyone's name)."""
    users = context.config().users
    return sorted(user.name for user in users if user.can("responder")) if users else None


def may_approve(user: User) -> bool:
    return user.can(context.config().responder.approver_role)


def inbox_filter(view: InboxView, user: User, now: datetime) -> MentionFilter:
    """The filter for `view` as `user` sees it: "me" is them; competitor watches stay out unless asked."""
    roles = [ROLE_PREFIX + role for role in ROLES if user.can(role)]
    return view.to_filter(now, user.name, competitor_watches(context.config().watches), roles)


def _for(view: InboxView, user: User, problems: list[str]) -> InboxView:
    """`view` as `user` may open it: a link or saved view asking for replies waiting for their approval
    is refused, with a sentence, to someone who cannot approve."""
    if view.awaiting_my_approval and not may_approve(user):
        role = context.config().responder.approver_role
        problems.append(f"Ignored approval=1 in the link: approving replies needs the {role} role.")
        return replace(view, awaiting_my_approval=False)
    return view


@st.cache_data(ttl=60, show_spinner=False)
def _tags() -> list[str]:
    return tags_in_use(context.engine())


@st.cache_data(ttl=60, show_spinner=False)
def _topics(watches: tuple[str, ...]) -> dict[str, str]:
    from monitor.topics.report import topic_choices

    return {str(i): name for i, name in topic_choices(context.engine(), list(watches)).items()}


def _assignee_words(value: str) -> str:
    return ASSIGNEES.get(value, value)


def sidebar_filters(watches: list[str], sources: list[str], user: User) -> None:
    assignees = [*ASSIGNEES, *(people() or [])]
    chosen = str(st.session_state.get(WIDGETS["assignee"]) or "")
    if chosen not in assignees:  # a name from a link, in local use
        assignees.append(chosen)
    tags = sorted({*_tags(), *st.session_state.get(WIDGETS["tags"], [])}, key=str.lower)
    competitors = competitor_watches(context.config().watches)
    responder = context.config().responder
    with st.sidebar:
        st.header("Filters")
        st.text_input("Search text or author", key="f_search")
        st.multiselect("Watch", watches, key="f_watch")
        st.multiselect("Source", sources, key="f_source")
        st.multiselect("Label", list(LABELS), key="f_label")
        st.selectbox("Show", list(TRIAGE_VIEWS), format_func=status_words, key="f_triage")
        st.selectbox(
            "Time range", list(TIME_RANGES), format_func=lambda period: TIME_RANGES[period][0], key="f_period"
        )
        st.number_input("Minimum priority", min_value=0.0, step=0.1, key="f_priority")
        st.selectbox("Assigned to", assignees, format_func=_assignee_words, key=WIDGETS["assignee"])
        st.multiselect(
            "Case status",
            list(CASE_STATUSES),
            format_func=status_words,
            key=WIDGETS["case_statuses"],
        )
        st.multiselect("Tag", tags, key=WIDGETS["tags"], help="Mentions whose case has any of these tags")
        topics = _topics(tuple(watches))
        st.multiselect(
            "Complaint topic",
            sorted({*topics, *st.session_state.get(WIDGETS["topics"], [])}, key=lambda i: topics.get(i, i)),
            format_func=lambda topic: topics.get(topic, f"topic {topic} (gone)"),
            key=WIDGETS["topics"],
            help="Unhappy mentions in any of these topics (the Topics page lists and edits them)",
        )
        st.toggle(
            "Overdue",
            key=WIDGETS["overdue"],
            help="Cases past the response target ([responder] response_target_minutes) without a reply",
        )
        st.toggle(
            "Waiting for my approval",
            key=WIDGETS["awaiting_my_approval"],
            disabled=not may_approve(user),
            help=f"Replies someone else wrote, for you to approve (the {responder.approver_role} role)",
        )
        st.toggle(
            "Include competitor watches",
            key=WIDGETS["competitors"],
            disabled=not competitors,
            help=(
                f"Mentions only {', '.join(competitors)} matched: out of the care inbox unless this is on"
                if competitors
                else "No watch is a competitor (a brand watch's `competitors = [...]` names them)"
            ),
        )


# --- team queues ------------------------------------------------------------------------------------------


def _open_queue(queue: Queue) -> None:
    _set_widgets(queue.view(_view_from_widgets()))


def queue_counts(engine: Engine, user: User, shown: InboxView) -> None:
    """The team's queues in the sidebar, each with how many mentions it holds; one click opens it."""
    now = utcnow()
    with st.sidebar:
        st.header("Queues")
        for queue in QUEUES:
            if queue.approvers_only and not may_approve(user):
                continue
            view = queue.view(shown)
            found = count(engine, inbox_filter(view, user, now), cap=QUEUE_COUNT_CAP)
            number = f"{QUEUE_COUNT_CAP}+" if found > QUEUE_COUNT_CAP else str(found)
            st.button(
                f"{queue.title} · {number}",
                key=f"queue-{queue.key}",
                on_click=_open_queue,
                args=(queue,),
                type="primary" if view == shown else "secondary",
                width="stretch",
            )


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


def _open_saved(params: dict[str, Any], watches: list[str], sources: list[str], user: User) -> None:
    view, problems = from_params(
        {name: value if isinstance(value, list) else [value] for name, value in params.items()},
        watches,
        sources,
        people(),
    )
    _set_widgets(_for(view, user, problems))
    if problems:
        say("warning", " ".join(problems))


def _save(engine: Engine, user: User) -> None:
    name = str(st.session_state.get("view_name") or "")
    shared = bool(st.session_state.get("view_shared"))
    try:
        saved = save_view(engine, user.name, name, _view_from_widgets().to_params(), utcnow(), shared)
    except SavedViewError as exc:
        say_failed("View not saved", exc, "Change it, then save again.")
        return
    st.session_state["view_name"] = ""
    st.session_state["view_shared"] = False
    whom = " for the team" if saved.shared else ""
    say("success", f"Saved the view “{saved.name}”{whom}.")


def _delete(engine: Engine, user: User, name: str) -> None:
    delete_view(engine, user.name, name)
    say("info", f"Deleted the view “{name}”.")


def saved_views(engine: Engine, user: User, watches: list[str], sources: list[str]) -> None:
    """The user's saved views and the team's shared ones in the sidebar: open one (its filters, and its
    link); save (shared or not), delete one's own."""
    with st.sidebar:
        st.header("Saved views")
        views = list_views(engine, user.name)
        if not views:
            st.caption("None yet: set the filters, then save them under a name.")
        for number, view in enumerate(views):
            open_col, delete_col = st.columns([5, 1])
            open_col.button(
                f"📌 {plain(view.name, 40)}{' · shared' if view.shared else ''}",
                key=f"view-open-{number}",
                on_click=_open_saved,
                args=(view.params, watches, sources, user),
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
        st.toggle(
            "Share with the team", key="view_shared", help="Everyone signed in sees it; only you change it"
        )
        st.button("Save view", key="view-save", on_click=acting(_save), args=(engine, user))
        shared = team_views(engine, user.name)
        if shared:
            st.subheader("Team views")
        for number, view in enumerate(shared):
            st.button(
                f"👥 {plain(view.name, 40)} · by {plain(view.owner or '', 30)}",
                key=f"team-view-open-{number}",
                on_click=_open_saved,
                args=(view.params, watches, sources, user),
                width="stretch",
            )
