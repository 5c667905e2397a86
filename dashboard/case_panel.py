"""The case panel on the mention page: status, assignee, tags, notes, the response clock, and the reply,
from a template through approval to the public post (or, for sources without a reply API, copy, open
the original and mark it replied by hand). Everything it does goes through monitor/respond/cases.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import streamlit as st
from sqlalchemy import Engine

from dashboard import context
from dashboard.safe import plain, safe_link
from monitor.auth.users import User
from monitor.config import Config, ResponderSettings
from monitor.errors import GrumbleError
from monitor.mention import utcnow
from monitor.ranking import priority_from_key
from monitor.respond.cases import (
    MANUAL_STATUSES,
    add_note,
    approval_reasons,
    approve_reply,
    assign,
    can_approve,
    current_reply,
    mark_replied_by_hand,
    measure,
    open_case,
    post_reply,
    render_template,
    return_reply,
    save_draft,
    set_status,
    set_tags,
    submit_reply,
)
from monitor.sources.base import Replier
from monitor.sources.registry import build_source, reply_blocker
from monitor.store.cases import Case, CaseReply, case_notes, find_case, replies_for_case

MESSAGE = "case_panel_message"
STATUS_LABELS = {
    "new": "🆕 new",
    "in_progress": "🛠️ in progress",
    "waiting_for_approval": "⏳ waiting for approval",
    "replied": "💬 replied",
    "resolved": "✅ resolved",
    "dismissed": "🚫 dismissed",
}
NOBODY = "(nobody)"


Target = tuple[str, str]  # (source, external id) of the mention being answered


@st.cache_resource(show_spinner=False)
def _replier(source: str) -> Replier | None:
    """The source, built once per server process, when it has a reply API."""
    try:
        built = build_source(context.config().source_settings(source))
    except GrumbleError:
        return None
    return built if isinstance(built, Replier) else None


def replier_for(target: Target) -> tuple[Replier | None, str | None]:
    """The source, when this mention's reply can be posted from here; else None and why not (no reply
    API, no login configured, a demo mention), so nothing is offered that could only fail."""
    source, external_id = target
    replier = _replier(source)
    blocker = reply_blocker(replier, external_id)
    return (None, blocker) if blocker is not None else (replier, None)


def _say(kind: str, text: str) -> None:
    st.session_state[MESSAGE] = (kind, text)


def _act(action: Callable[..., Any], *args: Any) -> None:
    """Run a workflow step from a button; its error becomes the panel's message, never a traceback."""
    try:
        action(*args)
    except GrumbleError as exc:
        _say("error", str(exc))


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
        f"**{STATUS_LABELS.get(case.status, case.status)}** · assignee **{plain(case.assignee or 'nobody')}**"
        f" · tags {plain(tags)}"
    )
    first = _clock("First response", case.first_response_at, case.response_due_at, case.clock_from, now)
    resolution = _clock("Resolution", case.resolved_at, case.resolution_due_at, case.clock_from, now)
    st.caption(
        f"{first} · {resolution} · case opened {case.opened_at:%Y-%m-%d %H:%M} UTC"
        f" · clock from {case.clock_from:%Y-%m-%d %H:%M} UTC, when the mention reached us"
    )


# --- callbacks ------------------------------------------------------------------------------------------


def _status_changed(engine: Engine, case_id: int, key: str, actor: str) -> None:
    value = st.session_state[key]
    if value in MANUAL_STATUSES:
        _act(set_status, engine, case_id, value, actor)


def _assign(engine: Engine, case_id: int, key: str, actor: str) -> None:
    value = st.session_state.get(key) or ""
    _act(assign, engine, case_id, None if value == NOBODY else value, actor)


def _save_tags(engine: Engine, case_id: int, key: str, actor: str) -> None:
    tags = [tag for tag in str(st.session_state.get(key) or "").split(",")]
    _act(set_tags, engine, case_id, tags, actor)


def _add_note(engine: Engine, case_id: int, key: str, actor: str) -> None:
    try:
        add_note(engine, case_id, str(st.session_state.get(key) or ""), actor)
    except GrumbleError as exc:
        _say("error", str(exc))
        return
    st.session_state[key] = ""


def _use_template(
    engine: Engine, config: Config, mention_id: int, picker: str, text_key: str, used: str
) -> None:
    name = st.session_state.get(picker)
    if not name:
        return
    try:
        st.session_state[text_key] = render_template(engine, config, mention_id, name)
        st.session_state[used] = name
    except GrumbleError as exc:
        _say("error", str(exc))


def _report(reply: CaseReply) -> None:
    if reply.status == "posted":
        _say("success", f"Posted: {reply.remote_url or reply.remote_id}")
    elif reply.status == "failed":
        _say("error", f"Not posted: {reply.error}. The draft is kept.")
    elif reply.status == "unconfirmed":
        _say("warning", f"Not confirmed: {reply.error}")
    elif reply.status == "awaiting_approval":
        _say("info", "Submitted: the reply waits for an approver.")
    elif reply.status == "approved":
        _say("info", "Ready: copy the reply, post it on the original, then mark it replied by hand.")


def _save(engine: Engine, case_id: int, user: User, text_key: str, used: str) -> CaseReply:
    text = str(st.session_state.get(text_key) or "")
    return save_draft(engine, case_id, text, user, template=st.session_state.get(used))


def _save_only(engine: Engine, case_id: int, user: User, text_key: str, used: str) -> None:
    try:
        _save(engine, case_id, user, text_key, used)
        _say("success", "Draft saved.")
    except GrumbleError as exc:
        _say("error", str(exc))


def _submit(
    engine: Engine,
    case_id: int,
    target: Target,
    user: User,
    settings: ResponderSettings,
    text_key: str,
    used: str,
) -> None:
    """Save, submit (approval rules decide), and post at once when nothing waits and the source can."""
    try:
        draft = _save(engine, case_id, user, text_key, used)
        replier, _ = replier_for(target)
        reply = submit_reply(engine, draft.id, user, settings, measure(target[0], draft.text, replier))
        if reply.status == "approved" and replier is not None:
            reply = post_reply(engine, reply.id, user, replier)
        _report(reply)
    except GrumbleError as exc:
        _say("error", str(exc))


def _post(engine: Engine, reply_id: int, target: Target, user: User) -> None:
    replier, why_not = replier_for(target)
    if replier is None:
        _say("error", f"Cannot post from Grumble: {why_not}. Copy the text and mark it replied by hand.")
        return
    try:
        _report(post_reply(engine, reply_id, user, replier))
    except GrumbleError as exc:
        _say("error", str(exc))


def _approve(engine: Engine, reply_id: int, target: Target, user: User, settings: ResponderSettings) -> None:
    try:
        reply = approve_reply(engine, reply_id, user, settings)
        replier, _ = replier_for(target)
        if replier is not None:
            reply = post_reply(engine, reply.id, user, replier)
        _report(reply)
    except GrumbleError as exc:
        _say("error", str(exc))


def _send_back(engine: Engine, reply_id: int, user: User, settings: ResponderSettings, key: str) -> None:
    _act(return_reply, engine, reply_id, user, settings, str(st.session_state.get(key) or ""))


def _by_hand(engine: Engine, reply_id: int, user: User) -> None:
    try:
        mark_replied_by_hand(engine, reply_id, user)
        _say("success", "Recorded as replied by hand.")
    except GrumbleError as exc:
        _say("error", str(exc))


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
        assignee_col.text_input("Assignee", value=case.assignee or "", key=assignee_key)
    assignee_col.button(
        "Assign", key=f"{key}-assign", on_click=_assign, args=(engine, case.id, assignee_key, user.name)
    )
    tags_key = f"{key}-tags"
    tags_col.text_input("Tags (comma-separated)", value=", ".join(case.tags), key=tags_key)
    tags_col.button(
        "Save tags", key=f"{key}-save-tags", on_click=_save_tags, args=(engine, case.id, tags_key, user.name)
    )


def _notes(engine: Engine, case: Case, user: User) -> None:
    notes = case_notes(engine, case.mention_id)
    with st.expander(f"Internal notes ({len(notes)})", expanded=bool(notes)):
        for note in notes:
            st.markdown(f"- {note.at:%Y-%m-%d %H:%M} · **{plain(note.actor)}**: {plain(note.note)}")
        if user.can("responder"):
            note_key = f"case-{case.id}-note"
            st.text_area("New note (never sent)", key=note_key, height=80)
            st.button(
                "Add note",
                key=f"{note_key}-add",
                on_click=_add_note,
                args=(engine, case.id, note_key, user.name),
            )


def _posted(replies: list[CaseReply]) -> None:
    for reply in replies:
        if reply.status == "posted":
            when = f"{reply.posted_at:%Y-%m-%d %H:%M} UTC" if reply.posted_at else ""
            st.success(
                f"Reply posted {when}: {plain(reply.remote_url or '(no link)')} · id {plain(reply.remote_id)}"
            )
            link = safe_link(reply.remote_url)
            if link:
                st.link_button("Open the posted reply ↗", link)
        elif reply.status == "posted_by_hand":
            when = f"{reply.posted_at:%Y-%m-%d %H:%M} UTC" if reply.posted_at else ""
            st.success(f"Replied by hand {when}.")


def _sync_text(text_key: str, marker_key: str, reply: CaseReply | None) -> None:
    """Load the stored draft into the editor when it changed in the store (not on every rerun)."""
    editable = reply is not None and not reply.done
    marker = None if reply is None else (reply.id, reply.status, reply.updated_at.isoformat())
    if st.session_state.get(marker_key) != marker or text_key not in st.session_state:
        st.session_state[marker_key] = marker
        st.session_state[text_key] = reply.text if reply is not None and editable else ""


def _reply_section(engine: Engine, case: Case, mention: dict[str, Any], config: Config, user: User) -> None:
    source = str(mention["source"])
    target: Target = (source, str(mention["external_id"]))
    replier, why_not = replier_for(target)
    settings = config.responder
    replies = replies_for_case(engine, case.id)
    _posted(replies)
    reply = current_reply(engine, case.id)
    st.markdown(
        f"**Reply on {plain(source)}**"
        + ("" if replier else f" (cannot post from Grumble: {plain(why_not)}; copy it and post it by hand)")
    )
    key = f"case-{case.id}-reply"
    text_key, marker_key, used = f"{key}-text", f"{key}-loaded", f"{key}-template"
    _sync_text(text_key, marker_key, reply)
    active = reply if reply is not None and not reply.done else None
    status = active.status if active is not None else None
    if active is not None and status == "failed":
        st.error(f"Not posted: {plain(active.error)}. Edit the draft and send it again.")
    if not user.can("responder"):
        if active is not None:
            st.caption(f"Draft ({status}): {plain(active.text, 300)}")
        return
    writable = status in (None, "draft", "failed", "awaiting_approval", "approved")
    if writable and config.reply_templates:
        picker = f"{key}-picker"
        pick_col, use_col = st.columns([3, 1])
        pick_col.selectbox("Template", [t.name for t in config.reply_templates], key=picker)
        use_col.button(
            "Use template",
            key=f"{key}-use",
            on_click=_use_template,
            args=(engine, config, case.mention_id, picker, text_key, used),
        )
    st.text_area("Reply text", key=text_key, height=140, disabled=not writable)
    text = str(st.session_state.get(text_key) or "")
    if text:
        length = measure(source, text, replier)
        if length.ok:
            st.caption(f"Length: {length.describe()}")
        else:
            st.error(
                f"Too long for {source}: {length.describe()}; shorten it by {length.count - length.limit:,}"
            )
    priority = priority_from_key(mention.get("rank_key"))
    reasons = approval_reasons(user, priority, settings)
    if status in (None, "draft", "failed"):
        label = "Submit for approval" if reasons else ("Post reply" if replier else "Prepare reply")
        save_col, submit_col = st.columns(2)
        save_col.button(
            "Save draft", key=f"{key}-save", on_click=_save_only, args=(engine, case.id, user, text_key, used)
        )
        submit_col.button(
            label,
            key=f"{key}-submit",
            type="primary",
            on_click=_submit,
            args=(engine, case.id, target, user, settings, text_key, used),
        )
        if reasons:
            st.caption("Waits for approval: " + "; ".join(reasons))
        return
    assert active is not None
    if status == "awaiting_approval":
        st.info(f"Waiting for approval by a {settings.approver_role} other than {plain(active.author)}.")
        if can_approve(user, active, settings):
            approve_col, back_col = st.columns(2)
            approve_col.button(
                "Approve and post" if replier else "Approve",
                key=f"{key}-approve",
                type="primary",
                on_click=_approve,
                args=(engine, active.id, target, user, settings),
            )
            reason_key = f"{key}-reason"
            back_col.text_input("Why send it back", key=reason_key)
            back_col.button(
                "Send back",
                key=f"{key}-back",
                on_click=_send_back,
                args=(engine, active.id, user, settings, reason_key),
            )
        if user.name == active.author:
            st.button(
                "Save edit (withdraws it)",
                key=f"{key}-save",
                on_click=_save_only,
                args=(engine, case.id, user, text_key, used),
            )
    elif status == "approved":
        if replier is not None:
            st.button(
                "Post reply",
                key=f"{key}-post",
                type="primary",
                on_click=_post,
                args=(engine, active.id, target, user),
            )
        else:
            st.caption(
                "Copy the reply (the icon at its top right), post it on the original, then mark it replied."
            )
            st.code(active.text, language=None, wrap_lines=True)
            link = safe_link(mention.get("url"))
            if link:
                st.link_button("Open the original ↗", link)
            st.button(
                "Mark replied by hand",
                key=f"{key}-by-hand",
                type="primary",
                on_click=_by_hand,
                args=(engine, active.id, user),
            )
    elif status in ("posting", "unconfirmed"):
        if status == "posting":
            claimed = f"{active.claimed_at:%H:%M:%S} UTC" if active.claimed_at else "just now"
            st.warning(f"Being posted (since {claimed}).")
        else:
            st.warning(f"Not confirmed: {plain(active.error)}")
        st.button(
            f"Retry (checks {source} first)",
            key=f"{key}-retry",
            on_click=_post,
            args=(engine, active.id, target, user),
        )


def case_panel(engine: Engine, mention: dict[str, Any]) -> None:
    """The whole panel for one mention; the mention page calls it under the mention's card."""
    config = context.config()
    user = context.current_user()
    if user is None:
        return
    st.subheader("Case")
    message = st.session_state.pop(MESSAGE, None)
    if message is not None:
        kind, text = message
        # Messages quote sources' answers and URLs: shown escaped, like any untrusted text.
        {"success": st.success, "error": st.error, "warning": st.warning}.get(kind, st.info)(plain(text))
    case = find_case(engine, int(mention["id"]))
    if case is None:
        st.caption("No case yet: open one to assign it, track the response time and reply.")
        if user.can("responder"):
            st.button(
                "Open a case",
                key=f"open-case-{mention['id']}",
                on_click=_act,
                args=(open_case, engine, int(mention["id"]), user.name, config.responder),
            )
        return
    _summary(case, utcnow())
    if user.can("responder"):
        _case_controls(engine, case, config, user)
    _notes(engine, case, user)
    _reply_section(engine, case, mention, config, user)
