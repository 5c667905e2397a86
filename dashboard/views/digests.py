"""Digests: each list's schedule, its recent sends; admins see and manage the recipients, other users
their own subscription (a recipient's unsubscribe link lands on dashboard/server.py, not here)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import context
from dashboard.safe import plain
from monitor.mention import utcnow
from monitor.store.digests import opted_out, runs, set_subscribed

st.title("Digests")
lists = context.config().digests
if not lists:
    st.info("No digests are configured. Add a `[[digests]]` list to grumble.toml (see `grumble init`).")
    st.stop()

names = [d.name for d in lists]
wanted = st.query_params.get("list", names[0])
chosen = st.selectbox("List", names, index=names.index(wanted) if wanted in names else 0, key="d_list")
digest_list = next(d for d in lists if d.name == chosen)
engine = context.engine()

when = {
    "hourly": f"every hour at :{digest_list.at:%M}",
    "daily": f"daily at {digest_list.at:%H:%M}",
    "weekly": f"every {digest_list.weekday} at {digest_list.at:%H:%M}",
}[digest_list.every]
st.markdown(
    f"**{plain(digest_list.name)}**: {when} ({plain(digest_list.timezone)}) · "
    f"watches: {plain(', '.join(digest_list.watches) or 'all')} · "
    f"minimum priority {digest_list.min_priority:g} · "
    + (
        "an 'all quiet' mail when there is nothing new"
        if digest_list.send_when_quiet
        else "no mail when quiet"
    )
)
st.caption(
    "Schedules and recipients are set in grumble.toml. Every digest carries each recipient's own "
    "unsubscribe link, which works without signing in."
)

user = context.current_user()
unsubscribed = opted_out(engine, digest_list.name)
if user is not None and user.can("admin"):
    # Addresses are personal data and the list is an admin's to manage: nobody else sees or edits it.
    st.dataframe(
        pd.DataFrame(
            [{"recipient": r, "receives it": r.lower() not in unsubscribed} for r in digest_list.recipients]
        ),
        hide_index=True,
        width="stretch",
    )
    with st.form("subscription"):
        email = st.selectbox("Recipient", digest_list.recipients, key="d_email")
        leave, join = st.columns(2)
        unsubscribe = leave.form_submit_button("Stop sending to this recipient")
        resubscribe = join.form_submit_button("Send to this recipient again")
    if (unsubscribe or resubscribe) and email:
        set_subscribed(engine, digest_list.name, email, subscribed=bool(resubscribe), at=utcnow())
        st.success(f"{plain(email)} {'will receive' if resubscribe else 'no longer receives'} this digest.")
else:
    own = user.email.lower() if user is not None and user.email else None
    if own is not None and own in {r.lower() for r in digest_list.recipients}:
        receives = own not in unsubscribed
        st.markdown(f"You ({plain(own)}) {'receive' if receives else 'do not receive'} this digest.")
        if st.button("Stop sending it to me" if receives else "Send it to me again", key="d_self"):
            set_subscribed(engine, digest_list.name, own, subscribed=not receives, at=utcnow())
            st.rerun()
    else:
        st.caption(f"{len(digest_list.recipients)} recipients; an admin manages the list.")

st.subheader("Recent digests")
recent = runs(engine, digest_list.name)[::-1][:20]  # newest first
if not recent:
    st.caption("None sent yet.")
else:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "built": run.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                    "status": run.status,
                    "mentions": run.mention_count,
                    "attempts": run.attempts,
                    "last error": run.last_error or "",
                    "subject": run.subject,
                }
                for run in recent
            ]
        ),
        hide_index=True,
        width="stretch",
    )
