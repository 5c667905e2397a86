"""Triage: mark handled, dismiss as not relevant, reassign a wrong label. Every change leaves an event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from models.labels import LABELS
from monitor.errors import GrumbleError
from monitor.mention import utcnow
from monitor.store.filters import TRIAGE_STATES
from monitor.store.schema import label_feedback, mention_events, mentions


class TriageError(GrumbleError):
    pass


@dataclass(frozen=True)
class MentionEvent:
    action: str
    before: str | None
    after: str | None
    note: str | None
    actor: str
    at: datetime


def _current(connection: Connection, mention_id: int) -> Any:
    row = connection.execute(
        select(mentions.c.triage, mentions.c.label, mentions.c.model_version).where(
            mentions.c.id == mention_id
        )
    ).first()
    if row is None:
        raise TriageError(f"no mention with id {mention_id}")
    return row


EVENT_VALUE_CHARS = 64  # mention_events.before/after


def short(value: object) -> str | None:
    """A value for mention_events.before/after: at most 64 characters."""
    if value is None or value == [] or value == ():
        return None
    text = ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
    return text if len(text) <= EVENT_VALUE_CHARS else text[: EVENT_VALUE_CHARS - 1] + "…"


def record_event(
    connection: Connection,
    mention_id: int,
    action: str,
    before: object,
    after: object,
    actor: str,
    at: datetime,
    note: str | None = None,
) -> None:
    connection.execute(
        mention_events.insert().values(
            mention_id=mention_id,
            action=action,
            before=short(before),
            after=short(after),
            note=note,
            actor=actor,
            at=at,
        )
    )


def set_triage(engine: Engine, mention_id: int, state: str, actor: str, note: str | None = None) -> None:
    """open -> handled or dismissed, or back to open. Setting the state it already has records nothing.
    (respond.triage also moves the mention's case along; the dashboard uses that.)"""
    with engine.begin() as connection:
        triage_in(connection, mention_id, state, actor, note)


def triage_in(
    connection: Connection, mention_id: int, state: str, actor: str, note: str | None = None
) -> str | None:
    """set_triage inside the caller's transaction; returns the state it replaced, None if unchanged."""
    if state not in TRIAGE_STATES:
        raise TriageError(f"unknown triage state {state!r}; expected one of {', '.join(TRIAGE_STATES)}")
    before: str = _current(connection, mention_id).triage
    if before == state:
        return None
    connection.execute(
        update(mentions)
        .where(mentions.c.id == mention_id)
        .values(triage=state, triaged_at=utcnow(), triaged_by=actor)
    )
    record_event(connection, mention_id, "triage", before, state, actor, utcnow(), note)
    return before


def relabel(engine: Engine, mention_id: int, label: str, actor: str) -> None:
    """A person's label replaces the model's, and is kept as feedback for retraining."""
    if label not in LABELS:
        raise TriageError(f"unknown label {label!r}; expected one of {', '.join(LABELS)}")
    with engine.begin() as connection:
        current = _current(connection, mention_id)
        if current.label == label:
            return
        connection.execute(
            label_feedback.insert().values(
                mention_id=mention_id,
                model_label=current.label,
                model_version=current.model_version,
                corrected_label=label,
                corrected_by=actor,
                corrected_at=utcnow(),
            )
        )
        connection.execute(update(mentions).where(mentions.c.id == mention_id).values(label=label))
        record_event(connection, mention_id, "relabel", current.label, label, actor, utcnow())


def history(engine: Engine, mention_id: int) -> list[MentionEvent]:
    query = (
        select(mention_events).where(mention_events.c.mention_id == mention_id).order_by(mention_events.c.id)
    )
    with engine.connect() as connection:
        return [
            MentionEvent(row.action, row.before, row.after, row.note, row.actor, row.at)
            for row in connection.execute(query)
        ]


def feedback(engine: Engine) -> list[dict[str, Any]]:
    """Every correction with its text: the retraining set people made."""
    query = (
        select(
            label_feedback.c.mention_id,
            mentions.c.text,
            mentions.c.title,
            label_feedback.c.model_label,
            label_feedback.c.model_version,
            label_feedback.c.corrected_label,
            label_feedback.c.corrected_by,
            label_feedback.c.corrected_at,
        )
        .join(mentions, mentions.c.id == label_feedback.c.mention_id)
        .order_by(label_feedback.c.id)
    )
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]
