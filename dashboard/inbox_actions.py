"""Acting on several mentions at once, and undoing a mark: the bar above the inbox's list.

Everything goes through monitor/respond/bulk.py, so each mention gets the same transition and audit
event as one click on its card. Only responders (and admins) see any of it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st
from sqlalchemy import Engine
from streamlit.delta_generator import DeltaGenerator

from dashboard import context
from dashboard.context import acting
from dashboard.helpdesk_panel import bulk_helpdesk
from dashboard.panel_message import say, say_failed
from models.labels import LABELS
from monitor.auth.users import User, shown_name, typed_name
from monitor.errors import GrumbleError
from monitor.respond.bulk import Before, assign_all, mark, refusal, relabel_all, tag_all, undo
from monitor.surface.render import plural

UNDO = "inbox_undo"  # (what was done, who did it, what to put back)
PICK = "pick-{}"  # a mention's selection checkbox
AGAIN = "Reload the inbox to see where things stand, then try again."
MARK_WORDS = {"handled": "marked handled", "dismissed": "marked not relevant", "open": "reopened"}
NOBODY = "(nobody)"


def picked(ids: Sequence[int]) -> list[int]:
    return [mention_id for mention_id in ids if st.session_state.get(PICK.format(mention_id))]


def _unpick(ids: Sequence[int]) -> None:
    for mention_id in ids:
        st.session_state[PICK.format(mention_id)] = False


def _pick_all(ids: Sequence[int]) -> None:
    for mention_id in ids:
        st.session_state[PICK.format(mention_id)] = True


def _act(action: Callable[..., Any], *args: Any) -> bool:
    try:
        action(*args)
    except GrumbleError as exc:
        say_failed("Not done", exc, AGAIN)
        return False
    return True


def mark_with_undo(engine: Engine, ids: Sequence[int], state: str, actor: str) -> None:
    """Mark mentions (a card's button, a key, or the bulk bar) and offer to undo it."""
    try:
        befores = mark(engine, ids, state, actor)
    except GrumbleError as exc:
        say_failed("Not marked", exc, AGAIN)
        return
    _unpick(ids)
    moved = [before for before in befores if before.triage != state]
    if moved:
        st.session_state[UNDO] = (f"{plural(len(moved), 'mention')} {MARK_WORDS[state]}", actor, moved)


def marked_here(mention_id: int) -> bool:
    """Whether this session's last mark moved this mention (so it leaving the list is no news)."""
    done: tuple[str, str, list[Before]] | None = st.session_state.get(UNDO)
    return done is not None and any(before.mention_id == mention_id for before in done[2])


def _undo(engine: Engine) -> None:
    done: tuple[str, str, list[Before]] | None = st.session_state.pop(UNDO, None)
    if done is None:
        return
    words, actor, befores = done
    try:
        refused = undo(engine, befores, actor)
    except GrumbleError as exc:
        say_failed("Not undone", exc, AGAIN)
        return
    if not refused:
        say("success", f"Undone: {words}.")
    elif len(refused) < len(befores):
        say("warning", f"Undone for the rest. {refusal(refused)}")
    else:
        say("warning", refusal(refused))


def undo_bar(engine: Engine) -> None:
    """The last mark, with a button that puts it back (until the next mark replaces it)."""
    done = st.session_state.get(UNDO)
    if done is None:
        return
    words, _, _ = done
    text_col, undo_col, dismiss_col = st.columns([6, 1, 1], vertical_alignment="center")
    text_col.success(f"{words[0].upper()}{words[1:]}.")
    undo_col.button("↩️ Undo", key="inbox-undo", on_click=acting(_undo), args=(engine,), shortcut="U")
    dismiss_col.button("✖", key="inbox-undo-close", help="Hide", on_click=st.session_state.pop, args=(UNDO,))


def _assign(engine: Engine, ids: Sequence[int], actor: str) -> None:
    value = typed_name(str(st.session_state.get("bulk-assignee") or ""), actor)
    assignee = None if value in ("", NOBODY) else value
    if _act(assign_all, engine, ids, assignee, actor, context.config().responder):
        _unpick(ids)
        say(
            "success",
            f"{plural(len(ids), 'mention')} assigned to {shown_name(assignee) if assignee else 'nobody'}.",
        )


def _tag(engine: Engine, ids: Sequence[int], actor: str) -> None:
    tag = str(st.session_state.get("bulk-tag") or "")
    if _act(tag_all, engine, ids, tag, actor, context.config().responder):
        _unpick(ids)
        st.session_state["bulk-tag"] = ""
        say("success", f"Tagged {plural(len(ids), 'mention')} “{' '.join(tag.split())}”.")


def _relabel(engine: Engine, ids: Sequence[int], actor: str) -> None:
    label = str(st.session_state.get("bulk-label"))
    if _act(relabel_all, engine, ids, label, actor):
        _unpick(ids)
        say("success", f"{plural(len(ids), 'mention')} relabelled {label}.")


def bulk_bar(engine: Engine, shown: Sequence[int], user: User, toolbar: DeltaGenerator) -> None:
    """Select all shown (in `toolbar`), and what can be done to the selection. Responders and admins only."""
    if not user.can("responder"):
        return
    ids = picked(shown)
    toolbar.button("☑️ Select all", key="bulk-all", on_click=_pick_all, args=(list(shown),))
    if not ids:
        return
    with st.container(border=True):
        st.markdown(f"**{plural(len(ids), 'mention')} selected**")
        handled, dismiss, clear = st.columns(3)
        handled.button(
            "✅ Mark handled",
            key="bulk-handled",
            on_click=acting(mark_with_undo),
            args=(engine, ids, "handled", user.name),
        )
        dismiss.button(
            "🚫 Not relevant",
            key="bulk-dismiss",
            on_click=acting(mark_with_undo),
            args=(engine, ids, "dismissed", user.name),
        )
        clear.button("Clear selection", key="bulk-clear", on_click=_unpick, args=(ids,))
        assign_col, tag_col, label_col = st.columns(3, vertical_alignment="bottom")
        users = context.config().users
        if users:
            names = [NOBODY, *sorted(u.name for u in users if u.can("responder"))]
            assign_col.selectbox("Assign to", names, key="bulk-assignee")
        else:
            assign_col.text_input("Assign to", key="bulk-assignee", placeholder="a name, or me")
        assign_col.button(
            "Assign", key="bulk-assign", on_click=acting(_assign), args=(engine, ids, user.name)
        )
        tag_col.text_input("Tag", key="bulk-tag", placeholder="e.g. refund")
        tag_col.button("Add tag", key="bulk-add-tag", on_click=acting(_tag), args=(engine, ids, user.name))
        label_col.selectbox("Label", list(LABELS), key="bulk-label", help="Kept as feedback for retraining")
        label_col.button(
            "Relabel", key="bulk-relabel", on_click=acting(_relabel), args=(engine, ids, user.name)
        )
        bulk_helpdesk(engine, ids, user)  # nothing unless a helpdesk is configured
