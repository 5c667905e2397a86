"""Sources: each collector's health, so a broken connector is seen at a glance."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboard import context
from dashboard.times import shown_time
from monitor.mention import utcnow
from monitor.sources.quota_report import quota_report
from monitor.store.collect_state import all_states
from monitor.store.quotas import SharedQuotaLedger
from monitor.streams.health import stream_rows
from monitor.surface.render import age
from monitor.surface.trends import daily_by_source

st.title("Sources")
engine = context.engine()
states = all_states(engine)
now = utcnow()
failing = [s for s in states if s.health == "failing"]
degraded = [s for s in states if s.health == "degraded"]
if failing:
    st.error(
        f"{len(failing)} collection job(s) failing: "
        + ", ".join(f"{s.source} ({s.watch})" for s in failing)
        + ". The problem column below says what went wrong, in the source's own words: fix what it names "
        "(a key, a login, a URL) in grumble.toml or the environment, then restart Grumble. Until then "
        "each job is tried again at its next try."
    )
if degraded:
    st.warning(
        f"{len(degraded)} collection job(s) partly failing (mentions from the failing part are missing): "
        + ", ".join(f"{s.source} ({s.watch})" for s in degraded)
        + ". The problem column below names the part that failed: fix it or remove it from the watch in "
        "grumble.toml."
    )
if states and not failing and not degraded:
    st.success("Every source answered on its last run.")

if states:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "source": s.source,
                    "watch": s.watch,
                    "health": s.health.upper() if s.health in ("failing", "degraded") else s.health,
                    "last success": age(s.last_success_at, now) if s.last_success_at else "never",
                    "consecutive failures": s.consecutive_failures,
                    "problem": s.problem,
                    "next try": shown_time(s.next_attempt_at, "clock") if s.next_attempt_at else "",
                    "collected": s.mentions_collected,
                }
                for s in states
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config={"problem": st.column_config.TextColumn(width="large")},
    )
else:
    st.info("No collection has run yet. Start the scheduler with `grumble run`, or `grumble collect --once`.")

# Sources that ration calls by a daily or hourly quota (YouTube, Google Play): what is spent and left.
quotas = quota_report(context.config(), SharedQuotaLedger(engine))
if quotas:
    st.subheader("Quotas")
    for name, lines in quotas.items():
        st.markdown(f"**{name}**")
        for line in lines:
            st.caption(line)

# Live streams (Bluesky Jetstream, Mastodon streaming): one row per connection.
streams = stream_rows(engine, now)
if streams:
    st.subheader("Live streams")
    down = [row["stream"] for row in streams if row["state"] != "live"]
    if down:
        st.warning("Not live (polling stands in): " + ", ".join(down))
    st.dataframe(pd.DataFrame(streams), hide_index=True, width="stretch")

st.subheader("Mentions per day")
daily = daily_by_source(engine, since=now - timedelta(days=14))
if daily:
    st.bar_chart(pd.DataFrame.from_dict(daily, orient="index").rename_axis(index="day", columns="source"))
else:
    st.caption("No mentions in the last 14 days.")
