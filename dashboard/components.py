"""Pieces several pages draw: a mention card with its actions. Untrusted text goes through safe.py."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from dashboard.context import acting, run_user
from dashboard.inbox_actions import PICK, mark_with_undo
from dashboard.safe import escape_markdown, plain, safe_link
from models.labels import LABELS
from monitor.auth.users import User, shown_name
from monitor.respond.history import status_words
from monitor.store.cases import CaseBadge
from monitor.store.triage import relabel
from monitor.surface.inbox import MentionRow

PREVIEW_CHARS = 400
CARD_TEXT_CHARS = 3_000  # the most of a text an inbox card sends (its "Full text")
LABEL_COLORS = {"negative": "red", "neutral": "gray", "positive": "green"}
# Marks the pointer's headline in words as well (a screen reader, a test); its row is highlighted by
# inbox_list.POINTER_STYLE. A plain triangle, not an emoji: no emoji font is needed to see it.
FOCUS = "▸ "
POINTER_KEY = "inbox-pointer"  # the container of the pointer's card or line (inbox_list.py styles it)


def _scores(row: MentionRow) -> str:
    """The model's reading in words; its probabilities are in the caption's tooltip."""
    if row.label is None:
        return "not scored yet"
    why = row.why()
    if why:
        return f"the text reads {row.text_tone()} · {plain(why, 200)}"
    language = f" · language {plain(row.language)}" if row.language and row.language != "en" else ""
    return f"the text reads {row.text_tone()}{language}"


def case_words(case: CaseBadge | None) -> str:
    if case is None:
        return ""
    assignee = f" → {plain(shown_name(case.assignee), 40)}" if case.assignee else ""
    words = f" · case {status_words(case.status)}{assignee}"
    return " · :red-badge[⏰ overdue]" + words if case.overdue else words


def headline(row: MentionRow, case: CaseBadge | None = None, focused: bool = False) -> str:
    """One Markdown line: label, source, author, reach, age, stars, and the case (overdue flagged).
    Author and assignee names are escaped. `focused`: the mention the keys act on."""
    color = LABEL_COLORS.get(row.label or "", "gray")
    flag = f" :orange-badge[uncertain · {plain(row.language or '?', 8)}]" if row.uncertain else ""
    reach = f" · {row.author_reach:,} followers" if row.author_reach else ""
    stars = f" · {row.stars}" if row.stars else ""
    case_part = case_words(case)
    return (
        f"{FOCUS if focused else ''}:{color}-badge[{row.label or 'unscored'}]{flag} "
        f"**{plain(row.source_badge)}** · "
        f"{plain(row.author or 'unknown author', 60)}{reach} · {row.age()}{stars}{case_part}"
    )


def mention_text(row: MentionRow) -> None:
    """The title (bold) and the text as one element: each element is a message the browser renders."""
    title = f"**{escape_markdown(row.title.strip())}**  \n" if row.title and row.title.strip() else ""
    if len(row.text) <= PREVIEW_CHARS:
        st.markdown(title + (escape_markdown(row.text) or "_(no text)_"))
        return
    st.markdown(title + escape_markdown(row.text[:PREVIEW_CHARS]) + " …")
    # An expander's content goes to the browser closed or open: a card sends at most CARD_TEXT_CHARS,
    # and the mention's own page has the rest (a 1 MB post once took 30 s to draw the inbox).
    with st.expander("Full text" if len(row.text) <= CARD_TEXT_CHARS else "More of the text"):
        if len(row.text) <= CARD_TEXT_CHARS:
            st.markdown(escape_markdown(row.text))
        else:
            st.markdown(
                escape_markdown(row.text[:CARD_TEXT_CHARS])
                + f" …  \n_{len(row.text) - CARD_TEXT_CHARS:,} more characters: "
                "open Details for the whole text._"
            )


def _relabel_from_widget(engine: Engine, mention_id: int, widget_key: str, actor: str) -> None:
    relabel(engine, mention_id, st.session_state[widget_key], actor)


def actions(
    engine: Engine, row: MentionRow, key: str, details_link: bool, user: User | None, selectable: bool
) -> None:
    """Triage buttons for responders: handled, not relevant (both undoable), and a label fix kept as
    feedback; with `selectable`, a box that adds the mention to the inbox's selection. Drawn into the
    card's one row of controls, before the link to the original.

    Callbacks run before the rerun they cause, so the refreshed list already reflects the change."""
    responder = user if user is not None and user.can("responder") else None
    if responder is not None and selectable:
        st.checkbox("Select", key=PICK.format(row.id), width="content")
    if responder is not None:
        _triage_buttons(engine, row, key, responder)
    if responder is not None and row.label is not None:
        widget_key = f"{key}-label-{row.id}"
        st.selectbox(
            "Label",
            LABELS,
            index=LABELS.index(row.label) if row.label in LABELS else 0,
            key=widget_key,
            label_visibility="collapsed",
            help="Correct the model: kept as feedback for retraining",
            on_change=_relabel_from_widget,
            args=(engine, row.id, widget_key, responder.name),
            width=130,
        )
    if details_link:
        # Everyone who can read the inbox can open a mention's page; only the buttons need a role.
        st.page_link("views/mention.py", label="Details", query_params={"id": str(row.id)}, width="content")


def _triage_buttons(engine: Engine, row: MentionRow, key: str, user: User) -> None:
    triage_args = (engine, [row.id])
    if row.triage == "open":
        st.button(
            "✅ Handled",
            key=f"{key}-handled-{row.id}",
            on_click=acting(mark_with_undo),
            args=(*triage_args, "handled", user.name),
        )
        st.button(
            "🚫 Not relevant",
            key=f"{key}-dismiss-{row.id}",
            help="Spam, or not about us",
            on_click=acting(mark_with_undo),
            args=(*triage_args, "dismissed", user.name),
        )
    else:
        st.button(
            "↩️ Reopen",
            key=f"{key}-reopen-{row.id}",
            on_click=acting(mark_with_undo),
            args=(*triage_args, "open", user.name),
        )


def card(
    engine: Engine,
    row: MentionRow,
    key: str,
    with_actions: bool = True,
    details_link: bool = True,
    case: CaseBadge | None = None,
    user: User | None = None,
    focused: bool = False,
    selectable: bool = False,
) -> None:
    """`user`: the signed-in user when the caller has it (resolving it can be a query)."""
    with st.container(border=True, key=POINTER_KEY if focused else None):
        st.markdown(headline(row, case, focused), help=row.priority_breakdown())
        if details_link:
            mention_text(row)
        else:  # the mention's own page: all of the stored text
            st.markdown(
                (f"**{escape_markdown(row.title.strip())}**  \n" if row.title and row.title.strip() else "")
                + (escape_markdown(row.text) or "_(no text)_")
            )
        link = safe_link(row.url)
        caption = _scores(row) + (f" · {plain(', '.join(row.watches))}" if row.watches else "")
        caption += f" · topic: {plain(' / '.join(row.topics))}" if row.topics else ""
        # The priority in words; its number and the model's probabilities stay in the tooltip.
        st.caption(
            f"Priority: {plain(row.priority_reasons())} · {caption}",
            help=f"{row.priority_breakdown()} Model's reading of the text: {row.score_numbers()}.",
        )
        if not link and not with_actions:
            return
        # One row of controls (a horizontal container, not columns: five column blocks a card were a
        # fifth of the inbox page's messages to the browser).
        with st.container(horizontal=True, gap="small", vertical_alignment="center"):
            if with_actions:
                actions(engine, row, key, details_link, user or run_user(), selectable)
            if link:
                st.link_button("Open the original ↗", link)
