"""Entry point for `streamlit run`: the login gate, then the navigation with the inbox first."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard.auth import gate, sign_out

PAGES = Path(__file__).parent / "views"

st.set_page_config(page_title="Grumble", page_icon="📣", layout="wide")
user = gate()
if user is None:
    st.stop()
assert user is not None

pages = [
    st.Page(str(PAGES / "inbox.py"), title="Inbox", icon="📥", default=True, url_path="inbox"),
    st.Page(str(PAGES / "mention.py"), title="Mention", icon="💬", url_path="mention", visibility="hidden"),
    st.Page(str(PAGES / "trends.py"), title="Trends", icon="📈", url_path="trends"),
    st.Page(str(PAGES / "sources.py"), title="Sources", icon="🩺", url_path="sources"),
    st.Page(str(PAGES / "digests.py"), title="Digests", icon="✉️", url_path="digests"),
]
with st.sidebar:
    st.caption(f"Signed in as {user.name} ({user.role})")
    if user.name != "local":
        st.button("Sign out", on_click=sign_out)
st.navigation(pages).run()
