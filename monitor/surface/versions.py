"""A mention's edits and deletion in words, for the mention page and the case panel. No Streamlit here."""

from __future__ import annotations

from datetime import datetime

from monitor.store.edits import SOURCE_ACTOR
from monitor.store.triage import MentionEvent
from monitor.store.versions import MentionVersion
from monitor.surface import render

QUOTE_CHARS = 200  # of an earlier text: enough to recognise it; the full text is in mention_versions


def _quoted(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= QUOTE_CHARS else flat[: QUOTE_CHARS - 1] + "…"


def version_line(version: MentionVersion, now: datetime) -> str:
    """ "edited 2 h ago: was 4 stars: 'great app'": when the edit came, and what it replaced."""
    was = []
    if version.rating is not None:
        was.append(f"{version.rating:g} star{'' if version.rating == 1 else 's'}")
    if version.title:
        was.append(f"titled '{_quoted(version.title)}'")
    was.append(f"'{_quoted(version.text)}'")
    return f"edited {render.age(version.replaced_at, now)}: was {': '.join(was)}"


def deleted_line(shown_date: str) -> str:
    """What a deleted post's page and case say; `shown_date`: when, as the reader reads times."""
    return f"The author deleted this post on {shown_date}: it has left the inbox, and it cannot be answered."


def reopened_because(events: list[MentionEvent]) -> str | None:
    """Why the case is open again, when the last change to its status was an edit reopening it
    ("the customer edited the review after our reply: rating 4 -> 1"); else None."""
    statuses = [event for event in events if event.action == "status"]
    if not statuses or statuses[-1].actor != SOURCE_ACTOR:
        return None
    return statuses[-1].note
