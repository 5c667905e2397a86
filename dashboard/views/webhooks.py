"""Webhooks (admins only): each endpoint's address, subscriptions and health, its delivery log, and the
button that enables a disabled one again. Endpoints and their secrets are set in grumble.toml."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import context
from dashboard.safe import plain
from monitor.store import webhook_deliveries as store
from monitor.webhooks.event_types import EVENT_TYPES
from monitor.webhooks.overview import DISABLED, FAILING, endpoint_views

st.title("Webhooks")
user = context.current_user()
if user is None or not user.can("admin"):
    st.error("Only an admin can see the webhook endpoints and their delivery log.")
    st.stop()

config = context.config()
if not config.webhooks.endpoints:
    st.info(
        "No webhook endpoints are configured. Add a `[[webhooks.endpoints]]` table to grumble.toml with "
        "its `url`, the `events` to send and `secret_env`, the environment variable holding its whsec_ "
        "secret (the README's Webhooks section has an example)."
    )
    st.stop()

engine = context.engine()
st.caption(
    "Each request is signed per the Standard Webhooks spec (webhook-id, webhook-timestamp, "
    "webhook-signature) and retried with backoff under the same webhook-id until it is answered with a "
    "2xx. An endpoint failing for a day is disabled."
)

for view in endpoint_views(config, engine):
    endpoint = view.endpoint
    st.subheader(f"{endpoint.name} → {endpoint.host}")
    sentence = plain(view.health_sentence())
    if view.health == DISABLED:
        st.error(sentence, icon="⛔")
        if st.button("Enable it again", key=f"wh_enable_{endpoint.name}"):
            store.enable(engine, endpoint.name)
            st.rerun()
    elif view.health == FAILING:
        st.warning(sentence, icon="⚠️")
    else:
        st.success(sentence)
    rotation = " · signed with the current and the previous secret (key rotation)" if view.rotating else ""
    st.markdown(
        f"**Pending:** {view.pending} · **last 24 h:** {view.delivered_recently} delivered, "
        f"{view.failed_recently} failed attempt(s){rotation}"
    )
    st.dataframe(
        pd.DataFrame(
            [
                {"event": name, "what it means": meaning, "subscribed": endpoint.wants(name)}
                for name, meaning in EVENT_TYPES.items()
            ]
        ),
        hide_index=True,
        key=f"wh_events_{endpoint.name}",
    )
    attempts = store.attempt_log(engine, endpoint.name, limit=100)
    if not attempts:
        st.caption("No delivery attempts yet.")
        continue
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "at (UTC)": attempt.at.strftime("%Y-%m-%d %H:%M:%S"),
                    "event": attempt.type,
                    "webhook-id": attempt.msg_id,
                    "answer": attempt.status_code,
                    "ms": attempt.duration_ms,
                    "outcome": "delivered" if attempt.error is None else attempt.error,
                }
                for attempt in attempts
            ]
        ),
        hide_index=True,
        key=f"wh_log_{endpoint.name}",
    )
