"""One author: everything said under their name on every source, their audience, past cases and the
replies sent, and the VIP mark (responders and admins) that ranks their mentions higher."""

from __future__ import annotations

import streamlit as st

from dashboard import context
from dashboard.components import card
from dashboard.context import acting
from dashboard.safe import plain, safe_link
from monitor.auth.users import shown_name
from monitor.mention import utcnow
from monitor.ranking import VIP_FACTOR
from monitor.respond.history import status_words
from monitor.store.authors import audience, author_cases, said, set_vip
from monitor.store.link_input import AUTHOR_CHARS, clean_text
from monitor.surface import render
from monitor.surface.inbox import mention_row

engine = context.engine()
user = context.run_user()
author = clean_text(st.query_params.get("author", ""), AUTHOR_CHARS)
st.title("Author")
st.page_link("views/inbox.py", label="Back to the inbox", icon="📥")
if not author:
    st.info("Open an author from a mention's page to see everything they said.")
    st.stop()

sources = audience(engine, author)
st.header(plain(author, 120))
if not sources:
    st.warning("No mentions under this name: it may have been deleted, or the link is mistyped.")
    st.stop()


def _set_vip(source: str, vip: bool) -> None:
    if user is not None and user.can("responder"):
        set_vip(engine, source, author, vip, user.name, utcnow())


st.caption(
    "Names are only unique per source: the same name on two sources may be two people. "
    f"A VIP's mentions rank {VIP_FACTOR:g}× higher in the inbox, digests and alerts."
)
for number, seen in enumerate(sources):
    text_col, vip_col = st.columns([4, 1], vertical_alignment="center")
    badge = " :orange-badge[⭐ VIP]" if seen.vip else ""
    text_col.markdown(
        f"**{plain(seen.source)}**{badge} · {render.plural(seen.mentions, 'mention')}"
        f" ({seen.negatives} negative) · largest audience {render.count(seen.reach)}"
        f" · first {seen.first_at:%Y-%m-%d}, last {seen.last_at:%Y-%m-%d}"
    )
    if user is not None and user.can("responder"):
        vip_col.button(
            "Unmark VIP" if seen.vip else "⭐ Mark VIP",
            key=f"vip-{number}",
            on_click=acting(_set_vip),
            args=(seen.source, not seen.vip),
        )

st.subheader("Cases")
past = author_cases(engine, author)
if not past:
    st.caption("No cases yet.")
for item in past:
    assignee = plain(shown_name(item.case.assignee) if item.case.assignee else "nobody", 40)
    with st.container(border=True):
        st.markdown(
            f"**{status_words(item.case.status)}** · {plain(item.source)} · assignee {assignee}"
            f" · opened {item.case.opened_at:%Y-%m-%d %H:%M} UTC · {plain(render.shorten(item.text, 120))}"
        )
        st.page_link(
            "views/mention.py", label="Open the mention", query_params={"id": str(item.case.mention_id)}
        )
        for reply in item.replies:
            link = safe_link(reply.remote_url)
            # A bracket would end the Markdown link early: percent-encoded, the URL is the same.
            where = f" · [the reply ↗]({link.replace('(', '%28').replace(')', '%29')})" if link else ""
            st.markdown(
                f"- reply {reply.status.replace('_', ' ')} by {plain(shown_name(reply.author), 40)}"
                f" · {plain(render.shorten(reply.text, 200))}{where}"
            )

mentions = said(engine, author)
st.subheader(f"Everything said ({len(mentions)}{'+' if len(mentions) >= 50 else ''})")
for mention in mentions:
    card(engine, mention_row(mention), key="author", with_actions=False)
