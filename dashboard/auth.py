"""The login gate: a password form for users with hashes, st.login for OpenID Connect users."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard.context import USER_KEY, config, current_user, engine
from monitor.auth import User, user_for_email
from monitor.login import Login, LoginThrottled


def _oidc_user() -> User | None:
    st_user: Any = st.user
    if not getattr(st_user, "is_logged_in", False):
        return None
    return user_for_email(config().users, getattr(st_user, "email", None))


def gate() -> User | None:
    """Returns the user, or shows the login and returns None."""
    user = current_user()
    if user is not None:
        return user
    if config().oidc:
        oidc_user = _oidc_user()
        if oidc_user is not None:
            st.session_state[USER_KEY] = oidc_user
            return oidc_user
    st.title("Grumble")
    with st.form("login"):
        name = st.text_input("User name", key="login_name")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        try:
            found = Login(engine(), config().users).sign_in(name, password, st.context.ip_address)
        except LoginThrottled as exc:
            st.error(f"Not signed in: {exc}.")
            found = None
        else:
            if found is None:
                st.error("Unknown user name or wrong password.")
        if found is not None:
            st.session_state[USER_KEY] = found
            st.rerun()
    if config().oidc:
        st.button("Sign in with your identity provider", on_click=st.login)
    return None


def sign_out() -> None:
    st.session_state.pop(USER_KEY, None)
    if config().oidc and getattr(st.user, "is_logged_in", False):
        st.logout()
