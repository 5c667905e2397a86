"""The inbox's list: cards, or compact lines that open into cards, and the keys that move through it.

Keys are Streamlit's own button shortcuts (no script of ours runs in the page): J and K move the
pointer (👉), O opens the mention, E marks it handled, A assigns it to you, H shows the keys. Streamlit
keeps C and R for itself and takes no punctuation, so the help key is H, not "?".
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st
from sqlalchemy import Engine
from streamlit.delta_generator import DeltaGenerator

from dashboard import context
from dashboard.components import FOCUS, LABEL_COLORS, card, case_words
from dashboard.context import acting
from dashboard.inbox_actions import PICK, mark_with_undo
from dashboard.panel_message import say
from dashboard.safe import plain
from monitor.auth.users import User
from monitor.errors import GrumbleError
from monitor.respond.bulk import assign_all
from monitor.store.cases import CaseBadge
from monitor.surface.inbox import MentionRow

CURSOR = "inbox_cursor"  # the position the keys act on, in the list as shown
OPENED = "inbox_opened"  # compact lines opened into cards
KEYS_HELP = "inbox_keys_help"
LINE_CHARS = 70  # with the line's other parts, one line at 1440 pixels wide
# Streamlit's 40-pixel minimum button height would make each compact line that tall: 15 lines must fit
# a laptop screen. A constant style, scoped to the compact list; nothing from a mention goes in it.
COMPACT_STYLE = """<style>
.st-key-compact-list button { min-height: 1.75rem; padding-top: 0; padding-bottom: 0; }
.st-key-compact-list p { margin-bottom: 0; }
</style>"""
KEYS = (
    ("J", "next mention"),
    ("K", "previous mention"),
    ("O", "open the mention's page"),
    ("E", "mark it handled (Undo, or U, puts it back)"),
    ("A", "assign it to you"),
    ("H", "show or hide these keys"),
)


def cursor(count: int) -> int:
    """The pointer, kept inside a list that may have shrunk since the last key."""
    position = min(max(int(st.session_state.get(CURSOR, 0)), 0), max(count - 1, 0))
    st.session_state[CURSOR] = position
    return position


def _move(step: int, count: int) -> None:
    st.session_state[CURSOR] = min(max(int(st.session_state.get(CURSOR, 0)) + step, 0), max(count - 1, 0))


def _toggle_open(mention_id: int) -> None:
    opened: set[int] = st.session_state.setdefault(OPENED, set())
    opened.symmetric_difference_update({mention_id})


def _assign_to_me(engine: Engine, mention_id: int, user: User) -> None:
    try:
        assign_all(engine, [mention_id], user.name, user.name, context.config().responder)
    except GrumbleError as exc:
        say("error", str(exc))
        return
    say("success", f"Assigned to you ({user.name}).")


def keyboard(engine: Engine, rows: Sequence[MentionRow], user: User, buttons: DeltaGenerator) -> None:
    """The buttons the keys press, in the row above the list (`buttons`)."""
    position = cursor(len(rows))
    focused = rows[position]
    buttons.button("↓ Next", key="key-next", shortcut="J", on_click=_move, args=(1, len(rows)))
    buttons.button("↑ Previous", key="key-previous", shortcut="K", on_click=_move, args=(-1, len(rows)))
    open_pressed = buttons.button("Open", key="key-open", shortcut="O")
    if user.can("responder") and focused.triage != "handled":
        buttons.button(
            "✅ Handled",
            key="key-handled",
            shortcut="E",
            on_click=acting(mark_with_undo),
            args=(engine, [focused.id], "handled", user.name),
        )
    if user.can("responder"):
        buttons.button(
            "🙋 Assign to me",
            key="key-assign",
            shortcut="A",
            on_click=acting(_assign_to_me),
            args=(engine, focused.id, user),
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
    """One Markdown line: label, source, author, age, priority, the case, and the start of the text."""
    color = LABEL_COLORS.get(row.label or "", "gray")
    text = " ".join(f"{row.title or ''} {row.text}".split())
    return (
        f"{FOCUS if focused else ''}:{color}-badge[{row.label or 'unscored'}] {plain(row.source_badge)} · "
        f"**{plain(row.author or 'unknown author', 30)}** · {row.age()} · priority {row.priority:.2g}"
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
    st.html(COMPACT_STYLE)
    with st.container(gap=None, key="compact-list"):
        for position, row in enumerate(rows):
            is_open = row.id in opened
            with st.container(horizontal=True, gap="small", vertical_alignment="center", wrap=False):
                if selectable:
                    st.checkbox(
                        "Select", key=PICK.format(row.id), label_visibility="collapsed", width="content"
                    )
                st.markdown(compact_line(row, badges.get(row.id), position == focus), width="stretch")
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
