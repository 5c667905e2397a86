"""Export of the current view as CSV: prepared on request, since a large view takes a moment to write."""

from __future__ import annotations

import io
from itertools import islice

import streamlit as st
from sqlalchemy import Engine

from monitor.store.filters import MentionFilter
from monitor.store.mentions import iter_all
from monitor.surface.export import write_csv

EXPORT_LIMIT = 100_000


def view_as_csv(engine: Engine, where: MentionFilter, limit: int = EXPORT_LIMIT) -> str:
    buffer = io.StringIO()
    write_csv(islice(iter_all(engine, where), limit), buffer)
    return buffer.getvalue()


def export_button(engine: Engine, where: MentionFilter) -> None:
    with st.sidebar:
        st.divider()
        # The prepared file belongs to the filters it was made with; changing them hides it.
        view = repr(where.__class__(**{**where.__dict__, "since": None}))
        if st.button("Prepare CSV of this view", key="export_prepare"):
            st.session_state["export_csv"] = (view, view_as_csv(engine, where))
        prepared_view, data = st.session_state.get("export_csv", (None, None))
        if data is not None and prepared_view == view:
            st.download_button(
                "Download CSV", data, file_name="grumble-mentions.csv", mime="text/csv", key="export_dl"
            )
