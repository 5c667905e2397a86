"""One mention: its thread, its author's other mentions, and its history."""

from __future__ import annotations

import streamlit as st

from dashboard import context
from dashboard.case_panel import case_panel
from dashboard.components import card
from dashboard.presence import presence_bar
from dashboard.safe import plain
from dashboard.times import shown_time
from monitor.mention import utcnow
from monitor.respond.history import event_sentence
from monitor.store.detail import by_same_author, get_mention, parent_of, replies_to
from monitor.store.link_input import row_id
from monitor.store.mentions import full_text
from monitor.store.triage import history
from monitor.store.versions import earlier_versions
from monitor.surface.inbox import mention_row
from monitor.surface.versions import version_line
from monitor.topics.report import mention_topics

engine = context.engine()
mention_id = row_id(st.query_params.get("id", ""))
if mention_id is None:
    st.title("Mention")
    st.info("Open a mention from the inbox (its Details link) to see it here.")
    st.page_link("views/inbox.py", label="Back to the inbox", icon="📥")
    st.stop()
assert mention_id is not None

mention = get_mention(engine, mention_id)
if mention is None:
    st.title("Mention")
    st.warning(f"No mention with id {mention_id}: it may have been deleted.")
    st.stop()
assert mention is not None

st.title("Mention")
st.page_link("views/inbox.py", label="Back to the inbox", icon="📥")
presence_bar(engine, mention_id)  # who else is on it, fresh without a reload
parent = parent_of(engine, mention)
if parent is not None:
    st.subheader("In reply to")
    card(engine, mention_row(parent), key="parent", with_actions=False)
elif mention.get("parent_id"):
    st.caption(f"A reply to {plain(mention['parent_id'])}, which is not stored.")

card(engine, mention_row(mention), key="mention", details_link=False)
# Why this customer is unhappy, and a way to the others who say the same (the inbox's topic filter).
topics = mention_topics(engine, mention["id"])
for topic in topics:
    of_watch = f" ({plain(topic.watch)})" if len(topics) > 1 else ""
    st.page_link(
        "views/inbox.py",
        label=f"Complaint topic{of_watch}: {plain(topic.name)}: every mention in it",
        icon="🏷️",
        query_params={"topic": str(topic.topic_id)},
    )
whole = full_text(engine, mention["id"])
if whole is not None:
    st.caption(
        f"The text above is the first {len(mention['text']):,} of its {len(whole):,} characters; "
        "the whole of it is in the download."
    )
    st.download_button(
        "Download the whole text", whole, file_name=f"mention-{mention['id']}.txt", mime="text/plain"
    )
versions = earlier_versions(engine, mention["id"])
if versions:
    now = utcnow()
    with st.expander(f"Earlier versions ({len(versions)})", expanded=True):
        for version in versions:
            st.markdown(f"- {plain(version_line(version, now), 1000)} ({shown_time(version.replaced_at)})")
case_panel(engine, mention)

replies = replies_to(engine, mention)
if replies:
    st.subheader(f"Replies ({len(replies)})")
    for reply in replies:
        card(engine, mention_row(reply), key="reply", with_actions=False)

st.subheader("History")
events = history(engine, mention["id"])
if not events:
    st.caption("No changes yet.")
for event in events:
    st.markdown(f"- {shown_time(event.at)} · {plain(event_sentence(event), 1000)}")

others = by_same_author(engine, mention)
st.subheader(f"More from {plain(mention['author'] or 'this author')}")
if mention["author"]:
    st.page_link(
        "views/author.py",
        label="Everything they said, their cases and the VIP mark",
        icon="👤",
        query_params={"author": mention["author"]},
    )
if not others:
    st.caption("No other mentions by this author.")
for other in others:
    card(engine, mention_row(other), key="author", with_actions=False)
