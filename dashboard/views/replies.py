"""Canned replies: the team's and your own, searched, created, edited and deleted here; used in the reply
box by typing their short code (/refund). Who may change which is monitor/respond/canned.py's rule: the
team's replies are an admin's, yours are yours. The grumble.toml templates show as the team's, read only
(edit them as a team reply of the same code, which then takes their place)."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from dashboard import context
from dashboard.context import acting
from dashboard.panel_message import say, say_failed, show
from dashboard.safe import plain
from dashboard.times import shown_time
from monitor.auth.users import User, shown_name
from monitor.errors import GrumbleError
from monitor.mention import utcnow
from monitor.respond import canned
from monitor.store.canned_replies import CannedReply

NEW = "canned-new"  # the form for a new reply; an edited one's fields are keyed by its id (or code)


def _key(reply: CannedReply | None) -> str:
    if reply is None:
        return NEW
    return f"canned-{reply.id}" if reply.id is not None else f"canned-toml-{reply.code}"


def _save(engine: Engine, user: User, reply: CannedReply | None, team: bool) -> None:
    key = _key(reply)
    stored_id = None if reply is None else reply.id  # a grumble.toml one is saved as a new team reply
    try:
        saved = canned.save(
            engine,
            user,
            code=str(st.session_state.get(f"{key}-code") or ""),
            title=str(st.session_state.get(f"{key}-title") or ""),
            text=str(st.session_state.get(f"{key}-text") or ""),
            team=bool(st.session_state.get(f"{key}-team")) if reply is None else team,
            now=utcnow(),
            reply_id=stored_id,
        )
    except GrumbleError as exc:
        say_failed("Not saved", exc, "Change it, then save it again.")
        return
    say("success", f"Saved {canned.PREFIX}{saved.code}: type it in a reply box to use it.")
    if reply is None:
        for field in ("code", "title", "text"):
            st.session_state[f"{NEW}-{field}"] = ""


def _delete(engine: Engine, user: User, reply: CannedReply) -> None:
    assert reply.id is not None
    try:
        canned.delete(engine, user, reply.id)
    except GrumbleError as exc:
        say_failed("Not deleted", exc, "Reload the page, then try again.")
        return
    say("success", f"Deleted {canned.PREFIX}{reply.code}.")


def _fields(reply: CannedReply | None, key: str) -> None:
    code_col, title_col = st.columns([1, 2])
    code_col.text_input(
        "Short code", value=reply.code if reply else "", key=f"{key}-code", placeholder="refund", max_chars=41
    )
    title_col.text_input(
        "Title", value=reply.title if reply else "", key=f"{key}-title", placeholder="Refund: how to ask"
    )
    st.text_area(
        "Text",
        value=reply.text if reply else "",
        key=f"{key}-text",
        height=110,
        placeholder="Hi {author}, sorry about {product}. Our refund steps: {case_link}",
    )


def _reply(engine: Engine, user: User, reply: CannedReply, editable: bool) -> None:
    origin = "from grumble.toml" if reply.from_config else f"by {plain(shown_name(reply.updated_by or ''))}"
    when = f" · {shown_time(reply.updated_at)}" if reply.updated_at else ""
    with st.expander(f"{canned.PREFIX}{reply.code} · {plain(reply.title, 80)}"):
        st.caption(f"{origin}{when}")
        if not editable:
            st.code(reply.text, language=None, wrap_lines=True)
            return
        key = _key(reply)
        if reply.from_config:
            st.caption(
                "Saving it makes a team reply with this code, which takes the grumble.toml one's place."
            )
        _fields(reply, key)
        save_col, delete_col = st.columns(2)
        save_col.button(
            "Save", key=f"{key}-save", on_click=acting(_save), args=(engine, user, reply, reply.team)
        )
        if not reply.from_config:
            delete_col.button(
                "Delete", key=f"{key}-delete", on_click=acting(_delete), args=(engine, user, reply)
            )


def _shelf(user: User, title: str, replies: list[CannedReply], editable: bool, searched: bool) -> None:
    st.subheader(title)
    if not replies:
        st.caption("None match the search." if searched else "None yet.")
    for reply in replies:
        _reply(context.engine(), user, reply, editable)


engine = context.engine()
user = context.require(canned.OWN_ROLE)
config = context.config()
st.title("Canned replies")
st.caption(
    f"Type a reply's short code in a reply box (such as {canned.PREFIX}refund) and leave the box: it becomes "
    "the reply's text. Variables filled in for each mention: {author}, {brand}, {product}, {link} (the "
    "post), {case_link} (its page here). Your own reply wins over the team's where both use a code."
)
show()
query = st.text_input("Search", key="canned-search", placeholder="code, title or words of the text")
team, own = canned.shelves(engine, config, user)
is_admin = user.can(canned.TEAM_ROLE)
with st.expander("New canned reply", expanded=not team and not own):
    _fields(None, NEW)
    st.checkbox(
        "For the whole team" if is_admin else "For the whole team (an admin's to add)",
        key=f"{NEW}-team",
        disabled=not is_admin,
    )
    st.button(
        "Add", key=f"{NEW}-save", type="primary", on_click=acting(_save), args=(engine, user, None, False)
    )
_shelf(user, "Team replies", canned.search(team, query), is_admin, bool(query))
if not is_admin:
    st.caption("The team's replies are changed by an admin.")
_shelf(user, "Your replies", canned.search(own, query), True, bool(query))
