"""The sign-in gate inside the app: the session cookie's user, or st.login for OpenID Connect users.

Passwords are checked by the sign-in page in front of the app (server.py), never in a Streamlit form: it
is the only place that can set a cookie, so the session survives reloads and links keep their target.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard.context import SIGNED_OUT_ACTION, USER_KEY, config, current_user
from monitor.auth.users import User, user_for_email

SIGN_IN_URL = "/grumble/login"
SIGN_OUT_URL = "/grumble/logout"


def _oidc_user() -> User | None:
    st_user: Any = st.user
    if not getattr(st_user, "is_logged_in", False):
        return None
    return user_for_email(config().users, getattr(st_user, "email", None))


def gate() -> User | None:
    """Returns the user, or says how to sign in and returns None."""
    user = current_user()
    if user is not None:
        return user
    if config().oidc:
        oidc_user = _oidc_user()
        if oidc_user is not None:
            st.session_state[USER_KEY] = oidc_user
            return oidc_user
    st.title("Grumble")
    st.info("You are not signed in, or your session has ended.")
    if st.session_state.pop(SIGNED_OUT_ACTION, False):
        st.warning(
            "Nothing was changed: your session had ended before that click. Sign in, then do it again."
        )
    st.link_button("Sign in", SIGN_IN_URL, type="primary")
    if config().oidc:
        st.button("Sign in with your identity provider", on_click=st.login)
    return None


def sign_out() -> None:
    """For users signed in through OpenID Connect; password users follow SIGN_OUT_URL."""
    st.session_state.pop(USER_KEY, None)
    if getattr(st.user, "is_logged_in", False):
        st.logout()
