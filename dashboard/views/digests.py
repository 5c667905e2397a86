"""Digests: each list's schedule and recipients, its recent sends, and unsubscribing (the link in every
digest's footer and List-Unsubscribe header lands here)."""

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
st.caption("Schedules and recipients are set in grumble.toml; recipients can unsubscribe themselves here.")

unsubscribed = opted_out(engine, digest_list.name)
st.dataframe(
    pd.DataFrame(
        [{"recipient": r, "receives it": r.lower() not in unsubscribed} for r in digest_list.recipients]
    ),
    hide_index=True,
    width="stretch",
)

with st.form("subscription"):
    email = st.text_input("Your email address", key="d_email")
    leave, join = st.columns(2)
    unsubscribe = leave.form_submit_button("Unsubscribe from this digest")
    resubscribe = join.form_submit_button("Receive it again")
if unsubscribe or resubscribe:
    address = email.strip().lower()
    if address not in {r.lower() for r in digest_list.recipients}:
        st.error("That address is not a recipient of this digest.")
    else:
        set_subscribed(engine, digest_list.name, address, subscribed=bool(resubscribe), at=utcnow())
        st.success(f"{plain(address)} {'will receive' if resubscribe else 'no longer receives'} this digest.")

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
