"""What every page shares: config and engine, built once per server process, and the signed-in user."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec

import streamlit as st
from sqlalchemy import Engine
from streamlit.runtime.scriptrunner import get_script_run_ctx

from monitor.auth.sessions import COOKIE, session_user
from monitor.auth.users import LOCAL_USER, User
from monitor.config import Config, config_file, file_fingerprint, load_config
from monitor.store.engine import connect

USER_KEY = "grumble_user"
RUN_USER = "grumble_run_user"  # the user app.py's gate found at the start of this run


@st.cache_resource
def _loaded() -> tuple[Config, str | None]:
    # The fingerprint is taken first: an edit made while loading then shows as a change, never hides.
    fingerprint = file_fingerprint(config_file())
    return load_config(), fingerprint


def config() -> Config:
    """The configuration this server process started with: it is read once, not on every rerun."""
    return _loaded()[0]


def config_changed() -> bool:
    """Whether grumble.toml differs from what this process (and the `grumble up` beside it) runs with."""
    return file_fingerprint(config_file()) != _loaded()[1]


@st.cache_resource
def engine() -> Engine:
    return connect(config().database_url)


def current_user() -> User | None:
    """The signed-in user; the local admin when no users are configured; None when a login is needed.

    The session cookie (set by the sign-in page in front of the app, server.py) is checked on every run,
    so signing out in one tab, or an admin removing the user, ends every other tab's access too. A user
    signed in through OpenID Connect is kept in the Streamlit session instead."""
    if not config().users:
        return LOCAL_USER
    user = st.session_state.get(USER_KEY)
    if isinstance(user, User):
        return user
    return session_user(engine(), st.context.cookies.get(COOKIE), config().users)


def remember_run_user(user: User | None) -> None:
    """Called by app.py's gate on every full run, so pages need not look the user up again."""
    if user is None:
        st.session_state.pop(RUN_USER, None)
    else:
        st.session_state[RUN_USER] = user


def run_user() -> User | None:
    """The signed-in user, looked up once a run: on a full run the one app.py's gate found; a fragment
    rerunning on its own (the inbox's refresh and its buttons) does not pass the gate, so it looks again,
    and signing out in another tab stops it too."""
    context = get_script_run_ctx()
    fragment_only = context is not None and bool(context.fragment_ids_this_run)
    remembered = st.session_state.get(RUN_USER)
    if fragment_only or not isinstance(remembered, User):
        return current_user()
    return remembered


SIGNED_OUT_ACTION = "grumble_signed_out_action"
P = ParamSpec("P")


def acting(callback: Callable[P, None]) -> Callable[P, None]:
    """`callback` for a button that writes, run only while a user is still signed in. Streamlit runs a
    button's callback before the page script, so before app.py's gate: a tab left open after "Sign out"
    (in it or another tab) could still mark, assign or save once. The page then says why nothing
    happened, under the gate's way back in."""

    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        if current_user() is None:
            st.session_state[SIGNED_OUT_ACTION] = True
            return
        callback(*args, **kwargs)

    return run


def require(role: str) -> User:
    """Stops the page for a user without `role`, so no action runs on a button a viewer should not have."""
    user = current_user()
    if user is None or not user.can(role):
        st.error(f"This needs the {role} role.")
        st.stop()
    assert user is not None
    return user
