"""Pieces several pages draw: a mention card with its actions. Untrusted text goes through safe.py."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from dashboard.context import current_user
from dashboard.safe import escape_markdown, plain, safe_link
from models.labels import LABELS
from monitor.respond.cases import triage
from monitor.store.cases import CaseBadge
from monitor.store.triage import relabel
from monitor.surface.inbox import MentionRow

PREVIEW_CHARS = 400
LABEL_COLORS = {"negative": "red", "neutral": "gray", "positive": "green"}


def _scores(row: MentionRow) -> str:
    if row.label is None:
        return "not scored yet"
    parts = [
        f"{name} {value or 0:.2f}"
        for name, value in (("neg", row.negative), ("neu", row.neutral), ("pos", row.positive))
    ]
    why = row.why()
    if why:
        return f"text: {row.text_label} (" + ", ".join(parts) + f") · {plain(why, 200)}"
    language = f" · language {plain(row.language)}" if row.language and row.language != "en" else ""
    return " · ".join(parts) + language


def headline(row: MentionRow, case: CaseBadge | None = None) -> str:
    """One Markdown line: label, source, author, reach, age, stars, and the case (overdue flagged).
    Author and assignee names are escaped."""
    color = LABEL_COLORS.get(row.label or "", "gray")
    flag = f" :orange-badge[uncertain · {plain(row.language or '?', 8)}]" if row.uncertain else ""
    reach = f" · {row.author_reach:,} followers" if row.author_reach else ""
    stars = f" · {row.stars}" if row.stars else ""
    case_part = ""
    if case is not None:
        assignee = f" → {plain(case.assignee, 40)}" if case.assignee else ""
        case_part = f" · case {case.status.replace('_', ' ')}{assignee}"
        if case.overdue:
            case_part = " · :red-badge[⏰ overdue]" + case_part
    return (
        f":{color}-badge[{row.label or 'unscored'}]{flag} **{plain(row.source_badge)}** · "
        f"{plain(row.author or 'unknown author', 60)}{reach} · {row.age()}{stars}"
        f" · priority {row.priority:.2g}{case_part}"
    )


def mention_text(row: MentionRow) -> None:
    if row.title and row.title.strip():
        st.markdown(f"**{escape_markdown(row.title.strip())}**")
    if len(row.text) <= PREVIEW_CHARS:
        st.markdown(escape_markdown(row.text) or "_(no text)_")
        return
    st.markdown(escape_markdown(row.text[:PREVIEW_CHARS]) + " …")
    with st.expander("Full text"):
        st.markdown(escape_markdown(row.text))


def _relabel_from_widget(engine: Engine, mention_id: int, widget_key: str, actor: str) -> None:
    relabel(engine, mention_id, st.session_state[widget_key], actor)


def actions(engine: Engine, row: MentionRow, key: str, details_link: bool) -> None:
    """Triage buttons for responders: handled, not relevant, and a label fix kept as feedback.

    Callbacks run before the rerun they cause, so the refreshed list already reflects the change."""
    user = current_user()
    handled, dismiss, label_col, link_col = st.columns([1, 1, 1.4, 1])
    if details_link:
        # Everyone who can read the inbox can open a mention's page; only the buttons need a role.
        link_col.page_link("views/mention.py", label="Details", query_params={"id": str(row.id)})
    if user is None or not user.can("responder"):
        return
    if row.triage == "open":
        handled.button(
            "✅ Handled",
            key=f"{key}-handled-{row.id}",
            on_click=triage,
            args=(engine, row.id, "handled", user.name),
        )
        dismiss.button(
            "🚫 Not relevant",
            key=f"{key}-dismiss-{row.id}",
            help="Spam, or not about us",
            on_click=triage,
            args=(engine, row.id, "dismissed", user.name),
        )
    else:
        handled.button(
            "↩️ Reopen",
            key=f"{key}-reopen-{row.id}",
            on_click=triage,
            args=(engine, row.id, "open", user.name),
        )
    if row.label is not None:
        widget_key = f"{key}-label-{row.id}"
        label_col.selectbox(
            "Label",
            LABELS,
            index=LABELS.index(row.label) if row.label in LABELS else 0,
            key=widget_key,
            label_visibility="collapsed",
            help="Correct the model: kept as feedback for retraining",
            on_change=_relabel_from_widget,
            args=(engine, row.id, widget_key, user.name),
        )


def card(
    engine: Engine,
    row: MentionRow,
    key: str,
    with_actions: bool = True,
    details_link: bool = True,
    case: CaseBadge | None = None,
) -> None:
    with st.container(border=True):
        st.markdown(headline(row, case))
        mention_text(row)
        link = safe_link(row.url)
        caption = _scores(row) + (f" · {plain(', '.join(row.watches))}" if row.watches else "")
        st.caption(caption)
        if link:
            st.link_button("Open the original ↗", link)
        if with_actions:
            actions(engine, row, key, details_link)
