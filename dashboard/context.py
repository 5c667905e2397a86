"""What every page shares: config and engine, built once per server process, and the signed-in user."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from monitor.auth import LOCAL_USER, User
from monitor.config import Config, load_config
from monitor.store.engine import connect

USER_KEY = "grumble_user"


@st.cache_resource
def config() -> Config:
    return load_config()


@st.cache_resource
def engine() -> Engine:
    return connect(config().database_url)


def current_user() -> User | None:
    """The signed-in user; the local admin when no users are configured; None when a login is needed."""
    if not config().users:
        return LOCAL_USER
    user = st.session_state.get(USER_KEY)
    return user if isinstance(user, User) else None


def require(role: str) -> User:
    """Stops the page for a user without `role`, so no action runs on a button a viewer should not have."""
    user = current_user()
    if user is None or not user.can(role):
        st.error(f"This needs the {role} role.")
        st.stop()
    assert user is not None
    return user
