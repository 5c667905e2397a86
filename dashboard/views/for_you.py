"""For you: what waits for the signed-in person (assigned to them, their approval asked, their reply
approved or sent back, a note naming them), newest first, unread marked; and which of these they also
want by email. The list is made by the notify job (monitor/team/), within a minute of each event."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from dashboard import context
from dashboard.context import acting
from dashboard.panel_message import say, show
from dashboard.safe import plain
from dashboard.times import shown_time
from monitor.mention import utcnow
from monitor.store import notifications as store
from monitor.store.filters import rows_with_watches
from monitor.store.schema import mentions
from monitor.team.notifications import APPROVAL, KINDS, MENTIONED, sentence

LIMIT = 100
SNIPPET_CHARS = 140
# What a notification's detail is, where it is worth a line (a send-back's reason is in its sentence).
DETAIL_LABELS = {MENTIONED: "Note", APPROVAL: "Why it waits"}


def _mark(engine: Engine, user_name: str, ids: list[int] | None) -> None:
    marked = store.mark_read(engine, user_name, ids, utcnow())
    if ids is None:
        say("success", f"Marked {marked:,} read." if marked else "Nothing was unread.")


def _choose(engine: Engine, user_name: str, kind: str, key: str) -> None:
    store.set_email_choice(engine, user_name, kind, bool(st.session_state.get(key)), utcnow())


def _snippets(engine: Engine, ids: set[int]) -> dict[int, str]:
    rows = rows_with_watches(engine, mentions.select().where(mentions.c.id.in_(sorted(ids))))
    return {
        int(row["id"]): f"{row['author'] or 'unknown author'} on {row['source']}: "
        + " ".join(str(row["text"] or "").split())
        for row in rows
    }


engine = context.engine()
user = context.run_user()
assert user is not None  # app.py stops the script for nobody
st.title("For you")
show()
if not context.config().users:
    st.info(
        "Nobody is told anything without users: add [[users]] to grumble.toml (each with an email to be "
        "mailed too), then restart Grumble."
    )
items = store.for_recipient(engine, user.name, limit=LIMIT)
unread = sum(1 for item in items if item.read_at is None)
count_col, all_col = st.columns([3, 1], vertical_alignment="center")
count_col.caption(f"{unread:,} unread · the newest {LIMIT} are listed" if items else "Nothing waits for you.")
all_col.button(
    "Mark all read",
    key="for-you-all-read",
    disabled=not unread,
    on_click=acting(_mark),
    args=(engine, user.name, None),
)
snippets = _snippets(engine, {item.mention_id for item in items}) if items else {}
for item in items:
    fresh = item.read_at is None
    with st.container(border=True, key=f"notice-{item.id}"):
        said = plain(sentence(item.kind, item.actor, item.detail), 300)
        st.markdown(f"{'**● ' + said + '**' if fresh else said} · {shown_time(item.created_at)}")
        if item.kind in DETAIL_LABELS and item.detail:
            st.caption(f"{DETAIL_LABELS[item.kind]}: {plain(item.detail, 500)}")
        st.caption(plain(snippets.get(item.mention_id, "The mention was deleted."), SNIPPET_CHARS))
        with st.container(horizontal=True, gap="small"):
            if st.button(
                "Open the mention", key=f"notice-open-{item.id}", type="primary" if fresh else "secondary"
            ):
                store.mark_read(engine, user.name, [item.id], utcnow())
                st.switch_page("views/mention.py", query_params={"id": str(item.mention_id)})
            if fresh:
                st.button(
                    "Mark read",
                    key=f"notice-read-{item.id}",
                    on_click=acting(_mark),
                    args=(engine, user.name, [item.id]),
                )

st.subheader("Email me when")
if not user.email:
    st.caption("You have no email address in grumble.toml ([[users]] email): these choices wait for one.")
with engine.connect() as connection:
    choices = store.email_choices(connection, user.name)
for kind, label in KINDS.items():
    key = f"notice-email-{kind}"
    st.checkbox(
        label,
        value=choices.get(kind, True),
        key=key,
        on_change=acting(_choose),
        args=(engine, user.name, kind, key),
    )
