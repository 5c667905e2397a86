"""The one message a panel shows after the rerun its button caused (Streamlit reruns the page after a
callback, so the callback leaves the message in the session for the next run to show)."""

from __future__ import annotations

import streamlit as st

from dashboard.safe import plain

MESSAGE = "case_panel_message"
SHOW = {"success": st.success, "error": st.error, "warning": st.warning, "info": st.info}


def say(kind: str, text: str) -> None:
    """Leave a message of this kind (success, info, warning, error) for the next run."""
    st.session_state[MESSAGE] = (kind, text)


def say_failed(what: str, exc: Exception, then: str) -> None:
    """A step that failed: what was not done, the reason as the error words it (a library's text, often),
    and what to do now, as one sentence: "Not assigned: <reason>. Reload the inbox and try again."."""
    reason = str(exc).strip().rstrip(".") or type(exc).__name__
    say("error", f"{what}: {reason}. {then}")


def show() -> None:
    """Show the message left for this run, if any, once."""
    message = st.session_state.pop(MESSAGE, None)
    if message is not None:
        kind, text = message
        # Messages quote sources' answers and URLs: shown escaped, like any untrusted text.
        SHOW.get(kind, st.info)(plain(text))
