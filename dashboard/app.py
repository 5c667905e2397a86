"""The Streamlit script (served by server.py): the user, then the navigation with the inbox first."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard.auth import SIGN_OUT_URL, gate, sign_out
from dashboard.context import USER_KEY, config_changed, remember_run_user

PAGES = Path(__file__).parent / "views"

st.set_page_config(page_title="Grumble", page_icon="📣", layout="wide")
user = gate()
remember_run_user(user)
if user is None:
    st.stop()
assert user is not None

pages = [
    st.Page(str(PAGES / "inbox.py"), title="Inbox", icon="📥", default=True, url_path="inbox"),
    st.Page(str(PAGES / "mention.py"), title="Mention", icon="💬", url_path="mention", visibility="hidden"),
    st.Page(str(PAGES / "author.py"), title="Author", icon="👤", url_path="author", visibility="hidden"),
    st.Page(str(PAGES / "trends.py"), title="Trends", icon="📈", url_path="trends"),
    st.Page(str(PAGES / "compare.py"), title="Compare", icon="⚖️", url_path="compare"),
    st.Page(str(PAGES / "sources.py"), title="Sources", icon="🩺", url_path="sources"),
    st.Page(str(PAGES / "digests.py"), title="Digests", icon="✉️", url_path="digests"),
]
with st.sidebar:
    st.caption(f"Signed in as {user.name} ({user.role})")
    if USER_KEY in st.session_state:  # signed in through OpenID Connect
        st.button("Sign out", on_click=sign_out)
    elif user.name != "local":
        st.link_button("Sign out", SIGN_OUT_URL)
if config_changed():
    # Watches, digests, users and every other setting are read once, when `grumble up` starts.
    st.warning(
        "grumble.toml changed since start: restart `grumble up` (or `grumble run` and `grumble dashboard`) "
        "to apply watches/digests/users and the other settings.",
        icon="⚠️",
    )
st.navigation(pages).run()
