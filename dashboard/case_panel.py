"""The case panel on the mention page: status, assignee, tags, notes, the response clock, and the reply,
from a template through approval to the public post (or, for sources without a reply API, copy, open
the original and mark it replied by hand).

It only draws: a case's changes go through monitor/respond/cases.py; the reply part is reply_panel.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import streamlit as st
from sqlalchemy import Engine

from dashboard import context
from dashboard.context import acting
from dashboard.helpdesk_panel import helpdesk_panel
from dashboard.panel_message import say, say_failed, show
from dashboard.reply_panel import reply_panel
from dashboard.safe import plain
from dashboard.times import shown_time
from monitor.auth.users import User, shown_name, typed_name
from monitor.config import Config, ResponderSettings
from monitor.errors import GrumbleError
from monitor.mention import utcnow
from monitor.respond.cases import add_note, assign, open_case_saying, set_status, set_tags
from monitor.respond.history import event_sentence
from monitor.respond.transitions import MANUAL_STATUSES
from monitor.store.cases import Case, case_notes, find_case
from monitor.store.triage import history
from monitor.surface.versions import deleted_line, reopened_because

STATUS_LABELS = {
    "new": "🆕 new",
    "in_progress": "🛠️ in progress",
    "waiting_for_approval": "⏳ waiting for approval",
    "replied": "💬 replied",
    "resolved": "✅ handled",  # one name per thing: history.STATUS_WORDS
    "dismissed": "🚫 not relevant",
}
NOBODY = "(nobody)"


def _act(action: Callable[..., Any], *args: Any) -> None:
    """Run a case change from a widget; its error becomes the panel's message, never a traceback."""
    try:
        action(*args)
    except GrumbleError as exc:
        say_failed("Not changed", exc, "Reload the page to see the case as it is now, then try again.")


def _minutes(delta: timedelta) -> str:
    minutes = int(abs(delta.total_seconds()) // 60)
    if minutes >= 2 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes} min"


def _clock(label: str, done: datetime | None, due: datetime | None, start: datetime, now: datetime) -> str:
    if done is not None:
        met = due is None or done <= due
        return f"{label}: {_minutes(done - start)} {'✅ on target' if met else '❌ past target'}"
    if due is None:
        return f"{label}: —"
    if due <= now:
        return f"{label}: ⏰ overdue by {_minutes(now - due)}"
    return f"{label}: due in {_minutes(due - now)}"


def _summary(case: Case, now: datetime) -> None:
    tags = ", ".join(case.tags) or "none"
    st.markdown(
        f"**{STATUS_LABELS.get(case.status, case.status)}**"
        f" · assignee **{plain(shown_name(case.assignee or 'nobody'))}**"
        f" · tags {plain(tags)}"
    )
    first = _clock("First response", case.first_response_at, case.response_due_at, case.clock_from, now)
    resolution = _clock("Handled", case.resolved_at, case.resolution_due_at, case.clock_from, now)
    st.caption(
        f"{first} · {resolution} · case opened {shown_time(case.opened_at)}"
        f" · clock from {shown_time(case.clock_from)}, when the mention reached us"
    )


# --- callbacks ------------------------------------------------------------------------------------------


def _status_changed(engine: Engine, case_id: int, key: str, actor: str) -> None:
    value = st.session_state[key]
    if value in MANUAL_STATUSES:
        _act(set_status, engine, case_id, value, actor)


def _assign(engine: Engine, case_id: int, key: str, actor: str) -> None:
    value = typed_name(str(st.session_state.get(key) or ""), actor)
    _act(assign, engine, case_id, None if value in ("", NOBODY) else value, actor)


def _save_tags(engine: Engine, case_id: int, key: str, actor: str) -> None:
    tags = [tag for tag in str(st.session_state.get(key) or "").split(",")]
    _act(set_tags, engine, case_id, tags, actor)


def _add_note(engine: Engine, case_id: int, key: str, actor: str) -> None:
    try:
        add_note(engine, case_id, str(st.session_state.get(key) or ""), actor)
    except GrumbleError as exc:
        say_failed("Note not added", exc, "Correct it, then add it again.")
        return
    st.session_state[key] = ""


def _open_case(engine: Engine, mention_id: int, actor: str, settings: ResponderSettings) -> None:
    """Open the case; when someone opened it since this page was drawn, say so (the panel, drawn
    again after this, shows their case as it stands) rather than seem to have opened it now."""
    try:
        opened = open_case_saying(engine, mention_id, actor, settings)
    except GrumbleError as exc:
        say_failed("No case opened", exc, "Reload the page, then try again.")
        return
    if not opened.new:
        who = "You" if opened.opened_by == actor else shown_name(opened.opened_by or "Someone")
        say(
            "info",
            f"{who} already opened this case, at {shown_time(opened.case.opened_at)}: nothing new was opened."
            " Here it is as it stands now.",
        )


# --- sections -------------------------------------------------------------------------------------------


def _case_controls(engine: Engine, case: Case, config: Config, user: User) -> None:
    status_col, assignee_col, tags_col = st.columns(3)
    key = f"case-{case.id}"
    options = list(MANUAL_STATUSES) if case.status in MANUAL_STATUSES else [case.status, *MANUAL_STATUSES]
    status_col.selectbox(
        "Status",
        options,
        index=options.index(case.status),
        format_func=lambda s: STATUS_LABELS.get(s, s),
        key=f"{key}-status-{case.status}",
        on_change=_status_changed,
        args=(engine, case.id, f"{key}-status-{case.status}", user.name),
    )
    assignee_key = f"{key}-assignee"
    if config.users:
        names = [NOBODY, *sorted(u.name for u in config.users if u.can("responder"))]
        current = case.assignee if case.assignee in names else NOBODY
        assignee_col.selectbox("Assignee", names, index=names.index(current), key=assignee_key)
    else:
        assignee = shown_name(case.assignee) if case.assignee else ""  # "you", never "local"
        assignee_col.text_input("Assignee", value=assignee, key=assignee_key, placeholder="a name, or me")
    assignee_col.button(
        "Assign",
        key=f"{key}-assign",
        on_click=acting(_assign),
        args=(engine, case.id, assignee_key, user.name),
    )
    tags_key = f"{key}-tags"
    tags_col.text_input("Tags (comma-separated)", value=", ".join(case.tags), key=tags_key)
    tags_col.button(
        "Save tags",
        key=f"{key}-save-tags",
        on_click=acting(_save_tags),
        args=(engine, case.id, tags_key, user.name),
    )


def _notes(engine: Engine, case: Case, user: User) -> None:
    notes = case_notes(engine, case.mention_id)
    with st.expander(f"Internal notes ({len(notes)})", expanded=bool(notes)):
        for note in notes:
            st.markdown(f"- {shown_time(note.at)} · {plain(event_sentence(note), 1000)}")
        if user.can("responder"):
            note_key = f"case-{case.id}-note"
            st.text_area("New note (never sent)", key=note_key, height=80)
            st.button(
                "Add note",
                key=f"{note_key}-add",
                on_click=acting(_add_note),
                args=(engine, case.id, note_key, user.name),
            )


def case_panel(engine: Engine, mention: dict[str, Any]) -> None:
    """The whole panel for one mention; the mention page calls it under the mention's card."""
    config = context.config()
    user = context.current_user()
    if user is None:
        return
    st.subheader("Case")
    show()
    if mention.get("deleted_at") is not None:
        st.warning(deleted_line(shown_time(mention["deleted_at"])), icon="🗑️")
    case = find_case(engine, int(mention["id"]))
    if case is None:
        st.caption("No case yet: open one to assign it, track the response time and reply.")
        if user.can("responder"):
            st.button(
                "Open a case",
                key=f"open-case-{mention['id']}",
                on_click=acting(_open_case),
                args=(engine, int(mention["id"]), user.name, config.responder),
            )
        return
    _summary(case, utcnow())
    reason = reopened_because(history(engine, case.mention_id))
    if reason:
        st.info(f"Reopened: {plain(reason, 1000)}", icon="↩️")
    if user.can("responder"):
        _case_controls(engine, case, config, user)
    _notes(engine, case, user)
    helpdesk_panel(engine, case, config, user)
    reply_panel(engine, case, mention, config, user)
