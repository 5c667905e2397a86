"""The Streamlit script (served by server.py): the user, then the navigation with the inbox first."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard.auth import SIGN_OUT_URL, gate, sign_out
from dashboard.context import USER_KEY, config_changed, engine, remember_run_user
from dashboard.notices import for_you_title
from monitor.auth.users import LOCAL_USER

PAGES = Path(__file__).parent / "views"

st.set_page_config(page_title="Grumble", page_icon="📣", layout="wide")
user = gate()
remember_run_user(user)
if user is None:
    st.stop()
assert user is not None

pages = [
    st.Page(str(PAGES / "inbox.py"), title="Inbox", icon="📥", default=True, url_path="inbox"),
    st.Page(str(PAGES / "for_you.py"), title=for_you_title(engine(), user), icon="🔔", url_path="for_you"),
    st.Page(str(PAGES / "mention.py"), title="Mention", icon="💬", url_path="mention", visibility="hidden"),
    st.Page(str(PAGES / "author.py"), title="Author", icon="👤", url_path="author", visibility="hidden"),
    st.Page(str(PAGES / "trends.py"), title="Trends", icon="📈", url_path="trends"),
    st.Page(str(PAGES / "compare.py"), title="Compare", icon="⚖️", url_path="compare"),
    st.Page(str(PAGES / "topics.py"), title="Topics", icon="🏷️", url_path="topics"),
    st.Page(str(PAGES / "sources.py"), title="Sources", icon="🩺", url_path="sources"),
    st.Page(str(PAGES / "digests.py"), title="Digests", icon="✉️", url_path="digests"),
]
if user.can("responder"):  # whoever can reply keeps replies of their own; the team's are an admin's
    pages.append(st.Page(str(PAGES / "replies.py"), title="Canned replies", icon="🗨️", url_path="replies"))
if user.can("admin"):  # endpoints and their delivery log are an admin's to see
    pages.append(st.Page(str(PAGES / "webhooks.py"), title="Webhooks", icon="🪝", url_path="webhooks"))
if user.can("admin"):  # what each watch learned from its corrections, and learning or undoing it
    pages.append(st.Page(str(PAGES / "model.py"), title="Model", icon="🧠", url_path="model"))
with st.sidebar:
    if user == LOCAL_USER:  # no [[users]]: nobody signs in, so there is no name to show
        st.caption("You are the only user (no sign-in). Add [[users]] to grumble.toml to work as a team.")
    else:
        st.caption(f"Signed in as {user.name} ({user.role})")
    if USER_KEY in st.session_state:  # signed in through OpenID Connect
        st.button("Sign out", on_click=sign_out)
    elif user != LOCAL_USER:
        st.link_button("Sign out", SIGN_OUT_URL)
if config_changed():
    # Watches, digests, users and every other setting are read once, when `grumble up` starts.
    st.warning(
        "grumble.toml changed since start: restart `grumble up` (or `grumble run` and `grumble dashboard`) "
        "to apply watches/digests/users and the other settings.",
        icon="⚠️",
    )
st.navigation(pages).run()
