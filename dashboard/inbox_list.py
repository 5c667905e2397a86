"""The inbox's list: cards, or compact lines that open into cards, and the keys that move through it.

Keys are Streamlit's own button shortcuts (no script of ours runs in the page): J and K move the
pointer, O opens the mention, E marks it handled, A assigns it to you, H shows the keys. Streamlit
keeps C and R for itself and takes no punctuation, so the help key is H, not "?".

The pointer is a mention, not a place in the list: the 20-second refresh may bring new mentions in above
it, or reorder the list, and it stays on the mention it was on; only when that mention leaves the list
(marked, or filtered out) does it move, to the mention now at its place, and it says so. Its row is
highlighted (a keyed container, styled by POINTER_STYLE), and each key is bound to the mention it shows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st
from sqlalchemy import Engine
from streamlit.delta_generator import DeltaGenerator

from dashboard import context
from dashboard.components import FOCUS, LABEL_COLORS, POINTER_KEY, card, case_words
from dashboard.context import acting
from dashboard.inbox_actions import PICK, mark_with_undo, marked_here
from dashboard.panel_message import say, say_failed
from dashboard.presence import inbox_presence, presence_caption, presence_tag
from dashboard.safe import plain
from monitor.auth.users import User, shown_name
from monitor.errors import GrumbleError
from monitor.respond.bulk import assign_all
from monitor.store.cases import CaseBadge
from monitor.surface.inbox import MentionRow

CURSOR = "inbox_cursor"  # the id of the mention the keys act on
CURSOR_AT = "inbox_cursor_at"  # its place in the list when last shown: where the pointer goes if it leaves
MOVED_NOTE = "inbox_cursor_moved"  # the mention whose leaving was last told, so it is told once
OPENED = "inbox_opened"  # compact lines opened into cards
KEYS_HELP = "inbox_keys_help"
LINE_CHARS = 70  # with the line's other parts, one line at 1440 pixels wide
# Streamlit's 40-pixel minimum button height would make each compact line that tall: 15 lines must fit
# a laptop screen. A constant style, scoped to the compact list; nothing from a mention goes in it.
# A compact line is one line at any width: cut with an ellipsis, never wrapped under the next line.
COMPACT_STYLE = """<style>
.st-key-compact-list button { min-height: 1.75rem; padding-top: 0; padding-bottom: 0; }
.st-key-compact-list p { margin-bottom: 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.st-key-compact-list [data-testid="stElementContainer"] { min-width: 0; }
</style>"""
# On a phone the first mention shows above the fold: less space above the title, a smaller title and
# count, and no key buttons (a phone has no keyboard shortcuts to learn; Select all stays).
PHONE_STYLE = """<style>
@media (max-width: 640px) {
  .stMainBlockContainer { padding-top: 3.5rem; }
  .stMainBlockContainer h1 { font-size: 1.75rem; padding-top: 0; padding-bottom: 0; }
  [data-testid="stMetricValue"] { font-size: 1.5rem; }
  [class*="st-key-key-"] { display: none; }
}
</style>"""
# A visible row, not a character: no emoji font needed, and it reads in light and dark themes.
POINTER_STYLE = f"""<style>
.st-key-{POINTER_KEY} {{ background-color: rgba(255, 189, 69, 0.18); outline: 2px solid rgb(255, 189, 69);
  outline-offset: 2px; border-radius: 0.5rem; }}
</style>"""
KEYS = (
    ("J", "next mention"),
    ("K", "previous mention"),
    ("O", "open the mention's page"),
    ("E", "mark it handled (Undo, or U, puts it back)"),
    ("A", "assign it to you"),
    ("H", "show or hide these keys"),
)


def cursor(ids: Sequence[int]) -> int:
    """The pointer's place in the list as shown now (`ids`, in order): where its mention is, wherever the
    list moved it; if it left the list, the mention now at the place it had (the list's first at the
    start), and, unless this session's own mark took it out, the pointer says it moved."""
    if not ids:
        return 0
    pointed = st.session_state.get(CURSOR)
    if pointed in ids:
        position = ids.index(pointed)
    else:
        position = min(max(int(st.session_state.get(CURSOR_AT, 0)), 0), len(ids) - 1)
        if pointed is not None and st.session_state.get(MOVED_NOTE) != pointed and not marked_here(pointed):
            st.session_state[MOVED_NOTE] = pointed
            say("info", "The mention the pointer was on left this list; the pointer is on the next one.")
    st.session_state[CURSOR] = ids[position]
    st.session_state[CURSOR_AT] = position
    return position


def _move(step: int, ids: Sequence[int]) -> None:
    """J or K: from the pointer's mention to its neighbour in the list the key was pressed on."""
    pointed = st.session_state.get(CURSOR)
    position = ids.index(pointed) if pointed in ids else 0
    position = min(max(position + step, 0), len(ids) - 1)
    st.session_state[CURSOR] = ids[position]
    st.session_state[CURSOR_AT] = position


def _toggle_open(mention_id: int) -> None:
    opened: set[int] = st.session_state.setdefault(OPENED, set())
    opened.symmetric_difference_update({mention_id})


def _assign_to_me(engine: Engine, mention_id: int, user: User) -> None:
    try:
        assign_all(engine, [mention_id], user.name, user.name, context.config().responder)
    except GrumbleError as exc:
        say_failed("Not assigned", exc, "Reload the inbox, then try again.")
        return
    name = shown_name(user.name)
    say("success", "Assigned to you." if name == "you" else f"Assigned to you ({name}).")


def _on_pointed(action: Callable[..., None], mention_id: int, *args: Any) -> None:
    """A key's action, only on the mention it was drawn for, and only while the pointer is still on it
    (a key pressed as the list refreshed acts on nothing rather than on a mention nobody read)."""
    if st.session_state.get(CURSOR) != mention_id:
        say(
            "warning",
            "The list changed as you pressed the key, so nothing was done: check the pointer, press again.",
        )
        return
    action(*args)


def keyboard(engine: Engine, rows: Sequence[MentionRow], user: User, buttons: DeltaGenerator) -> None:
    """The buttons the keys press, in the row above the list (`buttons`), bound to the pointer's mention."""
    ids = [row.id for row in rows]
    focused = rows[cursor(ids)]
    buttons.button("↓ Next", key="key-next", shortcut="J", on_click=_move, args=(1, ids))
    buttons.button("↑ Previous", key="key-previous", shortcut="K", on_click=_move, args=(-1, ids))
    open_pressed = buttons.button("Open", key="key-open", shortcut="O")
    if user.can("responder") and focused.triage != "handled":
        buttons.button(
            "✅ Handled",
            key="key-handled",
            shortcut="E",
            on_click=acting(_on_pointed),
            args=(mark_with_undo, focused.id, engine, [focused.id], "handled", user.name),
        )
    if user.can("responder"):
        buttons.button(
            "🙋 Assign to me",
            key="key-assign",
            shortcut="A",
            on_click=acting(_on_pointed),
            args=(_assign_to_me, focused.id, engine, focused.id, user),
        )
    buttons.button(
        "⌨️ Keys",
        key="key-help",
        shortcut="H",
        on_click=lambda: st.session_state.update({KEYS_HELP: not st.session_state.get(KEYS_HELP)}),
    )
    if st.session_state.get(KEYS_HELP):
        st.info("  \n".join(f"**{key}**: {words}" for key, words in KEYS))
    if open_pressed:
        st.switch_page("views/mention.py", query_params={"id": str(focused.id)})


def compact_line(row: MentionRow, case: CaseBadge | None, focused: bool) -> str:
    """One Markdown line: label, source, author, age, the case, and the start of the text (no priority
    number: the list is in priority order, and the ▸ button's tooltip says why in words)."""
    color = LABEL_COLORS.get(row.label or "", "gray")
    text = " ".join(f"{row.title or ''} {row.text}".split())
    return (
        f"{FOCUS if focused else ''}:{color}-badge[{row.label or 'unscored'}] {plain(row.source_badge)} · "
        f"**{plain(row.author or 'unknown author', 30)}** · {row.age()}"
        f"{case_words(case)} · {plain(text, LINE_CHARS)}"
    )


def compact_list(
    engine: Engine,
    rows: Sequence[MentionRow],
    badges: dict[int, CaseBadge],
    user: User,
    focus: int,
) -> None:
    opened: set[int] = st.session_state.setdefault(OPENED, set())
    selectable = user.can("responder")
    here = inbox_presence(engine, [row.id for row in rows], user)  # who else is on each (one query)
    st.html(COMPACT_STYLE + POINTER_STYLE + PHONE_STYLE)
    with st.container(gap=None, key="compact-list"):
        for position, row in enumerate(rows):
            is_open = row.id in opened
            with st.container(
                horizontal=True,
                gap="small",
                vertical_alignment="center",
                wrap=False,
                key=POINTER_KEY if position == focus else None,
            ):
                if selectable:
                    st.checkbox(
                        "Select", key=PICK.format(row.id), label_visibility="collapsed", width="content"
                    )
                line = compact_line(row, badges.get(row.id), position == focus)
                st.markdown(line + presence_tag(here.get(row.id, [])), width="stretch")
                st.button(
                    "▾" if is_open else "▸",
                    key=f"line-open-{row.id}",
                    help=f"{'Close' if is_open else 'Open here'}. {row.priority_breakdown()}",
                    type="tertiary",
                    on_click=_toggle_open,
                    args=(row.id,),
                )
            if is_open:
                card(engine, row, key="inbox", case=badges.get(row.id), user=user)


def card_list(
    engine: Engine,
    rows: Sequence[MentionRow],
    badges: dict[int, CaseBadge],
    user: User,
    focus: int,
) -> None:
    st.html(POINTER_STYLE + PHONE_STYLE)
    here = inbox_presence(engine, [row.id for row in rows], user)  # who else is on each (one query)
    for position, row in enumerate(rows):
        card(
            engine,
            row,
            key="inbox",
            case=badges.get(row.id),
            user=user,
            focused=position == focus,
            selectable=True,
        )
        presence_caption(here.get(row.id, []))
