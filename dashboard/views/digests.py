"""Digests: each list's schedule, a preview of its next digest and a test copy to yourself, its recent
sends; admins see and manage the recipients, other users their own subscription (a recipient's
unsubscribe link lands on dashboard/server.py, not here)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import context
from dashboard.safe import plain
from dashboard.times import shown_time
from monitor.errors import GrumbleError
from monitor.mention import utcnow
from monitor.store.digests import opted_out, runs, set_subscribed
from monitor.surface.digest_delivery import preview, send_test
from monitor.surface.mail import mailer_for
from monitor.surface.render import with_unsubscribe_placeholder

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

st.subheader("Next digest")
# Built as the list's next digest would be now, claiming nothing: the real one is not affected.
upcoming = preview(context.config(), engine, digest_list, utcnow())
if upcoming.quiet and not digest_list.send_when_quiet:
    st.caption("All quiet so far: as things stand, no mail would be sent (send_when_quiet = false).")
st.markdown(f"**Subject:** {plain(upcoming.subject)}")
with st.expander("The digest as it would read now", expanded=False):
    # The text part, shown as text: mention text from strangers is never rendered as Markdown or HTML.
    st.code(with_unsubscribe_placeholder(upcoming.text), language=None, wrap_lines=True)

own_address = user.email if user is not None else None
if own_address is None:
    st.caption(
        "To get a test copy, your [[users]] entry in grumble.toml needs an `email`: "
        "you have no email address configured."
    )
elif st.button(f"Send me a test ({plain(own_address)})", key="d_test"):
    try:
        send_test(
            context.config(), engine, digest_list, own_address, mailer_for(context.config().smtp), utcnow()
        )
    except GrumbleError as exc:
        st.error(
            f"Test not sent: {plain(str(exc).rstrip('.'))}. Check [smtp] in grumble.toml and that the mail "
            "server is reachable, then send it again."
        )
    else:
        st.success(f"Test sent to {plain(own_address)} only. The real digest is sent on schedule as usual.")

st.subheader("Recent digests")
recent = runs(engine, digest_list.name)[::-1][:20]  # newest first
if not recent:
    st.caption("None sent yet.")
else:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "built": shown_time(run.created_at),
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
