"""Topics: why each watch's unhappy customers are unhappy. Each complaint topic with its size, share,
this week against the last, and its most representative mentions; responders rename, merge and split
them (the edits survive refits). The rules are monitor/topics/'s."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import context
from dashboard.safe import plain
from models.embedding import Embedder
from monitor.auth.users import shown_name
from monitor.errors import TopicError
from monitor.mention import Watch
from monitor.topics import edits
from monitor.topics.report import summaries

RESULT_KEY = "topics_page_result"


@st.cache_resource(show_spinner=False)
def _embedder() -> Embedder:
    from monitor.topics.embed import load_embedder

    return load_embedder()


def _edit(kind: str, topic_id: int, value: object, actor: str) -> None:
    engine = context.engine()
    try:
        if kind == "rename":
            edits.rename(engine, topic_id, str(value), actor)
            said = f"topic {topic_id} renamed to {value}"
        elif kind == "merge":
            into = int(str(value))
            edits.merge(engine, topic_id, into, actor)
            said = f"topic {topic_id} merged into topic {into}"
        else:
            said = f"topic {topic_id} split; the new half is topic {edits.split(engine, topic_id, actor)}"
    except TopicError as exc:
        said = f"Topic not changed: {exc}."
    st.session_state[RESULT_KEY] = said


def _refit(watch: Watch) -> None:
    from monitor.topics.refit import refit_watch

    st.session_state[RESULT_KEY] = refit_watch(context.engine(), _embedder(), watch).describe()


st.title("Topics")
config = context.config()
user = context.run_user()
can_edit = user is not None and user.can("responder")
if not config.topics.enabled:
    st.info("Complaint topics are off: set `[topics] enabled = true` in grumble.toml and restart.")
    st.stop()
watch_name = st.selectbox("Watch", config.watch_names, key="t_watch")
watch = config.watch(watch_name)
st.caption(
    "Negative and 1-2 star mentions grouped by what they are about; every one is in a topic. A new "
    "mention joins its nearest topic as it is scored; topics are fitted again every "
    f"{config.topics.refit_every_hours:g} h, keeping ids, names and your edits. Seed topics: "
    f"{', '.join(watch.topics) or 'none'} (`topics = [...]` on the watch)."
)
result = st.session_state.pop(RESULT_KEY, None)
if result:
    st.info(plain(result))
found = summaries(context.engine(), watch_name, examples=3)
if can_edit:
    st.button("Fit topics now", key="t_refit", on_click=context.acting(_refit), args=(watch,), disabled=False)
if not found:
    st.info(f"No topics for {plain(watch_name)} yet: they are fitted once it has a dozen unhappy mentions.")
    st.stop()

st.dataframe(
    pd.DataFrame(
        [
            {
                "id": t.id,
                "topic": t.name,
                "mentions": t.size,
                "share": f"{t.share:.0%}",
                "last 7 days": t.this_period,
                "7 days before": t.last_period,
                "trend": t.trend,
                "words": t.auto_name,
                "named by": shown_name(t.named_by) if t.named_by else ("seed" if t.seed else "refit"),
            }
            for t in found
        ]
    ),
    hide_index=True,
    width="stretch",
)
for topic in found:
    with st.expander(f"{plain(topic.name)} · {topic.size} mentions"):
        for example in topic.examples:
            st.markdown(f"[open](/mention?id={int(example['id'])}) {plain(example['text'], 300)}")

if can_edit and user is not None:
    st.subheader("Edit")
    labels = {t.id: f"#{t.id} {t.name}" for t in found}
    chosen = st.selectbox("Topic", list(labels), format_func=lambda i: labels[i], key="t_topic")
    name = st.text_input("New name", key="t_name")
    st.button(
        "Rename",
        key="t_rename",
        disabled=not name.strip(),
        on_click=context.acting(_edit),
        args=("rename", chosen, name, user.name),
    )
    others = [i for i in labels if i != chosen]
    if others:
        into = st.selectbox("Merge into", others, format_func=lambda i: labels[i], key="t_into")
        st.button(
            "Merge", key="t_merge", on_click=context.acting(_edit), args=("merge", chosen, into, user.name)
        )
    st.button(
        "Split in two", key="t_split", on_click=context.acting(_edit), args=("split", chosen, 0, user.name)
    )
