"""The reply part of the case panel: the reply's text and one view per reply status (REPLY_VIEWS).

Every button hands a `ReplyAction` to monitor/respond/workflow.py, which does the steps (save, submit,
post, ...), and shows the `Outcome` it returns; nothing here writes to the store or talks to a source.

Two people on one reply: the editor remembers the version it loaded, and a save over a version someone
else wrote since is refused with both texts side by side (keep theirs, or put yours back and save it
over theirs on purpose). Text typed and not yet saved is never replaced by someone else's save."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st
from sqlalchemy import Engine

from dashboard import context
from dashboard.canned_box import canned_picker, codes_help, expand_codes
from dashboard.context import acting
from dashboard.panel_message import say, say_failed
from dashboard.presence import note_drafting
from dashboard.safe import plain, safe_link
from dashboard.times import shown_time
from monitor.auth.users import User, shown_name
from monitor.config import Config
from monitor.errors import DraftConflict, GrumbleError
from monitor.ranking import priority_from_key
from monitor.respond.remote_state import remote_state_label
from monitor.respond.replies import EDITABLE, approval_reasons, can_approve, current_reply
from monitor.respond.reply_approval import approver_words, default_approver, version_reasons
from monitor.respond.workflow import Repliers, ReplyAction, ReplyRoute, Step, run_reply_action
from monitor.store.cases import Case, CaseReply, replies_for_case
from monitor.store.reply_moves import ReplyVersion, load_versions

REFUSED_THEN = "Change the reply, or reload the page to see it as it is now, then try again."


@st.cache_resource(show_spinner=False)
def _repliers() -> Repliers:
    """One set of sources per server process, shared by every session."""
    return Repliers.from_config(context.config(), context.engine())


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
    versions: list[ReplyVersion]  # every version of its text, with who wrote it

    @property
    def key(self) -> str:
        return f"case-{self.case.id}-reply"

    @property
    def wrote(self) -> set[str]:
        return {version.author for version in self.versions} | ({self.reply.author} if self.reply else set())

    @property
    def version_key(self) -> str:
        return f"{self.key}-version"  # the version the editor loaded (0: none)

    @property
    def conflict_key(self) -> str:
        return f"{self.key}-conflict"

    @property
    def approver_key(self) -> str:
        return f"{self.key}-approver"

    @property
    def sent_key(self) -> str:
        return f"{self.key}-sent"

    @property
    def text_key(self) -> str:
        return f"{self.key}-text"

    @property
    def template_key(self) -> str:
        return f"{self.key}-template"

    @property
    def reason_key(self) -> str:
        return f"{self.key}-reason"


def _chosen_approver(view: _ReplyView) -> User | str | None:
    """The approver picked at submit: a person (from the configured users), a role, or None."""
    chosen = str(st.session_state.get(view.approver_key) or "")
    person = next((u for u in view.config.users if u.name == chosen), None)
    return person or chosen or None


def _run(view: _ReplyView, step: Step) -> None:
    """A reply button: the workflow does the steps with what the panel holds now; its outcome is shown."""
    action = ReplyAction(
        step,
        view.case.id,
        reply_id=None if view.reply is None else view.reply.id,
        text=str(st.session_state.get(view.text_key) or ""),
        template=st.session_state.get(view.template_key),
        reason=str(st.session_state.get(view.reason_key) or ""),
        base_version=int(st.session_state.get(view.version_key) or 0),
        approver=_chosen_approver(view),
        sent=str(st.session_state.get(view.sent_key) or ""),
    )
    outcome = run_reply_action(view.engine, action, view.user, view.config.responder, _repliers())
    if outcome.conflict is not None:
        st.session_state[view.conflict_key] = outcome.conflict
        return
    if outcome.reply is not None:
        st.session_state.pop(view.conflict_key, None)  # settled by what was just done
    if outcome.happened == "refused" and outcome.message and not outcome.message.endswith("."):
        # The rule's own words (a role, a state, a length): said inside a sentence that says what to do.
        say_failed("Not done", GrumbleError(outcome.message), REFUSED_THEN)
    elif outcome.message is not None:
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
            where = (
                f": {plain(reply.remote_url)}" if reply.remote_url else " (what was sent is in the history)"
            )
            st.success(f"Replied by hand {when}{where}.")


def _sync_text(view: _ReplyView, latest: CaseReply | None) -> None:
    """Load the stored draft into the editor when it changed in the store (not on every rerun), unless
    the editor holds text typed since it was loaded: that stays, with the version it was typed over."""
    marker_key, loaded_key = f"{view.key}-loaded", f"{view.key}-loaded-text"
    editable = latest is not None and not latest.done
    marker = None if latest is None else (latest.id, latest.status, latest.updated_at.isoformat())
    if st.session_state.get(marker_key) == marker and view.text_key in st.session_state:
        return
    stored = latest.text if latest is not None and editable else ""
    typed = st.session_state.get(view.text_key)
    st.session_state[marker_key] = marker
    if editable and typed and typed not in (stored, st.session_state.get(loaded_key)):
        return  # someone else saved meanwhile: a save of the typed text will show both
    st.session_state[view.text_key] = stored
    st.session_state[loaded_key] = stored
    st.session_state[view.version_key] = latest.version if latest is not None and editable else 0


def _resolve_conflict(view: _ReplyView, conflict: DraftConflict, keep_mine: bool) -> None:
    """Either way the editor now stands on their version, so the next save is a choice, not a race."""
    st.session_state[view.text_key] = conflict.yours if keep_mine else conflict.theirs
    st.session_state[f"{view.key}-loaded-text"] = conflict.theirs
    st.session_state[view.version_key] = conflict.version
    st.session_state.pop(view.conflict_key, None)


def _conflict(view: _ReplyView) -> None:
    """A refused save: both texts side by side, and the two ways on."""
    conflict = st.session_state.get(view.conflict_key)
    if not isinstance(conflict, DraftConflict):
        return
    st.error(f"Not saved: {plain(str(conflict), 600)}", icon="⚠️")
    mine_col, theirs_col = st.columns(2)
    with mine_col:
        st.markdown("**Your text (not saved)**")
        st.code(conflict.yours, language=None, wrap_lines=True)
        st.button(
            "Put mine back in the editor",
            key=f"{view.key}-mine",
            on_click=_resolve_conflict,
            args=(view, conflict, True),
        )
    with theirs_col:
        st.markdown(f"**{plain(shown_name(conflict.theirs_by))}'s text (saved, version {conflict.version})**")
        st.code(conflict.theirs, language=None, wrap_lines=True)
        st.button(
            "Keep theirs", key=f"{view.key}-theirs", on_click=_resolve_conflict, args=(view, conflict, False)
        )


def _editor(view: _ReplyView) -> None:
    """Template picker, the text, and its length as the source counts it; read-only once it may be public."""
    writable = view.reply is None or view.reply.status in EDITABLE
    if writable:
        canned_picker(
            view.engine,
            view.config,
            view.user,
            view.case.mention_id,
            view.key,
            view.text_key,
            view.template_key,
        )
    st.text_area(
        "Reply text",
        key=view.text_key,
        height=140,
        disabled=not writable,
        help=codes_help(view.engine, view.config, view.user),
        on_change=expand_codes,  # a canned reply's /code typed here becomes its text
        args=(view.engine, view.config, view.user, view.case.mention_id, view.text_key),
    )
    text = str(st.session_state.get(view.text_key) or "")
    stored = "" if view.reply is None else view.reply.text
    note_drafting(view.engine, view.case.mention_id, view.user, text if writable and text != stored else "")
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
    settings = view.config.responder
    reasons = approval_reasons(view.user, priority_from_key(view.mention.get("rank_key")), settings)
    reasons += version_reasons(view.versions, view.user, settings)
    _approver_picker(view, bool(reasons))
    asked = bool(st.session_state.get(view.approver_key))
    label = (
        "Submit for approval"
        if reasons or asked
        else ("Post reply" if view.route.replier else "Prepare reply")
    )
    save_col, submit_col = st.columns(2)
    with save_col:
        _button(view, "Save draft", "save", "save")
    with submit_col:
        _button(view, label, "submit", "submit", primary=True)
    if reasons:
        st.caption("Waits for approval: " + "; ".join(reasons))


def _approver_picker(view: _ReplyView, needed: bool) -> None:
    """Who is asked to approve: the approver role by default, or a person who wrote none of it."""
    settings = view.config.responder
    people = [
        u.name
        for u in view.config.users
        if u.can(settings.approver_role) and u.name != view.user.name and u.name not in view.wrote
    ]
    role = default_approver(settings)
    options = [role, *people] if needed else ["", role, *people]
    st.selectbox(
        "Approver",
        options,
        key=view.approver_key,
        format_func=lambda o: "nobody: no approval needed" if not o else f"{approver_words(o)}",
    )


def _awaiting_approval(view: _ReplyView) -> None:
    reply = view.reply
    assert reply is not None
    settings = view.config.responder
    writers = ", ".join(sorted(shown_name(name) for name in view.wrote))
    st.info(
        f"Waiting for approval by {plain(approver_words(reply.approver))}, who must not be one of its "
        f"writers ({plain(writers)}); version {reply.version}."
    )
    if can_approve(view.user, reply, settings, view.wrote):
        approve_col, back_col = st.columns(2)
        with approve_col:
            _button(view, "Approve and post" if view.route.replier else "Approve", "approve", "approve", True)
        with back_col:
            st.text_input("Why send it back", key=view.reason_key)
            _button(view, "Send back", "send_back", "back")
    if view.user.name in view.wrote:
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
    st.text_input("What you sent: the link to your reply, or its text", key=view.sent_key)
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
    versions = load_versions(engine, active.id) if active is not None else []
    view = _ReplyView(engine, case, mention, config, user, route, active, versions)
    _sync_text(view, latest)
    stale = active is not None and int(st.session_state.get(view.version_key) or 0) != active.version
    if stale and view.conflict_key not in st.session_state:
        st.warning("This reply changed since you opened it: saving your text shows both, for you to choose.")
    _conflict(view)
    if active is not None and active.status == "failed":
        st.error(f"Not posted: {plain(active.error)}. Edit the draft and send it again.")
    if not user.can("responder"):
        if active is not None:
            st.caption(f"Draft ({active.status}): {plain(active.text, 300)}")
        return
    _editor(view)
    REPLY_VIEWS[None if active is None else active.status](view)
