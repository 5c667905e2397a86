"""The reply part of the case panel: the reply's text and one view per reply status (REPLY_VIEWS).

Every button hands a `ReplyAction` to monitor/respond/workflow.py, which does the steps (save, submit,
post, ...), and shows the `Outcome` it returns; nothing here writes to the store or talks to a source."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st
from sqlalchemy import Engine

from dashboard import context
from dashboard.context import acting
from dashboard.panel_message import say
from dashboard.safe import plain, safe_link
from dashboard.times import shown_time
from monitor.auth.users import User
from monitor.config import Config
from monitor.errors import GrumbleError
from monitor.ranking import priority_from_key
from monitor.respond.remote_state import remote_state_label
from monitor.respond.replies import EDITABLE, approval_reasons, can_approve, current_reply, render_template
from monitor.respond.workflow import Repliers, ReplyAction, ReplyRoute, Step, run_reply_action
from monitor.store.cases import Case, CaseReply, replies_for_case


@st.cache_resource(show_spinner=False)
def _repliers() -> Repliers:
    """One set of sources per server process, shared by every session."""
    return Repliers.from_config(context.config(), context.engine())


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
        say("error", str(exc))


@dataclass(frozen=True)
class _ReplyView:
    """What every reply status's view needs: the case, the mention, who is looking, how the reply leaves
    Grumble, and the reply not yet posted (None before the first draft)."""

    engine: Engine
    case: Case
    mention: dict[str, Any]
    config: Config
    user: User
    route: ReplyRoute
    reply: CaseReply | None

    @property
    def key(self) -> str:
        return f"case-{self.case.id}-reply"

    @property
    def text_key(self) -> str:
        return f"{self.key}-text"

    @property
    def template_key(self) -> str:
        return f"{self.key}-template"

    @property
    def reason_key(self) -> str:
        return f"{self.key}-reason"


def _run(view: _ReplyView, step: Step) -> None:
    """A reply button: the workflow does the steps with what the panel holds now; its outcome is shown."""
    action = ReplyAction(
        step,
        view.case.id,
        reply_id=None if view.reply is None else view.reply.id,
        text=str(st.session_state.get(view.text_key) or ""),
        template=st.session_state.get(view.template_key),
        reason=str(st.session_state.get(view.reason_key) or ""),
    )
    outcome = run_reply_action(view.engine, action, view.user, view.config.responder, _repliers())
    if outcome.message is not None:
        say(outcome.tone, outcome.message)


def _button(view: _ReplyView, label: str, step: Step, key: str, primary: bool = False) -> None:
    st.button(
        label,
        key=f"{view.key}-{key}",
        type="primary" if primary else "secondary",
        on_click=acting(_run),
        args=(view, step),
    )


def _posted(replies: list[CaseReply]) -> None:
    for reply in replies:
        if reply.status == "posted":
            when = shown_time(reply.posted_at) if reply.posted_at else ""
            # A store that publishes later (App Store Connect) says where it has the reply.
            state = remote_state_label(reply.source, reply.remote_state)
            st.success(
                f"Reply posted {when}: {plain(reply.remote_url or '(no link)')} · id {plain(reply.remote_id)}"
                + (f" · {state}" if state else "")
            )
            link = safe_link(reply.remote_url)
            if link:
                st.link_button("Open the posted reply ↗", link)
        elif reply.status == "posted_by_hand":
            when = shown_time(reply.posted_at) if reply.posted_at else ""
            st.success(f"Replied by hand {when}.")


def _sync_text(text_key: str, marker_key: str, reply: CaseReply | None) -> None:
    """Load the stored draft into the editor when it changed in the store (not on every rerun)."""
    editable = reply is not None and not reply.done
    marker = None if reply is None else (reply.id, reply.status, reply.updated_at.isoformat())
    if st.session_state.get(marker_key) != marker or text_key not in st.session_state:
        st.session_state[marker_key] = marker
        st.session_state[text_key] = reply.text if reply is not None and editable else ""


def _editor(view: _ReplyView) -> None:
    """Template picker, the text, and its length as the source counts it; read-only once it may be public."""
    writable = view.reply is None or view.reply.status in EDITABLE
    templates = view.config.reply_templates
    if writable and templates:
        picker = f"{view.key}-picker"
        pick_col, use_col = st.columns([3, 1])
        pick_col.selectbox("Template", [t.name for t in templates], key=picker)
        use_col.button(
            "Use template",
            key=f"{view.key}-use",
            on_click=_use_template,
            args=(view.engine, view.config, view.case.mention_id, picker, view.text_key, view.template_key),
        )
    st.text_area("Reply text", key=view.text_key, height=140, disabled=not writable)
    text = str(st.session_state.get(view.text_key) or "")
    if text:
        length = view.route.measure(text)
        if length.ok:
            st.caption(f"Length: {length.describe()}")
        else:
            st.error(
                f"Too long for {view.route.source}: {length.describe()}; "
                f"shorten it by {length.count - length.limit:,}"
            )


def _draft(view: _ReplyView) -> None:
    """No reply yet, a draft, or a reply the source refused: save it, or submit it (and post it at once
    when nothing waits and the source can)."""
    reasons = approval_reasons(
        view.user, priority_from_key(view.mention.get("rank_key")), view.config.responder
    )
    label = "Submit for approval" if reasons else ("Post reply" if view.route.replier else "Prepare reply")
    save_col, submit_col = st.columns(2)
    with save_col:
        _button(view, "Save draft", "save", "save")
    with submit_col:
        _button(view, label, "submit", "submit", primary=True)
    if reasons:
        st.caption("Waits for approval: " + "; ".join(reasons))


def _awaiting_approval(view: _ReplyView) -> None:
    reply = view.reply
    assert reply is not None
    settings = view.config.responder
    st.info(f"Waiting for approval by a {settings.approver_role} other than {plain(reply.author)}.")
    if can_approve(view.user, reply, settings):
        approve_col, back_col = st.columns(2)
        with approve_col:
            _button(view, "Approve and post" if view.route.replier else "Approve", "approve", "approve", True)
        with back_col:
            st.text_input("Why send it back", key=view.reason_key)
            _button(view, "Send back", "send_back", "back")
    if view.user.name == reply.author:
        _button(view, "Save edit (withdraws it)", "save", "save")


def _approved(view: _ReplyView) -> None:
    """Post it, or, where Grumble cannot, copy it, post it on the original and say so."""
    reply = view.reply
    assert reply is not None
    if view.route.replier is not None:
        _button(view, "Post reply", "post", "post", primary=True)
        return
    st.caption("Copy the reply (the icon at its top right), post it on the original, then mark it replied.")
    st.code(reply.text, language=None, wrap_lines=True)
    link = safe_link(view.mention.get("url"))
    if link:
        st.link_button("Open the original ↗", link)
    _button(view, "Mark replied by hand", "by_hand", "by-hand", primary=True)


def _posting(view: _ReplyView) -> None:
    reply = view.reply
    assert reply is not None
    claimed = shown_time(reply.claimed_at, "second") if reply.claimed_at else "just now"
    st.warning(f"Being posted (since {claimed}).")
    _retry(view)


def _unconfirmed(view: _ReplyView) -> None:
    reply = view.reply
    assert reply is not None
    st.warning(f"Not confirmed: {plain(reply.error)}")
    _retry(view)


def _retry(view: _ReplyView) -> None:
    _button(view, f"Retry (checks {view.route.source} first)", "post", "retry")


# The reply not yet posted, by its status (None: there is none yet); a posted one is shown by _posted.
REPLY_VIEWS: dict[str | None, Callable[[_ReplyView], None]] = {
    None: _draft,
    "draft": _draft,
    "failed": _draft,
    "awaiting_approval": _awaiting_approval,
    "approved": _approved,
    "posting": _posting,
    "unconfirmed": _unconfirmed,
}


def reply_panel(engine: Engine, case: Case, mention: dict[str, Any], config: Config, user: User) -> None:
    """Posted replies, then the one not yet posted as its status shows it."""
    route = _repliers().route(str(mention["source"]), str(mention["external_id"]))
    _posted(replies_for_case(engine, case.id))
    latest = current_reply(engine, case.id)
    st.markdown(
        f"**Reply on {plain(route.source)}**"
        + (
            ""
            if route.replier
            else f" (cannot post from Grumble: {plain(route.by_hand_because)}; copy it and post it by hand)"
        )
    )
    active = latest if latest is not None and not latest.done else None
    view = _ReplyView(engine, case, mention, config, user, route, active)
    _sync_text(view.text_key, f"{view.key}-loaded", latest)
    if active is not None and active.status == "failed":
        st.error(f"Not posted: {plain(active.error)}. Edit the draft and send it again.")
    if not user.can("responder"):
        if active is not None:
            st.caption(f"Draft ({active.status}): {plain(active.text, 300)}")
        return
    _editor(view)
    REPLY_VIEWS[None if active is None else active.status](view)
