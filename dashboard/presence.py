"""Who else is on a mention, shown where people work on it, kept fresh without a reload.

The mention page runs `presence_bar`: with users configured, a fragment that reruns on its own every
HEARTBEAT, beats for the reader (monitor/team/presence.py keeps the beats in the database, so every
dashboard process sees them) and shows who else beat lately. The reply box calls `note_drafting` with
its unsaved text (a stored draft loaded into everyone's box is no one's writing), so the beat says
"writing a reply" while there is some. The inbox shows the same on its lines and cards, refreshed with
the inbox."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st
from sqlalchemy import Engine

from dashboard import context
from dashboard.safe import plain
from monitor.auth.users import User
from monitor.mention import utcnow
from monitor.team.presence import HEARTBEAT, Here, mark_here, others_here, presence_words

DRAFTING = "presence-drafting-{}"  # session key: this reader has text in the mention's reply box


def _drafting(mention_id: int) -> bool:
    return bool(st.session_state.get(DRAFTING.format(mention_id)))


def note_drafting(engine: Engine, mention_id: int, user: User, text: str) -> None:
    """The reply box's beat: unsaved text in it makes the reader "writing a reply" to the others at
    once, and the presence bar's beats keep saying so while the text is there."""
    drafting = bool(text.strip())
    st.session_state[DRAFTING.format(mention_id)] = drafting
    mark_here(engine, mention_id, user.name, drafting, utcnow())


def presence_bar(engine: Engine, mention_id: int) -> None:
    """Who else is on the mention, kept fresh; nothing in local use (no users: one person)."""
    if context.config().users:
        _live_presence(engine, mention_id)


@st.fragment(run_every=HEARTBEAT)
def _live_presence(engine: Engine, mention_id: int) -> None:
    """Beat for the reader, then say who else is here (rerun alone every HEARTBEAT)."""
    user = context.run_user()
    if user is None:
        return
    now = utcnow()
    mark_here(engine, mention_id, user.name, _drafting(mention_id), now)
    here = others_here(engine, [mention_id], user.name, now).get(mention_id, [])
    with st.container(key="presence-bar"):
        if not here:
            st.caption("Nobody else has this mention open.")
        elif any(h.drafting for h in here):
            st.warning(f"{plain(presence_words(here))}: agree who answers before you write.", icon="✍️")
        else:
            st.info(plain(presence_words(here)), icon="👀")


def inbox_presence(engine: Engine, mention_ids: Sequence[int], user: User) -> dict[int, list[Here]]:
    """Who else is on each listed mention now (one query for the whole list)."""
    return others_here(engine, mention_ids, user.name, utcnow())


def presence_tag(here: Sequence[Here]) -> str:
    """A compact line's few characters (Markdown, escaped): " · ✍️ dana 👀 sam"; "" for nobody."""
    if not here:
        return ""
    ordered = sorted(here, key=lambda h: (not h.drafting, h.user_name))
    return " · " + " ".join(f"{'✍️' if h.drafting else '👀'} {plain(h.user_name, 20)}" for h in ordered)


def presence_caption(here: Sequence[Here]) -> None:
    """Under a card: "✍️ dana is writing a reply · sam is viewing"."""
    if here:
        st.caption(f"{'✍️' if any(h.drafting for h in here) else '👀'} {plain(presence_words(here))}")
