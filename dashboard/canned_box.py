"""Canned replies in the reply box: a code typed there (/refund) becomes its reply when the box is left
(Streamlit sends a text area's value on blur or Ctrl+Enter, not per key), or one is picked from the list
above the box. The rules are in monitor/respond/canned.py; this is the callbacks, the picker and the box's
help text. One name for them all: the grumble.toml templates are the team's canned replies here too."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from dashboard.panel_message import say, say_failed
from monitor.auth.users import User
from monitor.config import Config
from monitor.errors import GrumbleError
from monitor.respond.canned import PREFIX, by_code, expand_for_mention
from monitor.respond.replies import template_values
from monitor.sources.reply_text import render

HELP_CODES = 12  # the help lists this many codes; the Canned replies page has them all, with search


def expand_codes(engine: Engine, config: Config, user: User, mention_id: int, text_key: str) -> None:
    """The text area's on_change: replaces its codes; says which were left as typed, and why."""
    try:
        expanded = expand_for_mention(
            engine, config, user, mention_id, str(st.session_state.get(text_key) or "")
        )
    except GrumbleError as exc:
        say("error", f"The short codes were left as typed: {exc}. Correct it, then leave the box again.")
        return
    st.session_state[text_key] = expanded.text
    if expanded.problems:
        say("warning", "Left as typed: " + "; ".join(expanded.problems))
    elif expanded.unknown:
        codes = ", ".join(PREFIX + code for code in expanded.unknown)
        say(
            "info",
            f"No canned reply is called {codes}: left as typed. The Canned replies page lists them all.",
        )


def codes_help(engine: Engine, config: Config, user: User) -> str:
    """The reply box's tooltip: how codes work, and the first few there are."""
    replies = list(by_code(engine, config, user).values())
    if not replies:
        return "Canned replies: none yet. Add them on the Canned replies page, then type /code here."
    shown = ", ".join(f"{PREFIX}{reply.code} ({reply.title})" for reply in replies[:HELP_CODES])
    more = f" and {len(replies) - HELP_CODES} more" if len(replies) > HELP_CODES else ""
    return (
        "Type a canned reply's short code, then click outside the box or press Ctrl+Enter: the code "
        f"becomes the reply, with the author, product and links filled in. Codes: {shown}{more}."
    )


def _use(
    engine: Engine, config: Config, user: User, mention_id: int, picker: str, text_key: str, used: str
) -> None:
    """The picker's button: the picked reply, filled in for this mention, replaces the box's text."""
    code = str(st.session_state.get(picker) or "")
    reply = by_code(engine, config, user).get(code)
    try:
        if reply is None:
            raise GrumbleError(f"there is no canned reply {PREFIX}{code} any more (deleted meanwhile?)")
        st.session_state[text_key] = render(
            reply.text, template_values(engine, config, mention_id), PREFIX + code
        )
    except GrumbleError as exc:
        say_failed("Not used", exc, "Set what it names in grumble.toml, pick another, or write the reply.")
        return
    st.session_state[used] = code


def canned_picker(
    engine: Engine, config: Config, user: User, mention_id: int, key: str, text_key: str, used: str
) -> None:
    """Pick a canned reply (yours and the team's, grumble.toml's among them) to fill the reply box."""
    replies = by_code(engine, config, user)
    if not replies:
        return
    picker = f"{key}-picker"
    pick_col, use_col = st.columns([3, 1], vertical_alignment="bottom")
    pick_col.selectbox(
        "Canned reply",
        list(replies),
        format_func=lambda code: f"{PREFIX}{code} · {replies[code].title}",
        key=picker,
    )
    use_col.button(
        "Use it",
        key=f"{key}-use",
        help="Replaces the reply's text with this canned reply, filled in for this mention",
        on_click=_use,
        args=(engine, config, user, mention_id, picker, text_key, used),
    )
