"""Entry point for `streamlit run`: the navigation, with the inbox first."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).parent / "pages"

st.set_page_config(page_title="Grumble", page_icon="📣", layout="wide")
navigation = st.navigation([st.Page(str(PAGES / "inbox.py"), title="Inbox", icon="📥", default=True)])
navigation.run()
