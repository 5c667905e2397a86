"""Triage rows: a mention's state (open, handled, dismissed), a person's label, and the audit trail of
every change (`mention_events`). Marking a mention moves its case too, so the state is changed only
through monitor/respond/transitions.py; a label is changed here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from models.labels import LABELS
from monitor.errors import GrumbleError
from monitor.mention import utcnow
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


def mention_triage(connection: Connection, mention_id: int) -> str:
    """The mention's triage state; TriageError when there is no such mention."""
    triage: str = _current(connection, mention_id).triage
    return triage


def write_triage(connection: Connection, mention_id: int, state: str, actor: str, at: datetime) -> None:
    """The row write only: monitor/respond/transitions.py decides when, and records the event, so the
    mention and its case never disagree."""
    connection.execute(
        update(mentions)
        .where(mentions.c.id == mention_id)
        .values(triage=state, triaged_at=at, triaged_by=actor)
    )


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
